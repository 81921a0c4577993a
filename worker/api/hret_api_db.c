/* The database side of `hret api` (see hret_api_db.h). */
#include "hret_api_db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_clock.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_outbox.h"
#include "hret_request.h"

#define RFC3339 "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"
#define MAX_EVENT_BYTES (4 << 20)

struct hret_api_db {
    pthread_mutex_t mu;
    pthread_cond_t freed;
    char *conninfo, *password_env;
    struct hret_store **conns; /* size slots; NULL = not opened yet */
    bool *busy;
    size_t size;
};

enum hret_result hret_api_db_new(const char *conninfo, const char *password_env, size_t size,
                                 struct hret_api_db **out, struct hret_err *err)
{
    if (size == 0) {
        return hret_err_set(err, HRET_E_CONFIG, "api.db_connections must be at least 1");
    }
    struct hret_api_db *db = hret_xcalloc(1, sizeof *db);
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->freed, NULL);
    db->conninfo = hret_xstrdup(conninfo);
    db->password_env = hret_xstrdup(password_env);
    db->conns = hret_xcalloc(size, sizeof *db->conns);
    db->busy = hret_xcalloc(size, sizeof *db->busy);
    db->size = size;
    *out = db;
    return HRET_OK;
}

void hret_api_db_destroy(struct hret_api_db *db)
{
    if (db == NULL) {
        return;
    }
    for (size_t i = 0; i < db->size; i++) {
        hret_store_destroy(db->conns[i]);
    }
    pthread_cond_destroy(&db->freed);
    pthread_mutex_destroy(&db->mu);
    free(db->conns);
    free(db->busy);
    free(db->conninfo);
    free(db->password_env);
    free(db);
}

struct hret_store *hret_api_db_take(struct hret_api_db *db, long wait_ms, struct hret_err *err)
{
    struct timespec until = hret_clock_deadline(CLOCK_REALTIME, wait_ms); /* db->freed's clock */
    pthread_mutex_lock(&db->mu);
    size_t slot = db->size;
    while (slot == db->size) {
        for (slot = 0; slot < db->size && db->busy[slot]; slot++) {
        }
        if (slot == db->size && pthread_cond_timedwait(&db->freed, &db->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    if (slot < db->size) {
        db->busy[slot] = true;
    }
    pthread_mutex_unlock(&db->mu);
    if (slot == db->size) {
        hret_err_set(err, HRET_E_UNAVAILABLE, "every database connection is busy");
        return NULL;
    }
    /* the slot is this thread's now: connect outside the lock */
    if (db->conns[slot] == NULL &&
        hret_store_open(db->conninfo, db->password_env, false, &db->conns[slot], err) != HRET_OK) {
        pthread_mutex_lock(&db->mu);
        db->busy[slot] = false;
        pthread_cond_signal(&db->freed);
        pthread_mutex_unlock(&db->mu);
        return NULL;
    }
    if (hret_pg_ensure(hret_store_pg(db->conns[slot]), err) != HRET_OK) {
        hret_api_db_give(db, db->conns[slot]);
        return NULL;
    }
    return db->conns[slot];
}

void hret_api_db_give(struct hret_api_db *db, struct hret_store *s)
{
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; s != NULL && i < db->size; i++) {
        if (db->conns[i] == s) {
            db->busy[i] = false;
        }
    }
    pthread_cond_signal(&db->freed);
    pthread_mutex_unlock(&db->mu);
}

/* ---- accepting a request ------------------------------------------------------------------- */

static const char by_key_sql[] =
    "SELECT request_id, body_hash FROM api_requests WHERE token_name = $1 AND idempotency_key = $2";
static const char by_id_sql[] =
    "SELECT request_id, body_hash FROM api_requests WHERE request_id = $1"
    " UNION ALL SELECT request_id, '' FROM requests WHERE request_id = $1 LIMIT 1";
static const char insert_sql[] =
    "INSERT INTO api_requests (request_id, token_name, idempotency_key, body_hash, spec)"
    " VALUES ($1, $2, $3, $4, $5::jsonb)";

struct submit_job {
    const struct hret_api_submit *sub;
    char *accepted_id;
    size_t cap;
    bool *replayed;
};

/* Looks the request up by sql; true (and the outcome in err or *j) when it exists. */
static bool known(struct hret_pg *pg, const char *sql, int n, const char *const *params,
                  const char *what, struct submit_job *j, struct hret_err *err)
{
    PGresult *res = NULL;
    if (hret_pg_query(pg, "find request", sql, n, params, false, &res, err) != HRET_OK) {
        return true;
    }
    bool found = PQntuples(res) > 0;
    if (found && strcmp(PQgetvalue(res, 0, 1), j->sub->body_hash) == 0) {
        snprintf(j->accepted_id, j->cap, "%s", PQgetvalue(res, 0, 0));
        *j->replayed = true;
    } else if (found) {
        hret_err_set(err, HRET_E_CONFLICT, "%s already names a different request (%s)", what,
                     PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return found;
}

static enum hret_result submit_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct submit_job *j = user;
    const struct hret_api_submit *s = j->sub;
    *j->replayed = false;
    const char *key_params[] = {s->token_name, s->idempotency_key};
    if (s->idempotency_key != NULL &&
        known(pg, by_key_sql, 2, key_params, "this Idempotency-Key", j, err)) {
        return err->code;
    }
    const char *id_params[] = {s->request_id};
    if (known(pg, by_id_sql, 1, id_params, "this request_id", j, err)) {
        return err->code;
    }
    char *spec = hret_json_print(s->spec);
    const char *params[] = {s->request_id, s->token_name, s->idempotency_key, s->body_hash, spec};
    enum hret_result r =
        hret_pg_query(pg, "accept request", insert_sql, 5, params, false, NULL, err);
    free(spec);
    struct hret_outbox_event ev = {NULL, s->topic, s->request_id, HRET_REQUEST_EVENT_TYPE, s->spec};
    if (r == HRET_OK && (r = hret_outbox_add(pg, &ev, err)) == HRET_OK) {
        snprintf(j->accepted_id, j->cap, "%s", s->request_id);
    }
    return r;
}

enum hret_result hret_api_db_submit(struct hret_store *s, const struct hret_api_submit *sub,
                                    char *accepted_id, size_t cap, bool *replayed,
                                    struct hret_err *err)
{
    struct submit_job j = {sub, accepted_id, cap, replayed};
    enum hret_result r =
        hret_pg_transaction(hret_store_pg(s), "accept request", submit_txn, &j, err);
    if (r == HRET_E_CONFLICT && strstr(err->msg, "already names") == NULL) {
        /* a concurrent POST with the same key or id won the insert: now it is found */
        hret_err_clear(err);
        r = hret_pg_transaction(hret_store_pg(s), "accept request", submit_txn, &j, err);
    }
    return r;
}

/* ---- a request's state ----------------------------------------------------------------------- */

static const char request_sql[] =
    "SELECT r.status, r.error, to_char(r.created_at AT TIME ZONE 'UTC', " RFC3339 "),"
    " to_char(r.finished_at AT TIME ZONE 'UTC', " RFC3339 ") FROM requests r"
    " WHERE r.request_id = $1"
    " UNION ALL SELECT 'accepted', NULL, to_char(a.created_at AT TIME ZONE 'UTC', " RFC3339 "),"
    " NULL FROM api_requests a WHERE a.request_id = $1"
    " AND NOT EXISTS (SELECT 1 FROM requests WHERE request_id = $1)";

static const char runs_sql[] =
    "SELECT run_id, model_name, dataset_name, status, planned_samples, done_samples,"
    " error_samples, metrics, error FROM runs WHERE request_id = $1"
    " ORDER BY model_name, dataset_name";

static cJSON *text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? cJSON_CreateNull()
                                      : cJSON_CreateString(PQgetvalue(res, row, col));
}

static cJSON *run_json(const PGresult *res, int i)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "run_id", PQgetvalue(res, i, 0));
    cJSON_AddStringToObject(o, "model", PQgetvalue(res, i, 1));
    cJSON_AddStringToObject(o, "dataset", PQgetvalue(res, i, 2));
    cJSON_AddStringToObject(o, "status", PQgetvalue(res, i, 3));
    cJSON_AddNumberToObject(o, "planned_samples", atof(PQgetvalue(res, i, 4)));
    cJSON_AddNumberToObject(o, "done_samples", atof(PQgetvalue(res, i, 5)));
    cJSON_AddNumberToObject(o, "error_samples", atof(PQgetvalue(res, i, 6)));
    cJSON *metrics = PQgetisnull(res, i, 7)
                         ? NULL
                         : hret_json_parse(PQgetvalue(res, i, 7), (size_t)PQgetlength(res, i, 7),
                                           MAX_EVENT_BYTES, NULL);
    cJSON_AddItemToObject(o, "metrics", metrics ? metrics : cJSON_CreateObject());
    cJSON_AddItemToObject(o, "error", text_or_null(res, i, 8));
    return o;
}

enum hret_result hret_api_db_request(struct hret_store *s, const char *request_id, cJSON **out,
                                     struct hret_err *err)
{
    *out = NULL;
    const char *params[] = {request_id};
    PGresult *req = NULL, *runs = NULL;
    struct hret_pg *pg = hret_store_pg(s);
    if (hret_pg_query(pg, "request", request_sql, 1, params, false, &req, err) != HRET_OK ||
        hret_pg_query(pg, "request runs", runs_sql, 1, params, false, &runs, err) != HRET_OK) {
        PQclear(req);
        return err->code;
    }
    if (PQntuples(req) > 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "request_id", request_id);
        cJSON_AddStringToObject(o, "status", PQgetvalue(req, 0, 0));
        cJSON_AddItemToObject(o, "error", text_or_null(req, 0, 1));
        cJSON_AddStringToObject(o, "created_at", PQgetvalue(req, 0, 2));
        cJSON_AddItemToObject(o, "finished_at", text_or_null(req, 0, 3));
        cJSON *arr = cJSON_AddArrayToObject(o, "runs");
        for (int i = 0; i < PQntuples(runs); i++) {
            cJSON_AddItemToArray(arr, run_json(runs, i));
        }
        *out = o;
    }
    PQclear(req);
    PQclear(runs);
    return HRET_OK;
}

bool hret_api_db_request_over(const cJSON *request)
{
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(request, "status"));
    return st != NULL && (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0 ||
                          strcmp(st, "cancelled") == 0);
}

/* ---- a request's result events ----------------------------------------------------------- */

static const char events_sql[] =
    "SELECT id, event_id, ce_type, payload FROM outbox WHERE payload->>'request_id' = $1"
    " AND topic = $2 AND id > $3::bigint ORDER BY id LIMIT $4::integer";

enum hret_result hret_api_db_events(struct hret_store *s, const char *topic, const char *request_id,
                                    long long after, size_t max, struct hret_api_event **events,
                                    size_t *n, struct hret_err *err)
{
    char after_text[32], max_text[32];
    snprintf(after_text, sizeof after_text, "%lld", after);
    snprintf(max_text, sizeof max_text, "%zu", max);
    const char *params[] = {request_id, topic, after_text, max_text};
    PGresult *res = NULL;
    *events = NULL;
    *n = 0;
    if (hret_pg_query(hret_store_pg(s), "request events", events_sql, 4, params, false, &res,
                      err) != HRET_OK) {
        return err->code;
    }
    int rows = PQntuples(res);
    *events = hret_xcalloc((size_t)rows + 1, sizeof **events);
    for (int i = 0; i < rows; i++) {
        struct hret_api_event *e = &(*events)[i];
        e->seq = atoll(PQgetvalue(res, i, 0));
        e->event_id = hret_xstrdup(PQgetvalue(res, i, 1));
        e->type = hret_xstrdup(PQgetvalue(res, i, 2));
        e->data = hret_xstrdup(PQgetvalue(res, i, 3));
    }
    *n = (size_t)rows;
    PQclear(res);
    return HRET_OK;
}

void hret_api_events_free(struct hret_api_event *events, size_t n)
{
    for (size_t i = 0; events != NULL && i < n; i++) {
        free(events[i].event_id);
        free(events[i].type);
        free(events[i].data);
    }
    free(events);
}
