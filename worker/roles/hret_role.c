/* The long-running roles' shared scaffolding (see hret_role.h). */
#include "hret_role.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hret_exit.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_ops.h"

#define SHUTDOWN_DEADLINE_S 15
#define POLL_MS 200
#define DLQ_TIMEOUT_MS 30000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000

volatile sig_atomic_t hret_role_stop;

/* The shutdown took too long (a broker, database or sink that does not answer): leave without
 * the final commit. Nothing is lost: uncommitted offsets are redelivered, effects idempotent. */
static void on_deadline(int sig)
{
    (void)sig;
    static const char msg[] = "hret: shutdown deadline passed; exiting without the final "
                              "commit\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(HRET_EXIT_FAILURE);
}

static void on_signal(int sig)
{
    if (hret_role_stop) {
        on_deadline(sig);
    }
    hret_role_stop = 1;
    hret_ops_stopping();
    alarm(SHUTDOWN_DEADLINE_S);
}

void hret_role_sleep_ms(long ms)
{
    for (long left = ms; left > 0 && !hret_role_stop; left -= 100) {
        long step = left < 100 ? left : 100;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
    }
}

struct role_args {
    const char *config, *kafka, *db, *group, *extra;
};

static int parse_args(const char *who, const char *help_topic, const char *extra_name, int argc,
                      char **argv, struct role_args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"kafka", required_argument, NULL, 'k'},
        {"db", required_argument, NULL, 'D'},
        {"group", required_argument, NULL, 'g'},
        {NULL, 0, NULL, 0},
    };
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:", opts, NULL)) != -1;) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'k':
            a->kafka = optarg;
            break;
        case 'D':
            a->db = optarg;
            break;
        case 'g':
            a->group = optarg;
            break;
        default:
            return HRET_EXIT_USAGE;
        }
    }
    if (extra_name != NULL) {
        if (optind >= argc) {
            fprintf(stderr, "%s: which %s? (see hret help %s)\n", who, extra_name, help_topic);
            return HRET_EXIT_USAGE;
        }
        a->extra = argv[optind++];
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (see hret help %s)\n", who, argv[optind],
                help_topic);
        return HRET_EXIT_USAGE;
    }
    return HRET_EXIT_OK;
}

static int load_config(struct hret_role *r, const char *who, const char *path)
{
    struct hret_strlist problems = {0};
    struct hret_err err = HRET_ERR_INIT;
    int rc = HRET_EXIT_OK;
    if (hret_config_load(&r->cfg, hret_config_locate(path), &problems, &err) != HRET_OK) {
        for (size_t i = 0; i < problems.count; i++) {
            fprintf(stderr, "%s\n", problems.items[i]);
        }
        fprintf(stderr, "%s: fix the configuration (hret config check) and retry\n", who);
        rc = HRET_EXIT_USAGE;
    }
    hret_strlist_fini(&problems);
    return rc;
}

static struct hret_kafka_conf kafka_conf(const struct hret_role *r, const char *group_id,
                                         const char *client_id)
{
    return (struct hret_kafka_conf){
        .brokers = r->cfg.kafka.brokers,
        .group_id = group_id,
        .client_id = client_id,
        .properties = &r->cfg.kafka.properties,
        .sasl_password_env = r->cfg.kafka.sasl_password_env,
    };
}

/* host:pid:nonce. Containers on the host network share the hostname and often the pid (1, or
 * the same few): the random nonce tells their processes apart in leases and logs. */
static void set_id(struct hret_role *r)
{
    char host[128] = "host";
    gethostname(host, sizeof host - 1);
    uint32_t nonce = 0;
    if (getrandom(&nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce) {
        struct timespec ts; /* no entropy yet (early boot): the clock still differs */
        clock_gettime(CLOCK_REALTIME, &ts);
        nonce = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^ (uint32_t)getpid();
    }
    snprintf(r->id, sizeof r->id, "%s:%ld:%08x", host, (long)getpid(), (unsigned)nonce);
}

int hret_role_open(struct hret_role *r, const char *name, const char *help_topic,
                   const char *extra_name, int argc, char **argv)
{
    char who[64];
    snprintf(who, sizeof who, "hret %s", help_topic);
    *r = (struct hret_role){.name = name};
    struct role_args a = {0};
    int rc = parse_args(who, help_topic, extra_name, argc, argv, &a);
    if (rc != HRET_EXIT_OK || (rc = load_config(r, who, a.config)) != HRET_EXIT_OK) {
        return rc;
    }
    hret_log_setup((enum hret_log_level)r->cfg.log_level, (enum hret_log_format)r->cfg.log_format);
    if (a.kafka != NULL) {
        free(r->cfg.kafka.brokers);
        r->cfg.kafka.brokers = hret_xstrdup(a.kafka);
    }
    r->extra = a.extra;
    r->group = a.group;
    r->db = a.db ? a.db : r->cfg.postgres.conninfo;
    if (r->db == NULL || *r->db == '\0') {
        fprintf(stderr, "%s: no database: pass --db CONNINFO, set HRET_PG or postgres.conninfo\n",
                who);
        return HRET_EXIT_USAGE;
    }
    set_id(r);

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_deadline;
    sigaction(SIGALRM, &sa, NULL);

    char client[96];
    snprintf(client, sizeof client, "hret-%s", name);
    for (char *p = client; *p; p++) {
        *p = *p == ' ' ? '-' : *p;
    }
    struct hret_kafka_conf kc = kafka_conf(r, NULL, client);
    struct hret_err err = HRET_ERR_INIT;
    /* the server first: /healthz answers (and /readyz says not ready) while the rest connects */
    if (hret_ops_start(r->cfg.http.listen, r->cfg.http.stats_interval_s, name, &err) != HRET_OK) {
        hret_log_error(name, r->id, "%s", err.msg); /* observability never stops the work */
        hret_err_clear(&err);
    }
    if (hret_store_open(r->db, r->cfg.postgres.password_env, true, &r->store, &err) != HRET_OK ||
        hret_kafka_producer_new(&kc, &r->producer, &err) != HRET_OK) {
        fprintf(stderr, "%s: %s\n", who, err.msg);
        return err.code == HRET_E_CONFIG ? HRET_EXIT_USAGE : HRET_EXIT_FAILURE;
    }
    hret_ops_pg(true);
    return HRET_EXIT_OK;
}

void hret_role_close(struct hret_role *r)
{
    hret_ops_stop();
    hret_kafka_producer_destroy(r->producer);
    hret_store_destroy(r->store);
    hret_config_fini(&r->cfg);
    *r = (struct hret_role){0};
}

/* ---- the event loop -------------------------------------------------------------------------- */

/* Parses m into ev; false (err set) when it is not a CloudEvent with a JSON object body. */
static bool parse_event(const struct hret_role *r, const rd_kafka_message_t *m,
                        struct hret_role_event *ev, cJSON **data, struct hret_err *err)
{
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    *ev = (struct hret_role_event){.body = m->payload,
                                   .body_len = m->len,
                                   .time_ms = ts > 0 ? (long long)ts : 0,
                                   .topic = rd_kafka_topic_name(m->rkt)};
    if (m->key_len > 0 && m->key_len < sizeof ev->key) {
        memcpy(ev->key, m->key, m->key_len);
    }
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        hret_err_set(err, HRET_E_PROTO, "not a CloudEvent: the message has no ce_* headers");
        return false;
    }
    if (hret_cloudevent_from_headers(h, &ev->ce, err) != HRET_OK) {
        return false;
    }
    *data = hret_json_parse(m->payload, m->len, (size_t)r->cfg.kafka.max_message_bytes, err);
    if (*data == NULL) {
        return false;
    }
    if (!cJSON_IsObject(*data)) {
        hret_err_set(err, HRET_E_PROTO, "the event body is not a JSON object");
        return false;
    }
    ev->data = *data;
    return true;
}

/* One message until it is handled, dead-lettered or the role stops; true when its offset may be
 * stored. */
static bool handle(struct hret_role *r, const struct hret_role_loop *loop,
                   const rd_kafka_message_t *m)
{
    struct hret_role_event ev;
    cJSON *data = NULL;
    struct hret_err err = HRET_ERR_INIT;
    enum hret_role_verdict v = HRET_ROLE_REJECT;
    if (parse_event(r, m, &ev, &data, &err)) {
        long backoff = BACKOFF_FIRST_MS;
        while ((v = loop->handle(loop->user, &ev, &err)) == HRET_ROLE_RETRY) {
            hret_ops_event("retry");
            hret_log_warn(r->name, ev.ce.id, "will retry in %ld ms: %s", backoff, err.msg);
            hret_role_sleep_ms(backoff);
            if (hret_role_stop) {
                cJSON_Delete(data);
                return false; /* not stored: redelivered to this group later */
            }
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            hret_err_clear(&err);
        }
    }
    cJSON_Delete(data);
    if (v == HRET_ROLE_DONE) {
        hret_ops_event("done");
        return true;
    }
    hret_log_warn(r->name, NULL, "dead-lettering %s[%d]@%lld: %s", rd_kafka_topic_name(m->rkt),
                  (int)m->partition, (long long)m->offset, err.msg);
    struct hret_err derr = HRET_ERR_INIT;
    while (hret_kafka_dlq_send(r->producer, m, loop->dlq_topic, err.msg, "", "rejected",
                               DLQ_TIMEOUT_MS, &derr) != HRET_OK) {
        hret_log_warn(r->name, NULL, "dead-letter: %s", derr.msg);
        hret_role_sleep_ms(BACKOFF_FIRST_MS);
        if (hret_role_stop) {
            return false;
        }
        hret_err_clear(&derr);
    }
    hret_ops_event("rejected");
    return true;
}

int hret_role_follow(struct hret_role *r, const struct hret_role_loop *loop)
{
    const char *group = r->group ? r->group : loop->group_id;
    struct hret_kafka_conf kc = kafka_conf(r, group, group);
    struct hret_kafka_consumer *c = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_kafka_consumer_new(&kc, HRET_KAFKA_START_EARLIEST, &c, &err) != HRET_OK ||
        hret_kafka_consumer_subscribe(c, loop->topics, loop->topic_count, &err) != HRET_OK) {
        fprintf(stderr, "hret %s: %s\n", r->name, err.msg);
        hret_kafka_consumer_destroy(c);
        return err.code == HRET_E_CONFIG ? HRET_EXIT_USAGE : HRET_EXIT_FAILURE;
    }
    hret_log_info(r->name, r->id, "following %s as group %s", loop->topics[0], group);
    int rc = HRET_EXIT_OK;
    time_t last_tick = 0;
    while (!hret_role_stop) {
        rd_kafka_message_t *m = NULL;
        hret_err_clear(&err);
        enum hret_result res = hret_kafka_consumer_poll(c, POLL_MS, &m, &err);
        if (res == HRET_OK) {
            hret_ops_kafka(true);
            const char *topic = rd_kafka_topic_name(m->rkt);
            if (handle(r, loop, m) &&
                hret_kafka_consumer_done(c, topic, m->partition, m->offset, &err) != HRET_OK) {
                hret_log_warn(r->name, NULL, "store offset %s[%d]@%lld: %s", topic,
                              (int)m->partition, (long long)m->offset, err.msg);
            }
            rd_kafka_message_destroy(m);
        } else if (res == HRET_E_FATAL) {
            hret_log_error(r->name, NULL, "consumer: %s", err.msg);
            rc = HRET_EXIT_FAILURE;
            break;
        } else if (res != HRET_AGAIN) {
            hret_log_warn(r->name, NULL, "consumer: %s", err.msg);
        }
        hret_ops_tick(hret_store_pg(r->store), c, r->producer);
        time_t now = time(NULL);
        if (loop->tick != NULL && now != last_tick) {
            last_tick = now;
            loop->tick(loop->user);
        }
    }
    hret_log_info(r->name, r->id, "stopping: committing offsets and leaving the group");
    if (hret_kafka_consumer_commit(c, &err) != HRET_OK) {
        hret_log_warn(r->name, NULL, "final commit: %s", err.msg);
    }
    hret_kafka_consumer_destroy(c);
    return rc;
}
