/* hret worker, finishing runs: the last shard's transaction aggregates the run from the samples
 * table (so every shard's samples count, whichever worker wrote them), writes the metrics and
 * the result event to the outbox, and closes the request when it was its last run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_cloudevents.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_metrics.h"
#include "hret_ops.h"
#include "hret_outbox.h"
#include "hret_store_query.h"
#include "hret_worker.h"
#include "hret_worker_data.h"

#define WHO "worker"
#define RFC3339 "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"

static const char remaining_sql[] =
    "SELECT count(*) FROM shards WHERE run_id = $1 AND status <> 'done'";

static const char run_state_sql[] =
    "SELECT status, to_char(COALESCE(started_at, created_at) AT TIME ZONE 'UTC', " RFC3339 "),"
    " run_name FROM runs WHERE run_id = $1 FOR UPDATE";

static const char request_open_sql[] =
    "SELECT count(*) FROM runs WHERE request_id = $1"
    " AND status NOT IN ('completed', 'partial', 'failed', 'cancelled')";

/* A request with a failed run is failed, and its error names each failed run and why. */
static const char request_close_sql[] =
    "UPDATE requests SET status = CASE WHEN EXISTS (SELECT 1 FROM runs WHERE request_id = $1"
    " AND status = 'failed') THEN 'failed' ELSE 'completed' END,"
    " error = (SELECT string_agg('run ' || run_id || ' (' || model_name || ' on ' || dataset_name"
    " || ') failed: ' || COALESCE(error, 'no reason recorded'), '; ' ORDER BY run_id) FROM runs"
    " WHERE request_id = $1 AND status = 'failed'), finished_at = now(),"
    " updated_at = now() WHERE request_id = $1 AND finished_at IS NULL";

/* The request row's lock, which shard completion takes first too: the runs of one request
 * finish one at a time, so exactly one of them sees the request's last run finish. */
static const char request_lock_sql[] =
    "SELECT spec::text FROM requests WHERE request_id = $1 FOR UPDATE";

static const char fail_sql[] =
    "UPDATE runs SET status = 'failed', error = $2, finished_at = now(), updated_at = now()"
    " WHERE run_id = $1 AND status IN ('planned', 'running')";

/* A failed run's open shards fail with it: never handed out again, and a holder that renews
 * its lease learns it lost it. */
static const char fail_shards_sql[] =
    "UPDATE shards SET status = 'failed', owner = NULL, lease_until = NULL,"
    " error = COALESCE(error, $2), finished_at = now(), updated_at = now()"
    " WHERE run_id = $1 AND status IN ('pending', 'running')";

static double metric(const cJSON *m, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The per-subset metrics ("<subset>/<metric>" keys) as subset_metrics: {subset: {metric: v}}. */
static void add_subset_metrics(cJSON *o, const cJSON *metrics)
{
    cJSON *subsets = NULL;
    for (const cJSON *it = metrics->child; it != NULL; it = it->next) {
        const char *slash = strrchr(it->string, '/');
        if (slash == NULL || !cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
            continue;
        }
        char subset[256];
        snprintf(subset, sizeof subset, "%.*s", (int)(slash - it->string), it->string);
        if (subsets == NULL) {
            subsets = cJSON_AddObjectToObject(o, "subset_metrics");
        }
        cJSON *m = cJSON_GetObjectItemCaseSensitive(subsets, subset);
        if (m == NULL) {
            m = cJSON_AddObjectToObject(subsets, subset);
        }
        cJSON_AddNumberToObject(m, slash + 1, it->valuedouble);
    }
}

/* The hret.run.completed.v1 data (schemas/events/). */
static cJSON *completed_data(const struct hret_worker_run *run, const PGresult *state,
                             const cJSON *metrics, size_t count)
{
    const struct hret_request *q = run->req;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "request_id", q->request_id);
    cJSON_AddStringToObject(o, "run_id", run->run_id);
    if (!PQgetisnull(state, 0, 2)) {
        cJSON_AddStringToObject(o, "run_name", PQgetvalue(state, 0, 2));
    }
    cJSON_AddStringToObject(o, "status", "completed");
    cJSON_AddItemToObject(o, "model", hret_worker_model_json(run->model));
    cJSON_AddItemToObject(o, "dataset",
                          hret_worker_dataset_json(run->ds, run->version, run->data_version));
    cJSON_AddNumberToObject(o, "num_few_shot", (double)q->num_few_shot);
    cJSON *m = cJSON_AddObjectToObject(o, "metrics");
    for (const cJSON *it = metrics->child; it != NULL; it = it->next) {
        if (cJSON_IsNumber(it) && isfinite(it->valuedouble) && strchr(it->string, '/') == NULL) {
            cJSON_AddNumberToObject(m, it->string, it->valuedouble);
        }
    }
    cJSON *c = cJSON_AddObjectToObject(o, "counts");
    cJSON_AddNumberToObject(c, "samples", (double)count);
    cJSON_AddNumberToObject(c, "errors", metric(metrics, "errors"));
    cJSON_AddNumberToObject(c, "parse_failures", metric(metrics, "parse_failures"));
    cJSON *t = cJSON_AddObjectToObject(o, "tokens");
    cJSON_AddNumberToObject(t, "input", metric(metrics, "tokens_in"));
    cJSON_AddNumberToObject(t, "output", metric(metrics, "tokens_out"));
    cJSON_AddNumberToObject(o, "cost_usd", metric(metrics, "cost"));
    add_subset_metrics(o, metrics);
    cJSON_AddBoolToObject(o, "partial", false);
    cJSON_AddStringToObject(o, "started_at", PQgetvalue(state, 0, 1));
    char now[40];
    hret_cloudevent_now(now);
    cJSON_AddStringToObject(o, "finished_at", now);
    if (q->metadata != NULL) {
        cJSON_AddItemToObject(o, "metadata", cJSON_Duplicate(q->metadata, 1));
    }
    /* the evaluation (method, params, judge, scoring modes), tracking and track_metrics as the
     * request normalised them: the bridges route by the last two. */
    cJSON *normal = hret_request_to_json(q);
    static const char *const copied[] = {"evaluation", "tracking", "track_metrics"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        cJSON *it = cJSON_DetachItemFromObjectCaseSensitive(normal, copied[i]);
        if (it != NULL) {
            cJSON_AddItemToObject(o, copied[i], it);
        }
    }
    cJSON_Delete(normal);
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(q->doc, "alerts");
    if (cJSON_IsObject(alerts)) { /* hret monitor makes rules of it for this run */
        cJSON_AddItemToObject(o, "alerts", cJSON_Duplicate(alerts, 1));
    }
    return o;
}

/* Closes the request when none of its runs is open any more. */
static enum hret_result close_request(struct hret_pg *pg, const char *request_id, bool *closed,
                                      struct hret_err *err)
{
    *closed = false;
    const char *params[] = {request_id};
    PGresult *res = NULL;
    enum hret_result r =
        hret_pg_query(pg, "open runs", request_open_sql, 1, params, false, &res, err);
    bool open = r != HRET_OK || strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (r != HRET_OK || open) {
        return r;
    }
    hret_log_info(WHO, request_id, "every run of the request has finished");
    *closed = true;
    return hret_pg_query(pg, "close request", request_close_sql, 1, params, false, NULL, err);
}

static enum hret_result fail_txn(struct hret_pg *pg, void *user, struct hret_err *err);
static enum hret_result fail_nothing_scored(struct hret_worker *w, struct hret_pg *pg,
                                            const struct hret_worker_run *run, const char *why,
                                            struct hret_err *err);

static enum hret_result aggregate(struct hret_worker *w, struct hret_pg *pg,
                                  const struct hret_worker_run *run, const PGresult *state,
                                  struct hret_err *err)
{
    struct hret_sample *samples = NULL;
    struct hret_outcome *outcomes = NULL;
    size_t count = 0;
    if (hret_store_samples_load_scores(w->store, run->run_id, &samples, &outcomes, &count, err) !=
        HRET_OK) {
        return err->code;
    }
    const struct hret_model_config *mc = run->model->config;
    struct hret_prices prices = {mc->price_input_per_1m, mc->price_output_per_1m};
    cJSON *metrics = hret_metrics_compute(samples, outcomes, count, &prices);
    size_t errors = (size_t)metric(metrics, "errors");
    const char *nothing = hret_metrics_nothing_scored(metrics);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct hret_store_result res = {
        .status = "completed",
        .metrics = metrics,
        .done = count,
        .errors = errors,
        .finished_at = (double)now.tv_sec + (double)now.tv_nsec / 1e9,
    };
    /* nothing answered: failed, never "completed" with an accuracy of 0 */
    enum hret_result r = nothing ? fail_nothing_scored(w, pg, run, nothing, err)
                                 : hret_store_run_finish_txn(pg, run->run_id, &res, err);
    if (r == HRET_OK && nothing == NULL) {
        cJSON *data = completed_data(run, state, metrics, count);
        char id[80];
        snprintf(id, sizeof id, "%s:completed", run->run_id);
        struct hret_outbox_event ev = {id, w->cfg->kafka.results_topic, run->run_id,
                                       "hret.run.completed.v1", data};
        r = hret_outbox_add(pg, &ev, err);
        cJSON_Delete(data);
        if (r == HRET_OK) { /* inside the transaction: a retried one counts twice */
            hret_ops_run("completed");
        }
        hret_log_info(WHO, run->run_id, "run completed: %zu samples, accuracy %.4f", count,
                      metric(metrics, "accuracy"));
    }
    cJSON_Delete(metrics);
    for (size_t i = 0; i < count; i++) {
        hret_sample_fini(&samples[i]);
        hret_outcome_fini(&outcomes[i]);
    }
    free(samples);
    free(outcomes);
    bool closed = false;
    if (r == HRET_OK && nothing == NULL) { /* fail_txn closed it */
        r = close_request(pg, run->req->request_id, &closed, err);
    }
    return r == HRET_OK && closed && run->req->n_models > 1
               ? hret_worker_compare(w, pg, run->req, err)
               : r;
}

enum hret_result hret_worker_finish_run(struct hret_worker *w, struct hret_pg *pg,
                                        const struct hret_worker_run *run, struct hret_err *err)
{
    const char *params[] = {run->run_id};
    PGresult *res = NULL;
    enum hret_result r =
        hret_pg_query(pg, "shards left", remaining_sql, 1, params, false, &res, err);
    bool left = r != HRET_OK || strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (r != HRET_OK || left) {
        return r;
    }
    r = hret_pg_query(pg, "run state", run_state_sql, 1, params, false, &res, err);
    if (r == HRET_OK && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "running") == 0) {
        r = aggregate(w, pg, run, res, err);
    }
    PQclear(res);
    return r;
}

struct fail_job {
    struct hret_worker *w;
    const struct hret_request *req; /* nullable: parsed back from the stored spec when needed */
    const char *request_id, *run_id, *cls, *message;
};

/* The comparisons among the request's completed runs, once its last run failed (the completed
 * path compares in aggregate). spec: the stored request, parsed when j has none; a request the
 * configuration no longer accepts (a model removed) is logged and compared no further. */
static enum hret_result compare_after_failure(struct hret_pg *pg, const struct fail_job *j,
                                              const char *spec, struct hret_err *err)
{
    if (j->req != NULL) {
        return j->req->n_models > 1 ? hret_worker_compare(j->w, pg, j->req, err) : HRET_OK;
    }
    struct hret_request *req = NULL;
    struct hret_err perr = HRET_ERR_INIT;
    if (hret_request_parse(spec, strlen(spec), j->w->cfg, &req, NULL, &perr) != HRET_OK) {
        hret_log_warn(WHO, j->request_id, "no comparisons: the stored request: %s", perr.msg);
        return HRET_OK;
    }
    enum hret_result r = req->n_models > 1 ? hret_worker_compare(j->w, pg, req, err) : HRET_OK;
    hret_request_destroy(req);
    return r;
}

static enum hret_result fail_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct fail_job *j = user;
    const char *params[] = {j->run_id, j->message};
    const char *lock[] = {j->request_id};
    PGresult *spec = NULL, *res = NULL;
    enum hret_result r =
        hret_pg_query(pg, "lock request", request_lock_sql, 1, lock, false, &spec, err);
    if (r != HRET_OK || PQntuples(spec) != 1 ||
        hret_pg_query(pg, "fail shards", fail_shards_sql, 2, params, false, NULL, err) != HRET_OK) {
        PQclear(spec);
        return r != HRET_OK ? r : err->code;
    }
    r = hret_pg_query(pg, "fail run", fail_sql, 2, params, false, &res, err);
    bool changed = r == HRET_OK && strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    if (!changed) {
        PQclear(spec);
        return r;
    }
    cJSON *data = hret_worker_failed_data(j->request_id, j->run_id, j->cls, j->message, NULL);
    char id[80];
    snprintf(id, sizeof id, "%s:failed", j->run_id);
    struct hret_outbox_event ev = {id, j->w->cfg->kafka.results_topic, j->run_id,
                                   "hret.run.failed.v1", data};
    r = hret_outbox_add(pg, &ev, err);
    cJSON_Delete(data);
    if (r == HRET_OK) { /* inside the transaction: a retried one counts twice */
        hret_ops_run("failed");
    }
    bool closed = false;
    if (r == HRET_OK) {
        r = close_request(pg, j->request_id, &closed, err);
    }
    if (r == HRET_OK && closed) {
        r = compare_after_failure(pg, j, PQgetvalue(spec, 0, 0), err);
    }
    PQclear(spec);
    return r;
}

enum hret_result hret_worker_fail_run(struct hret_worker *w, const struct hret_request *req,
                                      const char *request_id, const char *run_id, const char *cls,
                                      const char *message, struct hret_err *err)
{
    hret_log_error(WHO, run_id, "run failed (%s): %s", cls, message);
    struct fail_job j = {w, req, request_id, run_id, cls, message};
    return hret_pg_transaction(hret_store_pg(w->store), "fail run", fail_txn, &j, err);
}

/* A run without an answered sample fails with class nothing_scored, inside the caller's
 * transaction (the monitor's failure rules see it). */
static enum hret_result fail_nothing_scored(struct hret_worker *w, struct hret_pg *pg,
                                            const struct hret_worker_run *run, const char *why,
                                            struct hret_err *err)
{
    char *message = hret_xasprintf("nothing scored: %s", why);
    hret_log_error(WHO, run->run_id, "run failed (nothing_scored): %s", message);
    struct fail_job j = {w, run->req, run->req->request_id, run->run_id, "nothing_scored", message};
    enum hret_result r = fail_txn(pg, &j, err);
    free(message);
    return r;
}
