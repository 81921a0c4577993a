/* hret submit: build an evaluation request (from flags or a JSON/YAML file), validate it with the
 * worker's parser, produce it to the requests topic as a CloudEvent, and optionally follow the
 * results topic until every run of the request has reported. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_buf.h"
#include "hret_cli.h"
#include "hret_cloudevents.h"
#include "hret_config.h"
#include "hret_json.h"
#include "hret_kafka.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_request.h"
#include "hret_yaml_json.h"

#define WHO "hret submit"
#define PRODUCE_TIMEOUT_MS 30000
#define BROKER_CHECK_MS 8000 /* a broker that has not answered by then is not there */
#define MAX_RESULT_BYTES (4 << 20)

struct submit_args {
    const char *config, *kafka, *file, *dataset, *method, *run_name, *split, *request_id;
    struct hret_strlist models, subsets;
    long long limit, num_few_shot, timeout_s;
    long long paths;         /* --self-consistency; 0 = off */
    double language_penalty; /* --language-penalty; < 0 = off */
    bool language_gate;      /* --language-gate */
    bool wait, dry_run, flags;
    cJSON *meta, *params;
    cJSON *dataset_params; /* --dataset-param, --template, --few-shot-template */
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"kafka", required_argument, NULL, 'k'},
    {"dataset", required_argument, NULL, 'd'},
    {"model", required_argument, NULL, 'm'},
    {"method", required_argument, NULL, 'e'},
    {"param", required_argument, NULL, 'p'},
    {"run-name", required_argument, NULL, 'N'},
    {"meta", required_argument, NULL, 'M'},
    {"subset", required_argument, NULL, 's'},
    {"split", required_argument, NULL, 'S'},
    {"limit", required_argument, NULL, 'l'},
    {"num-few-shot", required_argument, NULL, 'K'},
    {"request-id", required_argument, NULL, 'i'},
    {"wait", no_argument, NULL, 'w'},
    {"timeout", required_argument, NULL, 't'},
    {"dry-run", no_argument, NULL, 'n'},
    {"dataset-param", required_argument, NULL, 0x100},
    {"template", required_argument, NULL, 0x101},
    {"few-shot-template", required_argument, NULL, 0x102},
    {"self-consistency", required_argument, NULL, 0x103},
    {"language-penalty", required_argument, NULL, 0x104},
    {"language-gate", no_argument, NULL, 0x105},
    {NULL, 0, NULL, 0},
};

static bool parse_count(const char *flag, const char *text, long long max, long long *out)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 0 || v > max) {
        fprintf(stderr, WHO ": --%s expects an integer between 0 and %lld, got '%s'\n", flag, max,
                text);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_fraction(const char *flag, const char *text, double *out)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !(v >= 0 && v <= 1)) {
        fprintf(stderr, WHO ": --%s expects a number between 0 and 1, got '%s'\n", flag, text);
        return false;
    }
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, struct submit_args *a)
{
    a->limit = a->num_few_shot = -1;
    a->language_penalty = -1;
    a->timeout_s = 600;
    a->meta = cJSON_CreateObject();
    a->params = cJSON_CreateObject();
    a->dataset_params = cJSON_CreateObject();
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:d:m:w", long_options, NULL)) != -1;) {
        bool ok = true;
        a->flags |= strchr("dmepNMsSlK", c) != NULL;
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'k':
            a->kafka = optarg;
            break;
        case 'd':
            a->dataset = optarg;
            break;
        case 'm':
            hret_strlist_split(&a->models, optarg);
            break;
        case 'e':
            a->method = optarg;
            break;
        case 'p':
            ok = hret_cli_add_param(a->params, optarg, WHO);
            break;
        case 0x100:
            ok = hret_cli_add_param(a->dataset_params, optarg, WHO);
            break;
        case 0x101:
            ok = hret_cli_add_file_param(a->dataset_params, "base_prompt_template", optarg, WHO);
            break;
        case 0x102:
            ok = hret_cli_add_file_param(a->dataset_params, "few_shot_example_template", optarg,
                                         WHO);
            break;
        case 0x103:
            ok = parse_count("self-consistency", optarg, 64, &a->paths);
            a->flags = true;
            break;
        case 0x104:
            ok = parse_fraction("language-penalty", optarg, &a->language_penalty);
            a->flags = true;
            break;
        case 0x105:
            a->language_gate = a->flags = true;
            break;
        case 'N':
            a->run_name = optarg;
            break;
        case 'M':
            ok = hret_cli_add_param(a->meta, optarg, WHO);
            break;
        case 's':
            hret_strlist_split(&a->subsets, optarg);
            break;
        case 'S':
            a->split = optarg;
            break;
        case 'l':
            ok = parse_count("limit", optarg, 1LL << 40, &a->limit);
            break;
        case 'K':
            ok = parse_count("num-few-shot", optarg, 64, &a->num_few_shot);
            break;
        case 'i':
            a->request_id = optarg;
            break;
        case 'w':
            a->wait = true;
            break;
        case 't':
            ok = parse_count("timeout", optarg, 86400 * 7, &a->timeout_s);
            break;
        case 'n':
            a->dry_run = true;
            break;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            return HRET_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        a->file = argv[optind++];
    }
    if (optind < argc || (a->file != NULL && a->flags)) {
        fprintf(stderr, WHO ": give a request FILE or --dataset/--model/... flags, not both (see "
                            "hret help submit)\n");
        return HRET_EXIT_USAGE;
    }
    return HRET_EXIT_OK;
}

/* ---- building and sending ------------------------------------------------------------------ */

/* The evaluation section from --method, --param and the scoring-mode flags, if any. */
static void add_evaluation(const struct submit_args *a, cJSON *o)
{
    cJSON *ev = cJSON_CreateObject();
    if (a->method != NULL) {
        cJSON_AddStringToObject(ev, "method", a->method);
    }
    if (a->params->child != NULL) {
        cJSON_AddItemToObject(ev, "params", cJSON_Duplicate(a->params, 1));
    }
    if (a->paths > 0) { /* the parser refuses 1 with the JSON path */
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(ev, "self_consistency"), "paths",
                                (double)a->paths);
    }
    if (a->language_penalty >= 0) {
        cJSON_AddNumberToObject(ev, "language_penalty", a->language_penalty);
    }
    if (a->language_gate) {
        cJSON_AddBoolToObject(ev, "language_gate", true);
    }
    if (ev->child != NULL) {
        cJSON_AddItemToObject(o, "evaluation", ev);
    } else {
        cJSON_Delete(ev);
    }
}

/* The request text from FILE (JSON, or YAML by extension) or from the flags; caller owns. */
static char *request_text(const struct submit_args *a, size_t max, size_t *len,
                          struct hret_err *err)
{
    if (a->file != NULL) {
        struct hret_buf b;
        hret_buf_init(&b, max * 4);
        if (hret_buf_append_file(&b, a->file, err) != HRET_OK) {
            hret_buf_fini(&b);
            return NULL;
        }
        size_t n = strlen(a->file);
        bool yaml = (n > 5 && strcmp(a->file + n - 5, ".yaml") == 0) ||
                    (n > 4 && strcmp(a->file + n - 4, ".yml") == 0);
        char *text = yaml ? hret_yaml_to_json(a->file, b.data ? b.data : "", b.len,
                                              HRET_REQUEST_MAX_DEPTH, err)
                          : hret_buf_take(&b);
        hret_buf_fini(&b);
        *len = text ? strlen(text) : 0;
        return text;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *target = o; /* without --dataset, dataset keys go to the top (the default dataset) */
    if (a->dataset != NULL) {
        target = cJSON_CreateObject();
        cJSON_AddStringToObject(target, "name", a->dataset);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "datasets"), target);
    }
    if (a->subsets.count > 0) {
        cJSON *s = cJSON_AddArrayToObject(target, "subset");
        for (size_t i = 0; i < a->subsets.count; i++) {
            cJSON_AddItemToArray(s, cJSON_CreateString(a->subsets.items[i]));
        }
    }
    if (a->split != NULL) {
        cJSON_AddStringToObject(target, "split", a->split);
    }
    if (a->limit >= 0) {
        cJSON_AddNumberToObject(target, "limit", (double)a->limit);
    }
    if (a->dataset_params->child != NULL) { /* PipelineRunner style at the top */
        cJSON_AddItemToObject(target, target == o ? "dataset_params" : "params",
                              cJSON_Duplicate(a->dataset_params, 1));
    }
    if (a->models.count > 0) {
        cJSON *ms = cJSON_AddArrayToObject(o, "models");
        for (size_t i = 0; i < a->models.count; i++) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "name", a->models.items[i]);
            cJSON_AddItemToArray(ms, m);
        }
    }
    add_evaluation(a, o);
    if (a->run_name != NULL) {
        cJSON_AddStringToObject(o, "run_name", a->run_name);
    }
    if (a->num_few_shot >= 0) {
        cJSON_AddNumberToObject(o, "num_few_shot", (double)a->num_few_shot);
    }
    if (a->meta->child != NULL) {
        cJSON_AddItemToObject(o, "metadata", cJSON_Duplicate(a->meta, 1));
    }
    if (a->request_id != NULL) {
        cJSON_AddStringToObject(o, "request_id", a->request_id);
    }
    char *text = hret_json_print(o);
    cJSON_Delete(o);
    *len = strlen(text);
    return text;
}

static struct hret_kafka_conf kafka_conf(const struct hret_config *cfg)
{
    return (struct hret_kafka_conf){
        .brokers = cfg->kafka.brokers,
        .client_id = "hret-submit",
        .properties = &cfg->kafka.properties,
        .sasl_password_env = cfg->kafka.sasl_password_env,
    };
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One result event: prints it when it belongs to id; counts runs and failures. Returns true
 * when the request cannot report more (it was rejected before any run existed). */
static bool on_result(const rd_kafka_message_t *m, const char *id, size_t *runs, size_t *failed)
{
    cJSON *data = hret_json_parse(m->payload, m->len, MAX_RESULT_BYTES, NULL);
    const char *rid = cJSON_GetStringValue(cJSON_GetObjectItem(data, "request_id"));
    bool over = false;
    if (rid != NULL && strcmp(rid, id) == 0) {
        rd_kafka_headers_t *h = NULL;
        char type[128] = "";
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            hret_cloudevent_header(h, "ce_type", type, sizeof type);
        }
        const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(data, "status"));
        const char *run = cJSON_GetStringValue(cJSON_GetObjectItem(data, "run_id"));
        const char *model =
            cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(data, "model"), "name"));
        const char *ds =
            cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(data, "dataset"), "name"));
        const cJSON *acc = cJSON_GetObjectItem(cJSON_GetObjectItem(data, "metrics"), "accuracy");
        if (strcmp(type, "hret.run.completed.v1") == 0 ||
            (status && !strcmp(status, "completed"))) {
            (*runs)++;
            printf("completed run=%s model=%s dataset=%s", run ? run : "?", model ? model : "?",
                   ds ? ds : "?");
            if (cJSON_IsNumber(acc)) {
                printf(" accuracy=%.4f", acc->valuedouble);
            }
            printf("\n");
        } else if (strcmp(type, "hret.run.failed.v1") == 0 ||
                   (status && !strcmp(status, "failed"))) {
            const cJSON *e = cJSON_GetObjectItem(data, "error");
            const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
            (*runs)++;
            (*failed)++;
            printf("failed run=%s model=%s dataset=%s error=%s\n", run ? run : "-",
                   model ? model : "-", ds ? ds : "-", msg ? msg : "?");
            over = run == NULL; /* rejected as a whole */
        } else if (strcmp(type, "hret.comparison.completed.v1") == 0) {
            char *text = hret_json_print(data);
            printf("comparison %s\n", text);
            free(text);
        }
        fflush(stdout);
    }
    cJSON_Delete(data);
    return over;
}

/* Follows the results topic until every run of req reported or the deadline passed. */
static int follow(struct hret_kafka_consumer *c, const struct hret_request *req, long long end)
{
    size_t want = req->n_models * req->n_datasets, runs = 0, failed = 0;
    bool over = false;
    while (!over && runs < want && now_ms() < end) {
        rd_kafka_message_t *m = NULL;
        struct hret_err err = HRET_ERR_INIT;
        enum hret_result r = hret_kafka_consumer_poll(c, 200, &m, &err);
        if (r == HRET_OK) {
            over = on_result(m, req->request_id, &runs, &failed);
            rd_kafka_message_destroy(m);
        } else if (r != HRET_AGAIN && !hret_result_is_retriable(r)) {
            fprintf(stderr, WHO ": following results: %s\n", err.msg);
            return HRET_EXIT_FAILURE;
        }
    }
    if (failed > 0) {
        fprintf(stderr, WHO ": %zu of %zu run(s) failed\n", failed, want);
        return HRET_EXIT_FAILURE;
    }
    if (runs < want) {
        fprintf(stderr, WHO ": timed out waiting for results (%zu of %zu run(s) reported)\n", runs,
                want);
        return HRET_EXIT_TIMEOUT;
    }
    return HRET_EXIT_OK;
}

/* Asks the brokers for metadata before anything is sent: a broker nobody listens on is one
 * clear line after BROKER_CHECK_MS instead of a send that waits out PRODUCE_TIMEOUT_MS amid
 * librdkafka's connection warnings (kept quiet meanwhile unless the log level is debug). */
static enum hret_result check_brokers(struct hret_kafka_producer *p, const struct hret_config *cfg,
                                      struct hret_err *err)
{
    bool quiet = cfg->log_level < HRET_LOG_DEBUG;
    if (quiet) {
        hret_log_setup(HRET_LOG_ERROR, (enum hret_log_format)cfg->log_format);
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e =
        rd_kafka_metadata(hret_kafka_producer_handle(p), 0, NULL, &md, BROKER_CHECK_MS);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return hret_err_set(err, HRET_E_UNAVAILABLE,
                            "cannot reach the Kafka broker %s within %d s (%s); is Kafka "
                            "running? (kafka.brokers, HRET_KAFKA or --kafka)",
                            cfg->kafka.brokers, BROKER_CHECK_MS / 1000, rd_kafka_err2str(e));
    }
    rd_kafka_metadata_destroy(md);
    if (quiet) {
        hret_log_setup((enum hret_log_level)cfg->log_level, (enum hret_log_format)cfg->log_format);
    }
    return HRET_OK;
}

static int send_request(const struct hret_config *cfg, const struct hret_request *req,
                        const char *json, const struct submit_args *a)
{
    struct hret_kafka_conf kc = kafka_conf(cfg);
    struct hret_kafka_consumer *c = NULL;
    struct hret_kafka_producer *p = NULL;
    struct hret_err err = HRET_ERR_INIT;
    int rc = HRET_EXIT_FAILURE;
    long long end = now_ms() + a->timeout_s * 1000;
    struct hret_cloudevent ev;
    /* librdkafka's connection warnings stay quiet until a broker answered (unless debugging):
     * an unreachable broker is the one line check_brokers writes */
    bool quiet = cfg->log_level < HRET_LOG_DEBUG;
    if (quiet) {
        hret_log_setup(HRET_LOG_ERROR, (enum hret_log_format)cfg->log_format);
    }
    if (hret_kafka_producer_new(&kc, &p, &err) != HRET_OK ||
        check_brokers(p, cfg, &err) != HRET_OK ||
        hret_cloudevent_init(&ev, HRET_REQUEST_EVENT_TYPE, "/hret/submit", &err) != HRET_OK) {
        goto cleanup;
    }
    if (quiet) {
        hret_log_setup((enum hret_log_level)cfg->log_level, (enum hret_log_format)cfg->log_format);
    }
    /* the results' end offsets are taken before producing, so no result can be missed */
    if (a->wait && (hret_kafka_consumer_new(&kc, HRET_KAFKA_START_LATEST, &c, &err) != HRET_OK ||
                    hret_kafka_consumer_assign_latest(c, cfg->kafka.results_topic,
                                                      PRODUCE_TIMEOUT_MS, &err) != HRET_OK)) {
        goto cleanup;
    }
    struct hret_kafka_message m = {
        .topic = cfg->kafka.requests_topic,
        .key = req->request_id,
        .key_len = strlen(req->request_id),
        .value = json,
        .value_len = strlen(json),
        .event = &ev,
    };
    struct hret_kafka_delivery d;
    if (hret_kafka_produce_wait(p, &m, PRODUCE_TIMEOUT_MS, &d, &err) != HRET_OK) {
        goto cleanup;
    }
    hret_log_info("submit", req->request_id, "sent to %s[%d]@%lld ce_id=%s", m.topic,
                  (int)d.partition, (long long)d.offset, ev.id);
    printf("%s\n", req->request_id);
    fflush(stdout);
    rc = a->wait ? follow(c, req, end) : HRET_EXIT_OK;
cleanup:
    if (err.code != HRET_OK) {
        fprintf(stderr, WHO ": %s\n", err.msg);
        rc = err.code == HRET_E_CONFIG ? HRET_EXIT_USAGE : HRET_EXIT_FAILURE;
    }
    hret_kafka_producer_destroy(p);
    hret_kafka_consumer_destroy(c);
    return rc;
}

int hret_cmd_submit(int argc, char **argv)
{
    struct submit_args a = {0};
    struct hret_config cfg = {0};
    struct hret_strlist problems = {0};
    struct hret_request *req = NULL;
    char *text = NULL, *json = NULL;
    struct hret_err err = HRET_ERR_INIT;
    int rc = parse_args(argc, argv, &a);
    if (rc != HRET_EXIT_OK) {
        goto cleanup;
    }
    if (a.file == NULL && !a.flags) {
        fprintf(stderr, WHO ": nothing to submit: give a request FILE or --dataset/--model "
                            "(see hret help submit)\n");
        rc = HRET_EXIT_USAGE;
        goto cleanup;
    }
    rc = HRET_EXIT_USAGE;
    if (hret_config_load(&cfg, hret_config_locate(a.config), &problems, &err) != HRET_OK) {
        for (size_t i = 0; i < problems.count; i++) {
            fprintf(stderr, "%s\n", problems.items[i]);
        }
        goto cleanup;
    }
    hret_log_setup((enum hret_log_level)cfg.log_level, (enum hret_log_format)cfg.log_format);
    if (a.kafka != NULL) {
        free(cfg.kafka.brokers);
        cfg.kafka.brokers = hret_xstrdup(a.kafka);
    }
    size_t len = 0;
    text = request_text(&a, (size_t)cfg.kafka.max_message_bytes, &len, &err);
    char path[HRET_REQUEST_PATH_MAX];
    if (text == NULL) { /* the message names the file (and the position in a YAML file) */
        fprintf(stderr, WHO ": %s\n", err.msg);
        goto cleanup;
    }
    if (hret_request_parse(text, len, &cfg, &req, path, &err) != HRET_OK) {
        fprintf(stderr, WHO ": %s: %s\n", a.file ? a.file : "request", err.msg);
        goto cleanup;
    }
    if (req->request_id == NULL) {
        char id[37];
        if (hret_uuid4(id, &err) != HRET_OK) {
            fprintf(stderr, WHO ": %s\n", err.msg);
            rc = HRET_EXIT_FAILURE;
            goto cleanup;
        }
        hret_request_set_id(req, id);
    }
    cJSON *canonical = hret_request_to_json(req);
    json = hret_json_print(canonical);
    cJSON_Delete(canonical);
    if (strlen(json) > (size_t)cfg.kafka.max_message_bytes) {
        fprintf(stderr, WHO ": the normalised request is %zu bytes, over kafka.max_message_bytes\n",
                strlen(json));
        goto cleanup;
    }
    if (a.dry_run) {
        printf("%s\n", json);
        rc = HRET_EXIT_OK;
        goto cleanup;
    }
    rc = send_request(&cfg, req, json, &a);
cleanup:
    free(json);
    free(text);
    hret_request_destroy(req);
    hret_strlist_fini(&problems);
    hret_config_fini(&cfg);
    hret_strlist_fini(&a.models);
    hret_strlist_fini(&a.subsets);
    cJSON_Delete(a.meta);
    cJSON_Delete(a.params);
    cJSON_Delete(a.dataset_params);
    return rc;
}
