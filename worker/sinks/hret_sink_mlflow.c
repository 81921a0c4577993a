/* The MLflow sink: one MLflow run per hret run, through the tracking REST API (infra.md §1).
 * For each run event: the experiment (tracking.mlflow.experiment, else mlflow.experiment) is
 * fetched or created; a run is created with hret's tags; params (metadata flattened with dots,
 * the evaluation method and params) and metrics (hret_sink_metrics, at step metadata.epoch/step)
 * go in log-batch chunks within the server's limits; the event itself is uploaded as the
 * artifact hret_results.json through the artifacts proxy; the run ends FINISHED, or FAILED for
 * hret.run.failed.v1.
 *
 * Idempotent: bridge_state ("mlflow", run id) holds the MLflow run id and, in offsets, the phases
 * done ({"params":true,"metrics":true,"artifact":true,"status":true}); each phase is recorded as
 * soon as MLflow accepted it, so a redelivered event resumes where the last one stopped and a
 * finished run is left alone. The two crash windows are closed on MLflow's side: a run is looked
 * up by its hret.run_id tag before one is created, and metrics already in a run at this step are
 * not logged again (MLflow appends every metric point). Params and tags are derived only from the
 * event, so a replay sends the same values (MLflow refuses a changed param). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "hret_call.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_mlflow.h"
#include "hret_sink.h"

#define WHO "bridge mlflow"
#define SINK "mlflow"
#define TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_MS 5000
#define QUICK_RETRIES 2
#define MAX_RESPONSE_BYTES (8u << 20)
/* The limits every 2.x/3.x server accepts (infra.md §1.3; newer servers allow longer values). */
#define MAX_KEY_BYTES 250
#define MAX_PARAM_VALUE 500
#define MAX_TAG_VALUE 5000
#define PARAMS_PER_BATCH 100
#define METRICS_PER_BATCH 1000
#define MAX_FLATTEN_DEPTH 8
#define ARTIFACT_NAME "hret_results.json"

struct ml {
    struct hret_pg *pg;            /* borrowed from the role's store */
    const struct hret_config *cfg; /* borrowed from the role */
    char *base;                    /* tracking_uri without a trailing '/' */
    struct hret_call call;
    char *exp_name, *exp_id; /* the experiment resolved last: most runs share one */
};

/* One event on its way: what the phases share. */
struct delivery {
    struct ml *m;
    const struct hret_role_event *ev;
    const cJSON *d;
    const char *subject; /* run_id, else request_id */
    bool failed;         /* hret.run.failed.v1 */
    long long ts_ms;     /* the Kafka message's timestamp: the same on every redelivery */
    bool fresh;          /* the run was created by this delivery */
    struct hret_bridge_state st;
};

static const char *const ml_events[] = {"hret.run.completed.v1", "hret.run.failed.v1", NULL};

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && *v->valuestring != '\0' ? v->valuestring : NULL;
}

/* s cut to at most cap bytes on a UTF-8 character boundary (caller owns result). */
static char *cut(const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n <= cap) {
        return hret_xstrdup(s);
    }
    n = cap;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    return hret_xstrndup(s, n);
}

/* A key MLflow accepts (charset [/\w.\- ], at most 250 bytes, no path that normalises to
 * something else): other bytes become '_', and so do empty, "." and ".." path segments; '/'
 * only where slash is true (metric names "SUBSET/NAME"). Caller owns result. */
static char *mlflow_key(const char *raw, bool slash)
{
    char *k = cut(raw, MAX_KEY_BYTES - 1);
    for (unsigned char *p = (unsigned char *)k; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == ' ' ||
                  *p >= 0x80 || (*p == '/' && slash);
        *p = ok ? *p : '_';
    }
    struct hret_buf out;
    hret_buf_init(&out, 2 * MAX_KEY_BYTES);
    for (const char *seg = k;;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || strspn(seg, ".") == n) {
            hret_buf_append(&out, "_", 1, NULL);
        }
        hret_buf_append(&out, seg, n, NULL);
        if (seg[n] == '\0') {
            break;
        }
        hret_buf_append(&out, "/", 1, NULL);
        seg += n + 1;
    }
    free(k);
    char *key = cut(hret_buf_str(&out), MAX_KEY_BYTES);
    hret_buf_fini(&out);
    return key;
}

static void add_kv(cJSON *list, const char *key, const char *value, size_t cap)
{
    cJSON *kv = cJSON_CreateObject();
    char *v = cut(value, cap);
    cJSON_AddStringToObject(kv, "key", key);
    cJSON_AddStringToObject(kv, "value", v);
    cJSON_AddItemToArray(list, kv);
    free(v);
}

/* ---- calls ----------------------------------------------------------------------------------- */

/* One REST call with a raw body (nullable) of content type ctype (NULL: JSON); *out (nullable)
 * gets the parsed answer of a 2xx (caller owns). On failure err carries MLflow's error_code and
 * message, and code[] (nullable) the error_code alone, so that expected refusals
 * (RESOURCE_DOES_NOT_EXIST) can be told apart. */
static enum hret_result api_raw(struct ml *m, const char *method, const char *path,
                                const char *body, size_t body_len, const char *ctype, cJSON **out,
                                char code[64], struct hret_err *err)
{
    char *url = hret_xasprintf("%s%s", m->base, path);
    struct hret_call_request req = {
        .method = method, .url = url, .content_type = ctype, .body = body, .body_len = body_len};
    struct hret_call_response resp;
    struct hret_err cerr = HRET_ERR_INIT;
    enum hret_result r = hret_call_do(&m->call, &req, &resp, &cerr);
    int plen = (int)strcspn(path, "?");
    cJSON *doc = hret_json_parse(resp.body, resp.body_len, MAX_RESPONSE_BYTES, NULL);
    if (code != NULL) {
        code[0] = '\0';
    }
    if (r == HRET_OK && out != NULL && !cJSON_IsObject(doc)) { /* an upload answers "" */
        r = hret_err_set(err, HRET_E_PROTO, "MLflow %s %.*s: the answer is not a JSON object",
                         method, plen, path);
    } else if (r != HRET_OK) {
        char ec[64], msg[301];
        if (hret_mlflow_error(doc, ec, msg, sizeof msg)) {
            if (code != NULL) {
                snprintf(code, 64, "%s", ec);
            }
            hret_err_set(err, r, "MLflow %s %.*s: HTTP %ld %s: %s", method, plen, path, resp.status,
                         ec, msg);
        } else {
            hret_err_set(err, r, "MLflow %s %.*s: %s", method, plen, path, cerr.msg);
        }
    }
    if (r == HRET_OK && out != NULL) {
        *out = doc;
        doc = NULL;
    }
    cJSON_Delete(doc);
    hret_call_response_fini(&resp);
    free(url);
    return r;
}

/* api_raw with a JSON body (borrowed, nullable). */
static enum hret_result api(struct ml *m, const char *method, const char *path, const cJSON *body,
                            cJSON **out, char code[64], struct hret_err *err)
{
    char *text = body != NULL ? hret_json_print(body) : NULL;
    enum hret_result r =
        api_raw(m, method, path, text, text ? strlen(text) : 0, NULL, out, code, err);
    free(text);
    return r;
}

/* The experiment's id by name (GET); code[] gets MLflow's error_code on a refusal. */
static enum hret_result experiment_by_name(struct ml *m, const char *name, char **id, char code[64],
                                           struct hret_err *err)
{
    char *q = curl_easy_escape(NULL, name, 0);
    char *path = hret_xasprintf("/api/2.0/mlflow/experiments/get-by-name?experiment_name=%s", q);
    curl_free(q);
    cJSON *resp = NULL;
    enum hret_result r = api(m, "GET", path, NULL, &resp, code, err);
    if (r == HRET_OK) {
        r = hret_mlflow_experiment_id(resp, name, id, err);
    }
    cJSON_Delete(resp);
    free(path);
    return r;
}

/* The experiment's id by name, created when missing; a create that lost a race with another
 * bridge reads the winner's. The last one is remembered: most runs share one experiment. */
static enum hret_result experiment(struct ml *m, const char *name, char **id, struct hret_err *err)
{
    *id = NULL;
    if (m->exp_name != NULL && strcmp(m->exp_name, name) == 0) {
        *id = hret_xstrdup(m->exp_id);
        return HRET_OK;
    }
    char code[64];
    struct hret_err e = HRET_ERR_INIT;
    enum hret_result r = experiment_by_name(m, name, id, code, &e);
    if (r != HRET_OK && strcmp(code, "RESOURCE_DOES_NOT_EXIST") == 0) {
        hret_err_clear(&e);
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "name", name);
        cJSON *created = NULL;
        r = api(m, "POST", "/api/2.0/mlflow/experiments/create", req, &created, code, &e);
        if (r == HRET_OK && str(created, "experiment_id") == NULL) {
            r = hret_err_set(&e, HRET_E_PROTO, "MLflow experiments/create: no experiment_id");
        } else if (r == HRET_OK) {
            *id = hret_xstrdup(str(created, "experiment_id"));
            hret_log_info(WHO, NULL, "created MLflow experiment '%s' (id %s)", name, *id);
        } else if (strcmp(code, "RESOURCE_ALREADY_EXISTS") == 0) {
            hret_err_clear(&e);
            r = experiment_by_name(m, name, id, code, &e);
        }
        cJSON_Delete(req);
        cJSON_Delete(created);
    }
    if (r != HRET_OK) {
        return hret_err_set(err, e.code, "%s", e.msg);
    }
    free(m->exp_name);
    free(m->exp_id);
    m->exp_name = hret_xstrdup(name);
    m->exp_id = hret_xstrdup(*id);
    return HRET_OK;
}

/* ---- phases ---------------------------------------------------------------------------------- */

static enum hret_result save(struct delivery *dl, const char *phase, struct hret_err *err)
{
    if (phase != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(dl->st.offsets, phase);
        cJSON_AddTrueToObject(dl->st.offsets, phase);
    }
    return hret_bridge_state_put(dl->m->pg, SINK, dl->subject, &dl->st, err);
}

static bool phase_done(const struct delivery *dl, const char *phase)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(dl->st.offsets, phase));
}

static cJSON *run_tags(const struct delivery *dl)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(dl->d, "model");
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(dl->d, "dataset");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(dl->d, "error");
    const char *pairs[][2] = {
        {"hret.request_id", str(dl->d, "request_id")},
        {"hret.run_id", dl->subject},
        {"hret.model", str(model, "name")},
        {"hret.model_id", str(model, "model_id")},
        {"hret.dataset", str(ds, "name")},
        {"hret.dataset_split", str(ds, "split")},
        {"hret.dataset_version", str(ds, "version")},
        {"hret.version", HRET_VERSION},
        {"hret.error_class", str(error, "class")},
        {"hret.error", str(error, "message")},
    };
    cJSON *tags = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        if (pairs[i][1] != NULL) {
            add_kv(tags, pairs[i][0], pairs[i][1], MAX_TAG_VALUE);
        }
    }
    return tags;
}

/* Remembers the run: its id and where its artifacts go. */
static void adopt_run(struct delivery *dl, const cJSON *run)
{
    char *uri = NULL;
    free(dl->st.external_id);
    hret_mlflow_run_info(run, &dl->st.external_id, &uri);
    cJSON_DeleteItemFromObjectCaseSensitive(dl->st.offsets, "artifact_uri");
    cJSON_AddStringToObject(dl->st.offsets, "artifact_uri", uri);
    free(uri);
}

static char *run_name(const struct delivery *dl)
{
    const char *name = str(dl->d, "run_name");
    const char *model = str(cJSON_GetObjectItemCaseSensitive(dl->d, "model"), "name");
    const char *ds = str(cJSON_GetObjectItemCaseSensitive(dl->d, "dataset"), "name");
    if (name != NULL) { /* one run per model: the request's name alone would repeat */
        return model ? hret_xasprintf("%s/%s", name, model) : hret_xstrdup(name);
    }
    return hret_xasprintf("%s/%s", model ? model : dl->subject, ds ? ds : "run");
}

static cJSON *create_request(const struct delivery *dl, const char *exp_id)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "experiment_id", exp_id);
    char *name = run_name(dl);
    cJSON_AddStringToObject(req, "run_name", name);
    free(name);
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(dl->d, "duration_s");
    double start = (double)dl->ts_ms -
                   (cJSON_IsNumber(dur) && dur->valuedouble > 0 ? dur->valuedouble * 1000.0 : 0.0);
    cJSON_AddNumberToObject(req, "start_time", start > 0 ? (double)(long long)start : 0);
    cJSON_AddItemToObject(req, "tags", run_tags(dl));
    return req;
}

/* The run of this subject: the one tagged hret.run_id = subject (a crash came between its
 * creation and bridge_state), else a new one; recorded in bridge_state at once. */
static enum hret_result phase_run(struct delivery *dl, struct hret_err *err)
{
    struct ml *m = dl->m;
    const cJSON *block = NULL;
    hret_sink_wanted(m->cfg, SINK, dl->d, &block);
    const char *exp_name = str(block, "experiment");
    exp_name = exp_name ? exp_name : m->cfg->mlflow.experiment;
    if (exp_name == NULL || *exp_name == '\0') {
        return hret_err_set(err, HRET_E_CONFIG,
                            "no MLflow experiment: set mlflow.experiment in the config or "
                            "tracking.mlflow.experiment in the request");
    }
    char *exp_id = NULL;
    enum hret_result r = experiment(m, exp_name, &exp_id, err);
    if (r != HRET_OK) {
        return r;
    }
    cJSON *search = cJSON_CreateObject();
    cJSON_AddItemToObject(search, "experiment_ids",
                          cJSON_CreateStringArray((const char *const[]){exp_id}, 1));
    char *filter = hret_xasprintf("tags.\"hret.run_id\" = '%s'", dl->subject);
    cJSON_AddStringToObject(search, "filter", filter);
    cJSON_AddNumberToObject(search, "max_results", 1);
    cJSON *found = NULL, *created = NULL, *create = NULL;
    r = api(m, "POST", "/api/2.0/mlflow/runs/search", search, &found, NULL, err);
    const cJSON *run = hret_mlflow_search_first(found);
    if (r == HRET_OK && run == NULL) {
        create = create_request(dl, exp_id);
        r = api(m, "POST", "/api/2.0/mlflow/runs/create", create, &created, NULL, err);
        run = hret_mlflow_created_run(created);
        dl->fresh = true;
    }
    if (r == HRET_OK) {
        adopt_run(dl, run);
        r = dl->st.external_id != NULL
                ? save(dl, NULL, err)
                : hret_err_set(err, HRET_E_PROTO, "MLflow runs/create: the answer has no run_id");
    }
    if (r == HRET_OK) {
        hret_log_info(WHO, dl->subject, "%s MLflow run %s in experiment '%s' (id %s)",
                      dl->fresh ? "created" : "found", dl->st.external_id, exp_name, exp_id);
    }
    cJSON_Delete(search);
    cJSON_Delete(found);
    cJSON_Delete(create);
    cJSON_Delete(created);
    free(filter);
    free(exp_id);
    return r;
}

/* Adds v under the dotted key prefix to out (key -> string), objects flattened; the first value
 * of a key wins. */
static void flatten(cJSON *out, const char *prefix, const cJSON *v, int depth)
{
    if (cJSON_IsObject(v) && depth < MAX_FLATTEN_DEPTH) {
        const cJSON *it = NULL;
        cJSON_ArrayForEach(it, v)
        {
            char *k =
                prefix ? hret_xasprintf("%s.%s", prefix, it->string) : hret_xstrdup(it->string);
            flatten(out, k, it, depth + 1);
            free(k);
        }
        return;
    }
    if (prefix == NULL || v == NULL) {
        return;
    }
    char *key = mlflow_key(prefix, false);
    if (cJSON_GetObjectItemCaseSensitive(out, key) == NULL) {
        char *text = cJSON_IsString(v) ? hret_xstrdup(v->valuestring) : hret_json_print(v);
        char *value = cut(text, MAX_PARAM_VALUE);
        cJSON_AddStringToObject(out, key, value);
        free(value);
        free(text);
    }
    free(key);
}

static enum hret_result log_batch(struct delivery *dl, const char *field, cJSON *items,
                                  struct hret_err *err)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "run_id", dl->st.external_id);
    cJSON_AddItemToObject(req, field, items);
    enum hret_result r = api(dl->m, "POST", "/api/2.0/mlflow/runs/log-batch", req, NULL, NULL, err);
    cJSON_Delete(req);
    return r;
}

/* Params: the evaluation method and params, num_few_shot, then the request's metadata. */
static enum hret_result phase_params(struct delivery *dl, size_t *count, struct hret_err *err)
{
    cJSON *all = cJSON_CreateObject();
    flatten(all, "evaluation", cJSON_GetObjectItemCaseSensitive(dl->d, "evaluation"), 0);
    flatten(all, "num_few_shot", cJSON_GetObjectItemCaseSensitive(dl->d, "num_few_shot"), 0);
    flatten(all, NULL, cJSON_GetObjectItemCaseSensitive(dl->d, "metadata"), 0);
    enum hret_result r = HRET_OK;
    cJSON *batch = cJSON_CreateArray();
    const cJSON *it = all->child;
    while (r == HRET_OK && it != NULL) {
        add_kv(batch, it->string, it->valuestring, MAX_PARAM_VALUE);
        ++*count;
        it = it->next;
        if (cJSON_GetArraySize(batch) == PARAMS_PER_BATCH || (it == NULL)) {
            r = log_batch(dl, "params", batch, err);
            batch = cJSON_CreateArray();
        }
    }
    cJSON_Delete(batch);
    cJSON_Delete(all);
    return r == HRET_OK ? save(dl, "params", err) : r;
}

/* The metrics a run already has at this step (a crash came after log-batch and before
 * bridge_state): MLflow appends every point, so these are not sent again. */
static enum hret_result logged_metrics(struct delivery *dl, long long step, cJSON **have,
                                       struct hret_err *err)
{
    if (dl->fresh) {
        *have = cJSON_CreateObject();
        return HRET_OK;
    }
    char *path = hret_xasprintf("/api/2.0/mlflow/runs/get?run_id=%s", dl->st.external_id);
    cJSON *resp = NULL;
    enum hret_result r = api(dl->m, "GET", path, NULL, &resp, NULL, err);
    *have = hret_mlflow_metrics_at(resp, step);
    cJSON_Delete(resp);
    free(path);
    return r;
}

static enum hret_result phase_metrics(struct delivery *dl, size_t *count, struct hret_err *err)
{
    long long step = hret_sink_step(dl->d);
    cJSON *have = NULL;
    enum hret_result r = logged_metrics(dl, step, &have, err);
    cJSON *metrics = hret_sink_metrics(dl->d);
    cJSON *batch = cJSON_CreateArray();
    for (const cJSON *it = metrics->child; r == HRET_OK && it != NULL; it = it->next) {
        char *key = mlflow_key(it->string, true);
        if (cJSON_GetObjectItemCaseSensitive(have, key) == NULL) {
            cJSON_AddTrueToObject(have, key); /* two names that clean up alike: the first */
            cJSON *m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "key", key);
            cJSON_AddNumberToObject(m, "value", it->valuedouble);
            cJSON_AddNumberToObject(m, "timestamp", (double)dl->ts_ms);
            cJSON_AddNumberToObject(m, "step", (double)step);
            cJSON_AddItemToArray(batch, m);
            ++*count;
        }
        free(key);
        if (cJSON_GetArraySize(batch) == METRICS_PER_BATCH ||
            (it->next == NULL && cJSON_GetArraySize(batch) > 0)) {
            r = log_batch(dl, "metrics", batch, err);
            batch = cJSON_CreateArray();
        }
    }
    cJSON_Delete(batch);
    cJSON_Delete(metrics);
    cJSON_Delete(have);
    return r == HRET_OK ? save(dl, "metrics", err) : r;
}

/* The event, byte for byte as it travelled, as the run's artifact hret_results.json, through
 * the server's artifacts proxy (infra.md §1.7). A run whose artifact_uri is not proxied
 * (file:, s3:) cannot take it over REST: that is said once per run and the run goes on. */
static enum hret_result phase_artifact(struct delivery *dl, struct hret_err *err)
{
    static const char scheme[] = "mlflow-artifacts:";
    const char *uri = str(dl->st.offsets, "artifact_uri");
    if (uri == NULL || strncmp(uri, scheme, sizeof scheme - 1) != 0) {
        hret_log_warn(WHO, dl->subject,
                      "MLflow run %s stores artifacts at '%s', which the server does not proxy: "
                      "%s not uploaded (run mlflow server with --serve-artifacts, the default, "
                      "and a new experiment)",
                      dl->st.external_id, uri ? uri : "", ARTIFACT_NAME);
        return save(dl, "artifact", err);
    }
    const char *rest = uri + sizeof scheme - 1;
    if (strncmp(rest, "//", 2) == 0) { /* mlflow-artifacts://host:port/path: same server here */
        rest = strchr(rest + 2, '/') ? strchr(rest + 2, '/') : "";
    }
    rest += strspn(rest, "/");
    char *path = hret_xasprintf("/api/2.0/mlflow-artifacts/artifacts/%s/%s", rest, ARTIFACT_NAME);
    enum hret_result r = api_raw(dl->m, "PUT", path, dl->ev->body, dl->ev->body_len,
                                 "application/json", NULL, NULL, err);
    free(path);
    return r == HRET_OK ? save(dl, "artifact", err) : r;
}

static enum hret_result phase_status(struct delivery *dl, struct hret_err *err)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "run_id", dl->st.external_id);
    cJSON_AddStringToObject(req, "status", dl->failed ? "FAILED" : "FINISHED");
    cJSON_AddNumberToObject(req, "end_time", (double)dl->ts_ms);
    enum hret_result r = api(dl->m, "POST", "/api/2.0/mlflow/runs/update", req, NULL, NULL, err);
    cJSON_Delete(req);
    if (r != HRET_OK) {
        return r;
    }
    free(dl->st.state);
    dl->st.state = hret_xstrdup(dl->failed ? "failed" : "finished");
    free(dl->st.last_event_id);
    dl->st.last_event_id = hret_xstrdup(dl->ev->ce.id);
    return save(dl, "status", err);
}

/* ---- the sink -------------------------------------------------------------------------------- */

static enum hret_role_verdict deliver_ml(void *state, const struct hret_role_event *ev,
                                         struct hret_err *err)
{
    struct delivery dl = {.m = state, .ev = ev, .d = ev->data};
    dl.failed = strcmp(ev->ce.type, "hret.run.failed.v1") == 0;
    dl.subject = str(dl.d, "run_id");
    if (dl.subject == NULL && dl.failed) {
        hret_log_debug(WHO, ev->ce.id, "a request rejected before any run: nothing for MLflow");
        return HRET_ROLE_DONE;
    }
    static const char id_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789._:-";
    if (dl.subject == NULL || strspn(dl.subject, id_chars) != strlen(dl.subject)) {
        hret_err_set(err, HRET_E_PROTO, "%s without a valid run_id (schemas/events/%s.schema.json)",
                     ev->ce.type, ev->ce.type);
        return HRET_ROLE_REJECT;
    }
    dl.ts_ms = ev->time_ms > 0 ? ev->time_ms : (long long)time(NULL) * 1000;
    bool found = false;
    size_t nparams = 0, nmetrics = 0;
    enum hret_result r = hret_bridge_state_get(dl.m->pg, SINK, dl.subject, &dl.st, &found, err);
    if (r == HRET_OK && found && dl.st.state != NULL && strcmp(dl.st.state, "open") != 0) {
        hret_log_debug(WHO, dl.subject, "MLflow run %s is %s already: nothing to do",
                       dl.st.external_id ? dl.st.external_id : "?", dl.st.state);
        hret_bridge_state_fini(&dl.st);
        return HRET_ROLE_DONE;
    }
    if (r == HRET_OK && dl.st.external_id == NULL) {
        r = phase_run(&dl, err);
    }
    if (r == HRET_OK && !phase_done(&dl, "params")) {
        r = phase_params(&dl, &nparams, err);
    }
    if (r == HRET_OK && !phase_done(&dl, "metrics")) {
        r = phase_metrics(&dl, &nmetrics, err);
    }
    if (r == HRET_OK && !phase_done(&dl, "artifact")) {
        r = phase_artifact(&dl, err);
    }
    if (r == HRET_OK) {
        r = phase_status(&dl, err);
    }
    if (r == HRET_OK) {
        hret_log_info(WHO, dl.subject, "MLflow run %s %s: %zu params, %zu metrics at step %lld",
                      dl.st.external_id, dl.failed ? "FAILED" : "FINISHED", nparams, nmetrics,
                      hret_sink_step(dl.d));
    }
    hret_bridge_state_fini(&dl.st);
    return r == HRET_OK                  ? HRET_ROLE_DONE
           : hret_result_is_retriable(r) ? HRET_ROLE_RETRY
                                         : HRET_ROLE_REJECT;
}

static void close_ml(void *state)
{
    struct ml *m = state;
    if (m == NULL) {
        return;
    }
    hret_call_close(&m->call);
    free(m->base);
    free(m->exp_name);
    free(m->exp_id);
    free(m);
}

static enum hret_result open_ml(struct hret_role *r, void **state, struct hret_err *err)
{
    const struct hret_mlflow_config *c = &r->cfg.mlflow;
    if (c->tracking_uri == NULL || *c->tracking_uri == '\0') {
        return hret_err_set(err, HRET_E_CONFIG,
                            "mlflow.tracking_uri is empty: set it to the MLflow server "
                            "(http://host:5000)");
    }
    const char *token = c->token_env != NULL && *c->token_env != '\0' ? c->token_env : NULL;
    if (token != NULL && (getenv(token) == NULL || *getenv(token) == '\0')) {
        return hret_err_set(err, HRET_E_CONFIG,
                            "mlflow.token_env names %s, which is not set: export the MLflow "
                            "token in it, or remove token_env for a server without auth",
                            token);
    }
    struct ml *m = hret_xcalloc(1, sizeof *m);
    m->pg = hret_store_pg(r->store);
    m->cfg = &r->cfg;
    m->base = hret_xstrdup(c->tracking_uri);
    for (size_t n = strlen(m->base); n > 0 && m->base[n - 1] == '/'; n--) {
        m->base[n - 1] = '\0';
    }
    struct hret_call_limits lim = {
        .name = SINK,
        .timeout_ms = TIMEOUT_MS,
        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
        .max_retries = QUICK_RETRIES,
        .max_response_bytes = MAX_RESPONSE_BYTES,
        .auth = token ? HRET_CALL_AUTH_BEARER : HRET_CALL_AUTH_NONE,
        .secret_env = token,
    };
    enum hret_result res = hret_call_open(&m->call, &lim, err);
    if (res != HRET_OK) {
        close_ml(m);
        return res;
    }
    /* never the URI: it can carry credentials */
    hret_log_info(WHO, NULL, "forwarding runs to MLflow (default experiment '%s'%s%s)",
                  c->experiment ? c->experiment : "", token ? ", bearer token from $" : "",
                  token ? token : "");
    *state = m;
    return HRET_OK;
}

const struct hret_sink hret_sink_mlflow = {
    .name = SINK,
    .events = ml_events,
    .open = open_ml,
    .deliver = deliver_ml,
    .close = close_ml,
};
