/* hret worker, requests: a valid request becomes its request row, one run row per (model,
 * dataset), the runs' shard rows and one shard-task outbox row per shard, all in one
 * transaction; a redelivered request id finds its row and changes nothing. An invalid request
 * goes to the requests topic's DLQ with the reason, and its hret.run.failed.v1 event to the
 * outbox (an id stable across redeliveries), which the relay publishes on the results topic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cloudevents.h"
#include "hret_dataset.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_ops.h"
#include "hret_outbox.h"
#include "hret_request.h"
#include "hret_worker.h"
#include "hret_worker_data.h"

#define WHO "worker"
#define DLQ_TIMEOUT_MS 30000

/* Requests are deduplicated by request_id (a redelivery); a CloudEvent id already used by another
 * request is refused before (event_owner_sql), never taken for a duplicate. */
static const char request_sql[] =
    "INSERT INTO requests (request_id, event_id, status, spec, source)"
    " VALUES ($1, $2, 'planned', $3::jsonb, $4) ON CONFLICT (request_id) DO NOTHING";

static const char event_owner_sql[] =
    "SELECT request_id FROM requests WHERE event_id = $1 AND request_id <> $2";

static const char known_sql[] = "SELECT 1 FROM requests WHERE request_id = $1";

static const char run_sql[] =
    "INSERT INTO runs (run_id, request_id, run_name, status, model_name, model_id, endpoint,"
    " dataset_name, dataset_version, split, method, planned_samples, metadata, data_version)"
    " VALUES ($1, $2, $3, 'planned', $4, $5, $6, $7, $8, $9, $10, $11::integer,"
    " COALESCE($12::jsonb, '{}'), NULLIF($13, ''))";

static const char shards_sql[] =
    "INSERT INTO shards (run_id, shard_idx, first_idx, end_idx)"
    " SELECT $1, g, g * $2::integer, LEAST((g + 1) * $2::integer, $3::integer)"
    " FROM generate_series(0, $4::integer - 1) AS g";

struct plan_run {
    char run_id[37];
    const struct hret_request_model *model; /* borrowed from req */
    const struct hret_request_dataset *ds;  /* borrowed from req */
    const struct hret_dataset *loaded;      /* borrowed from the plan */
    const char *data_version;               /* borrowed from the plan: "" for files */
};

struct plan {
    struct hret_worker *w;
    const struct hret_request *req;
    const char *event_id, *source, *spec; /* borrowed */
    struct hret_dataset **datasets;       /* n_datasets, owned */
    char (*data_versions)[65];            /* n_datasets, owned */
    struct plan_run *runs;                /* n_models * n_datasets, owned */
    size_t n_runs;
    bool duplicate; /* out: the request was already planned */
    bool reused_id; /* out: another request came with this CloudEvent id */
};

static cJSON *task_data(const struct plan *p, const struct plan_run *r, long long shard,
                        long long shards, long long first, long long end)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "request_id", p->req->request_id);
    cJSON_AddStringToObject(o, "run_id", r->run_id);
    cJSON_AddNumberToObject(o, "shard_index", (double)shard);
    cJSON_AddNumberToObject(o, "shard_count", (double)shards);
    cJSON_AddNumberToObject(o, "sample_start", (double)first);
    cJSON_AddNumberToObject(o, "sample_end", (double)end);
    cJSON_AddItemToObject(o, "model", hret_worker_model_json(r->model));
    cJSON_AddItemToObject(o, "dataset",
                          hret_worker_dataset_json(r->ds, r->loaded->version, r->data_version));
    cJSON_AddNumberToObject(o, "attempt", 1);
    char now[40];
    hret_cloudevent_now(now);
    cJSON_AddStringToObject(o, "created_at", now);
    return o;
}

static enum hret_result plan_shards(struct hret_pg *pg, const struct plan *p,
                                    const struct plan_run *r, struct hret_err *err)
{
    long long size = p->w->cfg->datasets.shard_size, count = (long long)r->loaded->count;
    long long shards = (count + size - 1) / size;
    char sz[32], total[32], n[32];
    snprintf(sz, sizeof sz, "%lld", size);
    snprintf(total, sizeof total, "%lld", count);
    snprintf(n, sizeof n, "%lld", shards);
    const char *params[] = {r->run_id, sz, total, n};
    enum hret_result res =
        hret_pg_query(pg, "plan shards", shards_sql, 4, params, false, NULL, err);
    for (long long s = 0; s < shards && res == HRET_OK; s++) {
        long long end = (s + 1) * size < count ? (s + 1) * size : count;
        cJSON *data = task_data(p, r, s, shards, s * size, end);
        char id[80];
        snprintf(id, sizeof id, "%s:shard:%lld", r->run_id, s);
        /* keyed by shard, not run: a run's shards spread over the partitions, so over the
         * workers */
        struct hret_outbox_event ev = {id, p->w->cfg->kafka.tasks_topic, id, "hret.shard.task.v1",
                                       data};
        res = hret_outbox_add(pg, &ev, err);
        cJSON_Delete(data);
    }
    return res;
}

static enum hret_result plan_run_row(struct hret_pg *pg, const struct plan *p,
                                     const struct plan_run *r, struct hret_err *err)
{
    const struct hret_request *q = p->req;
    const struct hret_model_config *mc = r->model->config;
    char planned[32];
    snprintf(planned, sizeof planned, "%zu", r->loaded->count);
    char *meta = q->metadata ? hret_json_print(q->metadata) : NULL;
    const char *params[] = {r->run_id,      q->request_id, q->run_name, r->model->name,
                            mc->model,      mc->base_url,  r->ds->name, r->loaded->version,
                            r->ds->split,   q->method,     planned,     meta,
                            r->data_version};
    enum hret_result res = hret_pg_query(pg, "plan run", run_sql, 13, params, false, NULL, err);
    free(meta);
    return res == HRET_OK ? plan_shards(pg, p, r, err) : res;
}

/* Refuses a CloudEvent id that came with another request (a producer reusing ids): taken for a
 * redelivery, the new request would be lost without a word. */
static enum hret_result check_event_id(struct hret_pg *pg, struct plan *p, struct hret_err *err)
{
    if (p->event_id == NULL) {
        return HRET_OK;
    }
    const char *params[] = {p->event_id, p->req->request_id};
    PGresult *res = NULL;
    enum hret_result r =
        hret_pg_query(pg, "event id owner", event_owner_sql, 2, params, false, &res, err);
    if (r == HRET_OK && PQntuples(res) > 0) {
        p->reused_id = true;
        r = hret_err_set(err, HRET_E_CONFLICT,
                         "ce_id '%s' was already used by request '%s': a new request needs a "
                         "CloudEvent id of its own",
                         p->event_id, PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return r;
}

static enum hret_result plan_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct plan *p = user;
    const char *params[] = {p->req->request_id, p->event_id, p->spec, p->source};
    PGresult *res = NULL;
    if (check_event_id(pg, p, err) != HRET_OK) {
        return err->code;
    }
    enum hret_result r =
        hret_pg_query(pg, "plan request", request_sql, 4, params, false, &res, err);
    p->duplicate = r == HRET_OK && strcmp(PQcmdTuples(res), "0") == 0;
    PQclear(res);
    for (size_t i = 0; i < p->n_runs && r == HRET_OK && !p->duplicate; i++) {
        r = plan_run_row(pg, p, &p->runs[i], err);
    }
    return r;
}

/* Loads every dataset (for its size and version) and names the runs. */
static enum hret_result plan_prepare(struct plan *p, char *path, struct hret_err *err)
{
    const struct hret_request *q = p->req;
    p->datasets = hret_xcalloc(q->n_datasets, sizeof *p->datasets);
    p->data_versions = hret_xcalloc(q->n_datasets, sizeof *p->data_versions);
    p->runs = hret_xcalloc(q->n_datasets * q->n_models, sizeof *p->runs);
    for (size_t d = 0; d < q->n_datasets; d++) {
        snprintf(path, HRET_REQUEST_PATH_MAX, "datasets[%zu]", d);
        for (size_t e = 0; e < d; e++) {
            if (strcmp(q->datasets[e].name, q->datasets[d].name) == 0) {
                return hret_err_set(err, HRET_E_INVAL, "%s.name: dataset '%s' is listed twice",
                                    path, q->datasets[d].name);
            }
        }
        if (hret_worker_dataset_load(p->w->cfg, p->w->store, q, &q->datasets[d], NULL,
                                     p->data_versions[d], &p->datasets[d], err) != HRET_OK) {
            return err->code;
        }
        if (p->datasets[d]->count == 0) {
            return hret_err_set(err, HRET_E_INVAL, "%s: selects no samples", path);
        }
        for (size_t m = 0; m < q->n_models; m++) {
            snprintf(path, HRET_REQUEST_PATH_MAX, "models[%zu]", m);
            if (q->models[m].config == NULL) {
                return hret_err_set(err, HRET_E_INVAL,
                                    "%s: inline endpoints are not run by the worker yet", path);
            }
            struct plan_run *r = &p->runs[p->n_runs++];
            if (hret_uuid4(r->run_id, err) != HRET_OK) {
                return err->code;
            }
            r->model = &q->models[m];
            r->ds = &q->datasets[d];
            r->loaded = p->datasets[d];
            r->data_version = p->data_versions[d];
        }
    }
    path[0] = '\0';
    return HRET_OK;
}

static void plan_fini(struct plan *p)
{
    for (size_t d = 0; p->datasets != NULL && d < p->req->n_datasets; d++) {
        hret_dataset_destroy(p->datasets[d]);
    }
    free(p->datasets);
    free(p->data_versions);
    free(p->runs);
}

/* The request id of a refused message: the document's, else the key; NULL when neither. */
static char *refused_id(const rd_kafka_message_t *m)
{
    cJSON *doc = cJSON_ParseWithLength(m->payload, m->len);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "request_id"));
    char *out = NULL;
    if (id != NULL && *id != '\0' && strlen(id) <= 128) {
        out = hret_xstrdup(id);
    } else if (m->key_len > 0 && m->key_len <= 128) {
        out = hret_xstrndup(m->key, m->key_len);
    }
    cJSON_Delete(doc);
    return out;
}

/* The message's CloudEvent id into out ("" when it has none). */
static void message_ce_id(const rd_kafka_message_t *m, char *out, size_t size)
{
    rd_kafka_headers_t *h = NULL;
    out[0] = '\0';
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        hret_cloudevent_header(h, "ce_id", out, size);
    }
}

/* The failed event of a refused request (id borrowed), as an outbox row whose event id is stable
 * across redeliveries of the message (its ce_id, else its topic, partition and offset): a
 * redelivered refusal adds nothing, and the relay publishes it like every other event. */
static enum hret_result add_refused_event(struct hret_worker *w, const rd_kafka_message_t *m,
                                          const char *id, const char *reason, const char *path,
                                          struct hret_err *err)
{
    char ce_id[64], event_id[512];
    message_ce_id(m, ce_id, sizeof ce_id);
    if (ce_id[0] != '\0') {
        snprintf(event_id, sizeof event_id, "%s:refused:%s", id, ce_id);
    } else {
        snprintf(event_id, sizeof event_id, "%s:refused:%s/%d/%lld", id,
                 rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
    }
    cJSON *data = hret_worker_failed_data(id, NULL, "invalid_request", reason, path);
    struct hret_outbox_event ev = {event_id, w->cfg->kafka.results_topic, id, "hret.run.failed.v1",
                                   data};
    enum hret_result r = hret_outbox_add(hret_store_pg(w->store), &ev, err);
    cJSON_Delete(data);
    return r;
}

/* The failed event into the outbox, then the message to the DLQ; either failing retries the
 * message (both are idempotent enough: the event by its id, the DLQ at least once). */
static enum hret_worker_outcome refuse(struct hret_worker *w, const rd_kafka_message_t *m,
                                       const char *reason, const char *path, const char *cls)
{
    struct hret_err err = HRET_ERR_INIT;
    char *id = refused_id(m);
    hret_log_warn(WHO, id, "refused request: %s", reason);
    if (id != NULL && add_refused_event(w, m, id, reason, path, &err) != HRET_OK) {
        hret_log_error(WHO, id, "failed event: %s", err.msg);
        free(id);
        return HRET_WORKER_RETRY;
    }
    if (hret_kafka_dlq_send(w->producer, m, NULL, reason, path, cls, DLQ_TIMEOUT_MS, &err) !=
        HRET_OK) {
        hret_log_error(WHO, id, "dead-letter: %s", err.msg);
        free(id);
        return HRET_WORKER_RETRY;
    }
    free(id);
    hret_ops_request("rejected");
    hret_ops_request_rejected(cls);
    return HRET_WORKER_DONE;
}

static enum hret_worker_outcome plan_request(struct hret_worker *w, const rd_kafka_message_t *m,
                                             const struct hret_request *req, char *path)
{
    struct hret_err err = HRET_ERR_INIT;
    char source[300], ce_id[64];
    snprintf(source, sizeof source, "%s/%d/%lld", rd_kafka_topic_name(m->rkt), (int)m->partition,
             (long long)m->offset);
    message_ce_id(m, ce_id, sizeof ce_id);
    cJSON *canonical = hret_request_to_json(req);
    char *spec = hret_json_print(canonical);
    cJSON_Delete(canonical);
    struct plan p = {w,     req,  ce_id[0] ? ce_id : NULL, source, spec, NULL, NULL, NULL, 0,
                     false, false};
    enum hret_worker_outcome out = HRET_WORKER_DONE;
    const char *id[] = {req->request_id};
    PGresult *known = NULL;
    if (hret_pg_query(hret_store_pg(w->store), "known request", known_sql, 1, id, false, &known,
                      &err) == HRET_OK &&
        PQntuples(known) == 1) {
        p.duplicate = true; /* a redelivery: skip loading the datasets */
    } else if (err.code != HRET_OK) {
        hret_log_error(WHO, req->request_id, "planning failed: %s", err.msg);
        out = HRET_WORKER_RETRY;
    } else if (plan_prepare(&p, path, &err) != HRET_OK) {
        out = refuse(w, m, err.msg, path, err.code == HRET_E_INVAL ? "bad_request" : "dataset");
    } else if (hret_pg_transaction(hret_store_pg(w->store), "plan", plan_txn, &p, &err) !=
               HRET_OK) {
        hret_log_error(WHO, req->request_id, "planning failed: %s", err.msg);
        out = hret_result_is_retriable(err.code)
                  ? HRET_WORKER_RETRY
                  : refuse(w, m, err.msg, "", p.reused_id ? "reused_event_id" : "db_conflict");
    } else if (!p.duplicate) {
        hret_ops_request("accepted");
        hret_log_info(WHO, req->request_id, "planned %zu run(s)", p.n_runs);
    }
    if (p.duplicate) {
        hret_ops_request("duplicate");
        hret_log_info(WHO, req->request_id, "already planned; redelivery ignored");
    }
    PQclear(known);
    plan_fini(&p);
    free(spec);
    return out;
}

enum hret_worker_outcome hret_worker_request(struct hret_worker *w, const rd_kafka_message_t *m)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_request *req = NULL;
    char path[HRET_REQUEST_PATH_MAX] = "";
    const char *text = m->payload ? m->payload : "";
    if (hret_request_parse(text, m->len, w->cfg, &req, path, &err) != HRET_OK) {
        return refuse(w, m, err.msg, path, "bad_request");
    }
    enum hret_worker_outcome out =
        req->request_id == NULL
            ? refuse(w, m, "request_id: required by the worker (hret submit fills one)",
                     "request_id", "bad_request")
            : plan_request(w, m, req, path);
    hret_request_destroy(req);
    return out;
}
