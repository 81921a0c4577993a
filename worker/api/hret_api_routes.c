/* The routes of `hret api` (see hret_api_routes.h). */
#include "hret_api_routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_api_token.h"
#include "hret_cloudevents.h"
#include "hret_compare.h"
#include "hret_hash.h"
#include "hret_json.h"
#include "hret_report.h"
#include "hret_mem.h"
#include "hret_request.h"
#include "hret_store_query.h"

#define DB_WAIT_MS 10000
#define RUNS_LIMIT_DEFAULT 100
#define RUNS_LIMIT_MAX 1000
#define SAMPLES_LIMIT_DEFAULT 100
#define SAMPLES_LIMIT_MAX 1000
#define IDEMPOTENCY_KEY_MAX 255
#define REPORT_RUNS_MAX 8
#define REPORT_WRONG_SAMPLES 20

typedef void route_fn(const struct hret_api_ctx *ctx, struct hret_store *st,
                      struct hret_api_call *call, struct hret_api_reply *reply);

struct hret_api_route {
    const char *method;
    const char *pattern; /* '*' is one path segment: the {id} */
    unsigned scope;
    bool db; /* the handler needs a database connection */
    route_fn *fn;
};

void hret_api_reply_error(struct hret_api_reply *reply, unsigned status, const char *code,
                          const char *message)
{
    cJSON_Delete(reply->json);
    reply->status = status;
    reply->json = cJSON_CreateObject();
    cJSON_AddStringToObject(reply->json, "error", code);
    cJSON_AddStringToObject(reply->json, "message", message);
}

/* A store failure: 503 when it may pass, 400 for bad input, 500 otherwise. */
static void reply_store_error(struct hret_api_reply *reply, const struct hret_err *err)
{
    if (hret_result_is_retriable(err->code)) {
        hret_api_reply_error(reply, 503, "unavailable", err->msg);
    } else if (err->code == HRET_E_INVAL) {
        hret_api_reply_error(reply, 400, "invalid_argument", err->msg);
    } else {
        hret_api_reply_error(reply, 500, "internal",
                             "the database refused the query (see the log)");
    }
}

/* A query argument as a count in [min, max]; def when absent; false (400 set) when bad. */
static bool arg_count(struct hret_api_call *call, struct hret_api_reply *reply, const char *key,
                      long def, long min, long max, long *out)
{
    const char *v = call->arg(call->conn, key);
    *out = def;
    if (v == NULL) {
        return true;
    }
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < min || n > max) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: expected an integer from %ld to %ld", key, min, max);
        hret_api_reply_error(reply, 400, "invalid_argument", msg);
        return false;
    }
    *out = (long)n;
    return true;
}

/* A text query argument, NULL when absent; false (400 set) when present but empty or long. */
static bool arg_text(struct hret_api_call *call, struct hret_api_reply *reply, const char *key,
                     bool required, const char **out)
{
    *out = call->arg(call->conn, key);
    if (*out == NULL && !required) {
        return true;
    }
    if (*out == NULL || **out == '\0' || strlen(*out) > 256) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: %s", key,
                 *out == NULL ? "required" : "expected 1 to 256 characters");
        hret_api_reply_error(reply, 400, "invalid_argument", msg);
        return false;
    }
    return true;
}

/* ---- POST /v1/requests ----------------------------------------------------------------------- */

static bool key_valid(const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < n; i++) {
        if (key[i] < 0x21 || key[i] > 0x7e) {
            return false;
        }
    }
    return n >= 1 && n <= IDEMPOTENCY_KEY_MAX;
}

static void submit(const struct hret_api_ctx *ctx, struct hret_store *st,
                   struct hret_api_call *call, struct hret_api_reply *reply)
{
    struct hret_request *req = NULL;
    struct hret_err err = HRET_ERR_INIT;
    char path[HRET_REQUEST_PATH_MAX] = "";
    if (call->idempotency_key != NULL && !key_valid(call->idempotency_key)) {
        hret_api_reply_error(reply, 400, "invalid_argument",
                             "Idempotency-Key: expected 1 to 255 visible ASCII characters");
        return;
    }
    if (hret_request_parse(call->body ? call->body : "", call->body_len, ctx->cfg, &req, path,
                           &err) != HRET_OK) {
        hret_api_reply_error(reply, 400, "invalid_request", err.msg);
        cJSON_AddStringToObject(reply->json, "path", path);
        return;
    }
    /* the hash of the request as normalised, before an id is chosen: a retry hashes the same */
    cJSON *canonical = hret_request_to_json(req);
    char *text = hret_json_print(canonical), hash[65], id[37];
    hret_hash_sha256_hex(text, strlen(text), hash);
    free(text);
    cJSON_Delete(canonical);
    if (req->request_id == NULL && hret_uuid4(id, &err) == HRET_OK) {
        hret_request_set_id(req, id);
    }
    cJSON *spec = hret_request_to_json(req);
    char *spec_text = hret_json_print(spec);
    char accepted[HRET_API_ID_MAX + 1] = "";
    struct hret_api_submit sub = {req->request_id,
                                  call->token_name,
                                  call->idempotency_key,
                                  hash,
                                  ctx->cfg->kafka.requests_topic,
                                  spec};
    if (err.code != HRET_OK) {
        hret_api_reply_error(reply, 500, "internal", err.msg);
    } else if (strlen(spec_text) > (size_t)ctx->cfg->kafka.max_message_bytes) {
        hret_api_reply_error(reply, 413, "too_large",
                             "the normalised request is over kafka.max_message_bytes");
    } else if (hret_api_db_submit(st, &sub, accepted, sizeof accepted, &reply->replayed, &err) !=
               HRET_OK) {
        if (err.code == HRET_E_CONFLICT) {
            hret_api_reply_error(reply, 409, "conflict", err.msg);
        } else {
            reply_store_error(reply, &err);
        }
    } else {
        reply->status = 202;
        reply->json = cJSON_CreateObject();
        cJSON_AddStringToObject(reply->json, "request_id", accepted);
        cJSON_AddStringToObject(reply->json, "status", "accepted");
        snprintf(reply->note, sizeof reply->note, "request=%s%s", accepted,
                 reply->replayed ? " replayed=true" : "");
    }
    free(spec_text);
    cJSON_Delete(spec);
    hret_request_destroy(req);
}

/* ---- GET /v1/requests/{id}, its events ------------------------------------------------------- */

static void request_get(const struct hret_api_ctx *ctx, struct hret_store *st,
                        struct hret_api_call *call, struct hret_api_reply *reply)
{
    (void)ctx;
    struct hret_err err = HRET_ERR_INIT;
    cJSON *req = NULL;
    snprintf(reply->note, sizeof reply->note, "request=%s", call->id);
    if (hret_api_db_request(st, call->id, &req, &err) != HRET_OK) {
        reply_store_error(reply, &err);
    } else if (req == NULL) {
        hret_api_reply_error(reply, 404, "not_found", "no such request");
    } else {
        reply->status = 200;
        reply->json = req;
    }
}

static void request_events(const struct hret_api_ctx *ctx, struct hret_store *st,
                           struct hret_api_call *call, struct hret_api_reply *reply)
{
    request_get(ctx, st, call, reply);
    if (reply->status != 200) {
        return;
    }
    cJSON_Delete(reply->json);
    reply->json = NULL;
    struct hret_api_stream_options opt = {
        .db = ctx->db,
        .topic = ctx->cfg->kafka.results_topic,
        .request_id = call->id,
        .last_event_id = call->last_event_id,
        .max_s = ctx->cfg->api.events_max_s,
        .stopping = ctx->stopping,
    };
    reply->stream = hret_api_stream_new(&opt);
}

/* ---- runs --------------------------------------------------------------------------------- */

static void runs_list(const struct hret_api_ctx *ctx, struct hret_store *st,
                      struct hret_api_call *call, struct hret_api_reply *reply)
{
    (void)ctx;
    struct hret_store_run_filter f = {0};
    if (!arg_text(call, reply, "model", false, &f.model) ||
        !arg_text(call, reply, "dataset", false, &f.dataset) ||
        !arg_text(call, reply, "status", false, &f.status) ||
        !arg_text(call, reply, "since", false, &f.since) ||
        !arg_count(call, reply, "limit", RUNS_LIMIT_DEFAULT, 1, RUNS_LIMIT_MAX, &f.limit)) {
        return;
    }
    struct hret_store_run_row *rows = NULL;
    size_t n = 0;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_runs_list(st, &f, &rows, &n, &err) != HRET_OK) {
        reply_store_error(reply, &err);
        return;
    }
    reply->status = 200;
    reply->json = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(reply->json, "runs");
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(arr, hret_store_run_row_json(&rows[i]));
    }
    hret_store_run_rows_free(rows, n);
}

static void free_samples(struct hret_sample *samples, struct hret_outcome *outcomes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hret_sample_fini(&samples[i]);
        hret_outcome_fini(&outcomes[i]);
    }
    free(samples);
    free(outcomes);
}

/* HRET's results JSON of a stored run with one page of its samples. */
static cJSON *results_json(const struct hret_store_run_row *r, const struct hret_sample *samples,
                           const struct hret_outcome *outcomes, size_t n, long offset, long limit)
{
    struct hret_results_meta meta;
    hret_store_run_results_meta(r, &meta);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "run_metadata", hret_results_run_metadata(&meta));
    cJSON *metrics = r->metrics ? cJSON_Duplicate(r->metrics, true) : cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "metrics", metrics);
    cJSON *result = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "results"), result);
    cJSON_AddItemToObject(result, "metrics", cJSON_Duplicate(metrics, true));
    cJSON *arr = cJSON_AddArrayToObject(result, "samples");
    long long last = -1;
    for (size_t i = 0; i < n; i++) {
        if (outcomes[i].done) {
            cJSON_AddItemToArray(arr, hret_results_sample(&samples[i], &outcomes[i]));
        }
        last = (long long)samples[i].idx;
    }
    cJSON_AddItemToObject(result, "info",
                          r->info ? cJSON_Duplicate(r->info, true) : cJSON_CreateObject());
    cJSON_AddItemToObject(doc, "run", hret_store_run_row_json(r));
    cJSON *page = cJSON_AddObjectToObject(doc, "samples_page");
    cJSON_AddNumberToObject(page, "offset", (double)offset);
    cJSON_AddNumberToObject(page, "limit", (double)limit);
    cJSON_AddNumberToObject(page, "count", (double)cJSON_GetArraySize(arr));
    cJSON_AddItemToObject(page, "next_offset",
                          (long)n == limit ? cJSON_CreateNumber((double)(last + 1))
                                           : cJSON_CreateNull());
    return doc;
}

static void run_get(const struct hret_api_ctx *ctx, struct hret_store *st,
                    struct hret_api_call *call, struct hret_api_reply *reply)
{
    (void)ctx;
    long offset = 0, limit = 0;
    if (!arg_count(call, reply, "offset", 0, 0, 2000000000L, &offset) ||
        !arg_count(call, reply, "limit", SAMPLES_LIMIT_DEFAULT, 0, SAMPLES_LIMIT_MAX, &limit)) {
        return;
    }
    snprintf(reply->note, sizeof reply->note, "run=%s", call->id);
    struct hret_store_run_row r = {0};
    struct hret_sample *samples = NULL;
    struct hret_outcome *outcomes = NULL;
    size_t n = 0;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_run_find(st, call->id, &r, &err) != HRET_OK) {
        if (err.code == HRET_E_INVAL) {
            hret_api_reply_error(reply, 404, "not_found", err.msg);
        } else {
            reply_store_error(reply, &err);
        }
    } else if (limit > 0 && hret_store_samples_page(st, r.run_id, offset, limit, &samples,
                                                    &outcomes, &n, &err) != HRET_OK) {
        reply_store_error(reply, &err);
    } else {
        reply->status = 200;
        reply->json = results_json(&r, samples, outcomes, n, offset, limit);
    }
    free_samples(samples, outcomes, n);
    hret_store_run_row_fini(&r);
}

/* ---- metrics and comparisons ------------------------------------------------------------- */

static void metrics_history(const struct hret_api_ctx *ctx, struct hret_store *st,
                            struct hret_api_call *call, struct hret_api_reply *reply)
{
    (void)ctx;
    struct hret_store_metric_query q = {0};
    if (!arg_text(call, reply, "metric", true, &q.metric) ||
        !arg_text(call, reply, "model", false, &q.model) ||
        !arg_text(call, reply, "dataset", false, &q.dataset) ||
        !arg_text(call, reply, "subset", false, &q.subset)) {
        return;
    }
    struct hret_store_metric_point *p = NULL;
    size_t n = 0;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_metric_points(st, &q, &p, &n, &err) != HRET_OK) {
        reply_store_error(reply, &err);
        return;
    }
    reply->status = 200;
    reply->json = cJSON_CreateObject();
    cJSON_AddStringToObject(reply->json, "metric", q.metric);
    cJSON_AddStringToObject(reply->json, "subset", q.subset ? q.subset : "");
    cJSON *arr = cJSON_AddArrayToObject(reply->json, "points");
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(arr, hret_store_metric_point_json(&p[i], q.metric, q.subset));
    }
    hret_store_metric_points_free(p, n);
}

static void compare(const struct hret_api_ctx *ctx, struct hret_store *st,
                    struct hret_api_call *call, struct hret_api_reply *reply)
{
    (void)ctx;
    const char *ids[2];
    if (!arg_text(call, reply, "a", true, &ids[0]) || !arg_text(call, reply, "b", true, &ids[1])) {
        return;
    }
    snprintf(reply->note, sizeof reply->note, "a=%.64s b=%.64s", ids[0], ids[1]);
    struct hret_compare_run runs[2];
    struct hret_err err = HRET_ERR_INIT;
    struct hret_compare *c = NULL;
    for (int i = 0; i < 2; i++) {
        hret_compare_run_init(&runs[i], ids[i]);
    }
    for (int i = 0; i < 2 && err.code == HRET_OK; i++) {
        if (hret_store_samples_compare_run(st, ids[i], &runs[i], &err) == HRET_OK &&
            runs[i].count == 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "no stored run with samples has the id '%.64s'", ids[i]);
            hret_api_reply_error(reply, 404, "not_found", msg);
            err.code = HRET_E_INVAL;
        }
    }
    struct hret_compare_options opt = HRET_COMPARE_OPTIONS_DEFAULT;
    if (reply->status == 0 && err.code != HRET_OK) {
        reply_store_error(reply, &err);
    } else if (reply->status == 0 &&
               hret_compare_runs(&runs[0], &runs[1], &opt, &c, &err) != HRET_OK) {
        hret_api_reply_error(reply, 422, "not_comparable", err.msg);
    } else if (reply->status == 0) {
        reply->status = 200;
        reply->json = hret_compare_json(c);
    }
    hret_compare_destroy(c);
    hret_compare_run_fini(&runs[0]);
    hret_compare_run_fini(&runs[1]);
}

/* ---- GET /v1/report ------------------------------------------------------------------------ */

/* The results document of stored run ref with every sample into *doc; 404 set when none. */
static bool report_doc(struct hret_store *st, const char *ref, struct hret_api_reply *reply,
                       cJSON **doc)
{
    struct hret_store_run_row r = {0};
    struct hret_sample *samples = NULL;
    struct hret_outcome *outcomes = NULL;
    size_t n = 0;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_run_find(st, ref, &r, &err) != HRET_OK) {
        if (err.code == HRET_E_INVAL) {
            hret_api_reply_error(reply, 404, "not_found", err.msg);
        } else {
            reply_store_error(reply, &err);
        }
    } else if (hret_store_samples_load(st, r.run_id, &samples, &outcomes, &n, &err) != HRET_OK) {
        reply_store_error(reply, &err);
    } else {
        *doc = results_json(&r, samples, outcomes, n, 0, (long)n + 1);
    }
    free_samples(samples, outcomes, n);
    hret_store_run_row_fini(&r);
    return *doc != NULL;
}

/* hret report's page of refs (1 to REPORT_RUNS_MAX): the first run, and each other compared
 * with it. */
static void report_page(struct hret_store *st, const struct hret_strlist *refs,
                        struct hret_api_reply *reply)
{
    cJSON *docs[REPORT_RUNS_MAX] = {0};
    struct hret_report_run runs[REPORT_RUNS_MAX];
    size_t n = 0;
    if (refs->count == 0 || refs->count > REPORT_RUNS_MAX) {
        hret_api_reply_error(reply, 400, "invalid_argument",
                             "runs: 1 to 8 run ids, comma-separated");
    }
    for (; reply->status == 0 && n < refs->count; n++) {
        if (report_doc(st, refs->items[n], reply, &docs[n])) {
            runs[n] = (struct hret_report_run){refs->items[n], docs[n]};
        }
    }
    struct hret_report_options opt = {NULL, REPORT_WRONG_SAMPLES, HRET_COMPARE_OPTIONS_DEFAULT,
                                      (double)time(NULL)};
    char *html = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (reply->status == 0 && hret_report_html(runs, n, NULL, &opt, &html, &err) != HRET_OK) {
        hret_api_reply_error(reply, 422, "not_reportable", err.msg);
    } else if (reply->status == 0) {
        reply->status = 200;
        reply->owned = html;
        reply->raw = html;
        reply->raw_len = strlen(html);
        reply->raw_type = "text/html; charset=utf-8";
        html = NULL;
    }
    free(html);
    for (size_t i = 0; i < REPORT_RUNS_MAX; i++) {
        cJSON_Delete(docs[i]);
    }
}

/* GET /v1/report?runs=A[,B,...] */
static void report(const struct hret_api_ctx *ctx, struct hret_store *st,
                   struct hret_api_call *call, struct hret_api_reply *reply)
{
    const char *list = NULL;
    if (!arg_text(call, reply, "runs", true, &list)) {
        return;
    }
    struct hret_strlist refs = {0};
    hret_strlist_split(&refs, list);
    report_page(st, &refs, reply);
    (void)ctx;
    snprintf(reply->note, sizeof reply->note, "runs=%.120s", list);
    hret_strlist_fini(&refs);
}

/* GET /v1/runs/{id}/report.html[?compare=B,C]: the run's page, the others compared with it. */
static void run_report(const struct hret_api_ctx *ctx, struct hret_store *st,
                       struct hret_api_call *call, struct hret_api_reply *reply)
{
    const char *others = NULL;
    if (!arg_text(call, reply, "compare", false, &others)) {
        return;
    }
    struct hret_strlist refs = {0};
    hret_strlist_push(&refs, hret_xstrdup(call->id));
    if (others != NULL) {
        hret_strlist_split(&refs, others);
    }
    report_page(st, &refs, reply);
    (void)ctx;
    snprintf(reply->note, sizeof reply->note, "run=%.60s compare=%.60s", call->id,
             others ? others : "");
    hret_strlist_fini(&refs);
}

static void openapi(const struct hret_api_ctx *ctx, struct hret_store *st,
                    struct hret_api_call *call, struct hret_api_reply *reply)
{
    (void)st;
    (void)call;
    reply->status = 200;
    reply->raw = ctx->openapi_json;
    reply->raw_len = ctx->openapi_len;
    reply->raw_type = "application/json";
}

/* ---- the table ----------------------------------------------------------------------------- */

static const struct hret_api_route routes[] = {
    {"POST", "/v1/requests", HRET_API_SCOPE_SUBMIT, true, submit},
    {"GET", "/v1/requests/*", HRET_API_SCOPE_READ, true, request_get},
    {"GET", "/v1/requests/*/events", HRET_API_SCOPE_READ, true, request_events},
    {"GET", "/v1/runs", HRET_API_SCOPE_READ, true, runs_list},
    {"GET", "/v1/runs/*", HRET_API_SCOPE_READ, true, run_get},
    {"GET", "/v1/runs/*/report.html", HRET_API_SCOPE_READ, true, run_report},
    {"GET", "/v1/metrics/history", HRET_API_SCOPE_READ, true, metrics_history},
    {"GET", "/v1/compare", HRET_API_SCOPE_READ, true, compare},
    {"GET", "/v1/report", HRET_API_SCOPE_READ, true, report},
    {"GET", "/v1/openapi.json", 0, false, openapi},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

/* path against pattern; '*' takes one non-empty segment of id characters into id. */
static bool matches(const char *pattern, const char *path, char *id)
{
    while (*pattern && *path) {
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n > HRET_API_ID_MAX ||
                strspn(path, "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789._:-") < n) {
                return false;
            }
            snprintf(id, HRET_API_ID_MAX + 1, "%.*s", (int)n, path);
            path += n;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

const struct hret_api_route *hret_api_route_find(const char *method, const char *path,
                                                 struct hret_api_call *call, unsigned *status)
{
    *status = 404;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (matches(routes[i].pattern, path, call->id)) {
            if (strcmp(routes[i].method, method) == 0) {
                return &routes[i];
            }
            *status = 405;
        }
    }
    return NULL;
}

unsigned hret_api_route_scope(const struct hret_api_route *route)
{
    return route->scope;
}

const char *hret_api_route_allow(const char *path)
{
    char id[HRET_API_ID_MAX + 1];
    return matches("/v1/requests", path, id) ? "POST" : "GET";
}

void hret_api_route_run(const struct hret_api_route *route, const struct hret_api_ctx *ctx,
                        struct hret_api_call *call, struct hret_api_reply *reply)
{
    struct hret_store *st = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (route->db && (st = hret_api_db_take(ctx->db, DB_WAIT_MS, &err)) == NULL) {
        hret_api_reply_error(reply, 503, "unavailable", err.msg);
        return;
    }
    route->fn(ctx, st, call, reply);
    if (st != NULL) {
        hret_api_db_give(ctx->db, st);
    }
}
