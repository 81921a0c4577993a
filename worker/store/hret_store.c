#include "hret_store.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hret_hash.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_store_migrate.h"
#include "hret_store_samples.h"

struct hret_store {
    struct hret_pg *pg;
};

enum hret_result hret_store_open(const char *conninfo, const char *password_env, bool migrate,
                                 struct hret_store **out, struct hret_err *err)
{
    *out = NULL;
    struct hret_pg_options opt = {.conninfo = conninfo, .password_env = password_env};
    struct hret_pg *pg = NULL;
    if (hret_pg_open(&opt, &pg, err) != HRET_OK) {
        return err->code;
    }
    if (migrate) {
        struct hret_migration_report rep = {0};
        enum hret_result r = hret_store_migrate(pg, true, &rep, err);
        hret_migration_report_fini(&rep);
        if (r != HRET_OK) {
            hret_pg_destroy(pg);
            return r;
        }
    }
    struct hret_store *s = hret_xcalloc(1, sizeof *s);
    s->pg = pg;
    *out = s;
    return HRET_OK;
}

void hret_store_destroy(struct hret_store *s)
{
    if (s != NULL) {
        hret_pg_destroy(s->pg);
        free(s);
    }
}

struct hret_pg *hret_store_pg(struct hret_store *s)
{
    return s != NULL ? s->pg : NULL;
}

void hret_store_new_run_id(char out[37])
{
    unsigned char b[16] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(b, 1, sizeof b, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    if (got != sizeof b) { /* no urandom: time, pid and address are unique enough here */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x = (unsigned long long)ts.tv_sec * 1000000007ull ^
                               (unsigned long long)ts.tv_nsec ^ (unsigned long long)getpid() << 32;
        for (size_t i = 0; i < sizeof b; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            b[i] = (unsigned char)(x >> 56);
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void hret_store_metric_key(const char *key, char *name, char *subset, size_t cap)
{
    const char *slash = strrchr(key, '/');
    if (slash == NULL) {
        snprintf(name, cap, "%s", key);
        subset[0] = '\0';
        return;
    }
    snprintf(name, cap, "%s", slash + 1);
    snprintf(subset, cap, "%.*s", (int)(slash - key), key);
}

void hret_store_array_literal(struct hret_buf *b, const char *const *items, size_t n)
{
    hret_buf_append(b, "{", 1, NULL);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            hret_buf_append(b, ",", 1, NULL);
        }
        if (items[i] == NULL) {
            hret_buf_append(b, "NULL", 4, NULL);
            continue;
        }
        hret_buf_append(b, "\"", 1, NULL);
        for (const char *p = items[i]; *p;) {
            size_t run = strcspn(p, "\"\\"); /* text without quotes or backslashes at once */
            hret_buf_append(b, p, run, NULL);
            if (p[run] != '\0') {
                hret_buf_append(b, "\\", 1, NULL);
                hret_buf_append(b, p + run, 1, NULL);
                run++;
            }
            p += run;
        }
        hret_buf_append(b, "\"", 1, NULL);
    }
    hret_buf_append(b, "}", 1, NULL);
}

/* ---- runs ---- */

static const char run_begin_sql[] =
    "INSERT INTO runs (run_id, request_id, run_name, status, model_name, model_id, endpoint,"
    " dataset_name, dataset_version, split, method, planned_samples, metadata, config,"
    " started_at, start_time, heartbeat_at, data_version)"
    " VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, $8, $9, $10, $11::integer, $12::jsonb,"
    " $13::json, to_timestamp($14::float8), $14::float8, now(), $15)"
    " ON CONFLICT (run_id) DO UPDATE SET status = CASE WHEN runs.status IN"
    " ('completed', 'partial', 'failed', 'cancelled') THEN runs.status ELSE 'running' END,"
    " heartbeat_at = now(), updated_at = now()";
static const char heartbeat_sql[] =
    "UPDATE runs SET heartbeat_at = now() WHERE run_id = $1 AND status = 'running'";

enum hret_result hret_store_run_heartbeat(struct hret_store *s, const char *run_id,
                                          struct hret_err *err)
{
    const char *params[] = {run_id};
    return hret_pg_query(s->pg, "heartbeat", heartbeat_sql, 1, params, false, NULL, err);
}

struct begin_job {
    const char *params[15];
};

static enum hret_result begin_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct begin_job *j = user;
    return hret_pg_query(pg, "create run", run_begin_sql, 15, j->params, false, NULL, err);
}

enum hret_result hret_store_run_begin(struct hret_store *s, const struct hret_store_run *run,
                                      struct hret_err *err)
{
    char planned[32], started[64];
    snprintf(planned, sizeof planned, "%zu", run->planned);
    snprintf(started, sizeof started, "%.17g", run->started_at);
    char *metadata = run->metadata ? hret_json_print(run->metadata) : hret_xstrdup("{}");
    char *config = run->config ? hret_json_print(run->config) : NULL;
    struct begin_job j = {{run->run_id, run->request_id, run->run_name, run->model_name,
                           run->model_id, run->endpoint, run->dataset_name, run->dataset_version,
                           run->split, run->method, planned, metadata, config, started,
                           run->data_version && *run->data_version ? run->data_version : NULL}};
    enum hret_result r = hret_pg_transaction(s->pg, "create run", begin_txn, &j, err);
    free(metadata);
    free(config);
    return r;
}

/* ---- finishing ---- */

static const char finish_sql[] =
    "UPDATE runs SET status = $2, metrics = $3::jsonb, info = COALESCE($4::json, info),"
    " served_model = COALESCE($5, served_model), fingerprint = COALESCE($6, fingerprint),"
    " done_samples = $7::integer,"
    " error_samples = $8::integer, cache_hits = $9::integer, error = $10,"
    " finished_at = to_timestamp($11::float8), end_time = $11::float8, updated_at = now()"
    " WHERE run_id = $1";
static const char metrics_delete_sql[] = "DELETE FROM metrics WHERE run_id = $1";
static const char metrics_insert_sql[] =
    "INSERT INTO metrics (run_id, name, subset, value)"
    " SELECT $1, n, s, v FROM unnest($2::text[], $3::text[], $4::float8[]) AS t (n, s, v)"
    " ON CONFLICT (run_id, name, subset) DO UPDATE SET value = EXCLUDED.value";

/* The metrics object's finite numbers as three array literals (names, subsets, values). */
static void metric_arrays(const cJSON *metrics, struct hret_buf *names, struct hret_buf *subsets,
                          struct hret_buf *values)
{
    size_t n = 0, cap = 0;
    char **nv = NULL, **sv = NULL;
    hret_buf_append(values, "{", 1, NULL);
    for (const cJSON *it = metrics ? metrics->child : NULL; it != NULL; it = it->next) {
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->string == NULL) {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            nv = hret_xrealloc(nv, cap * sizeof *nv);
            sv = hret_xrealloc(sv, cap * sizeof *sv);
        }
        size_t len = strlen(it->string) + 1;
        nv[n] = hret_xmalloc(len);
        sv[n] = hret_xmalloc(len);
        hret_store_metric_key(it->string, nv[n], sv[n], len);
        hret_buf_appendf(values, NULL, "%s%.17g", n ? "," : "", it->valuedouble);
        n++;
    }
    hret_buf_append(values, "}", 1, NULL);
    hret_store_array_literal(names, (const char *const *)nv, n);
    hret_store_array_literal(subsets, (const char *const *)sv, n);
    for (size_t i = 0; i < n; i++) {
        free(nv[i]);
        free(sv[i]);
    }
    free(nv);
    free(sv);
}

static enum hret_result write_metric_rows(struct hret_pg *pg, const char *run_id,
                                          const cJSON *metrics, struct hret_err *err)
{
    struct hret_buf names, subsets, values;
    hret_buf_init(&names, SIZE_MAX);
    hret_buf_init(&subsets, SIZE_MAX);
    hret_buf_init(&values, SIZE_MAX);
    metric_arrays(metrics, &names, &subsets, &values);
    const char *del[] = {run_id};
    const char *ins[] = {run_id, hret_buf_str(&names), hret_buf_str(&subsets),
                         hret_buf_str(&values)};
    enum hret_result r =
        hret_pg_query(pg, "clear metrics", metrics_delete_sql, 1, del, false, NULL, err);
    if (r == HRET_OK) {
        r = hret_pg_query(pg, "store metrics", metrics_insert_sql, 4, ins, false, NULL, err);
    }
    hret_buf_fini(&names);
    hret_buf_fini(&subsets);
    hret_buf_fini(&values);
    return r;
}

static enum hret_result finish_run(struct hret_pg *pg, const char *run_id,
                                   const struct hret_store_result *res, struct hret_err *err)
{
    char done[32], errors[32], hits[32], finished[64];
    snprintf(done, sizeof done, "%zu", res->done);
    snprintf(errors, sizeof errors, "%zu", res->errors);
    snprintf(hits, sizeof hits, "%zu", res->cache_hits);
    snprintf(finished, sizeof finished, "%.17g", res->finished_at);
    char *metrics = res->metrics ? hret_json_print(res->metrics) : NULL;
    char *info = res->info ? hret_json_print(res->info) : NULL;
    const char *params[] = {run_id,           res->status, metrics, info, res->served_model,
                            res->fingerprint, done,        errors,  hits, res->error,
                            finished};
    PGresult *out = NULL;
    enum hret_result r = hret_pg_query(pg, "finish run", finish_sql, 11, params, false, &out, err);
    if (r == HRET_OK && strcmp(PQcmdTuples(out), "0") == 0) {
        r = hret_err_set(err, HRET_E_INVAL, "postgres: finish run: no run %s", run_id);
    }
    PQclear(out);
    free(metrics);
    free(info);
    return r == HRET_OK ? write_metric_rows(pg, run_id, res->metrics, err) : r;
}

enum hret_result hret_store_run_finish_txn(struct hret_pg *pg, const char *run_id,
                                           const struct hret_store_result *res,
                                           struct hret_err *err)
{
    return finish_run(pg, run_id, res, err);
}

struct samples_job {
    struct hret_store_samples_batch batch; /* samples NULL: none */
    const struct hret_store_result *res;   /* NULL: samples only */
};

static enum hret_result samples_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct samples_job *j = user;
    if (j->batch.samples != NULL && hret_store_samples_copy(pg, &j->batch, err) != HRET_OK) {
        return err->code;
    }
    return j->res != NULL ? finish_run(pg, j->batch.run_id, j->res, err) : HRET_OK;
}

enum hret_result hret_store_samples_write(struct hret_store *s, const char *run_id,
                                          const struct hret_sample *samples,
                                          const struct hret_outcome *outcomes, size_t count,
                                          size_t *inserted, struct hret_err *err)
{
    struct samples_job j = {{run_id, samples, outcomes, count, 0, false}, NULL};
    enum hret_result r = hret_pg_transaction(s->pg, "store samples", samples_txn, &j, err);
    if (inserted != NULL) {
        *inserted = r == HRET_OK ? j.batch.inserted : 0;
    }
    return r;
}

enum hret_result hret_store_run_finish(struct hret_store *s, const char *run_id,
                                       const struct hret_store_result *res, struct hret_err *err)
{
    struct samples_job j = {{run_id, NULL, NULL, 0, 0, false}, res};
    return hret_pg_transaction(s->pg, "finish run", samples_txn, &j, err);
}

struct abandon_job {
    const char *params[2];
};

static enum hret_result abandon_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct abandon_job *j = user;
    return hret_pg_query(
        pg, "abandon run",
        "UPDATE runs SET status = 'failed', error = $2, finished_at = now(),"
        " updated_at = now() WHERE run_id = $1 AND status IN ('planned', 'running')",
        2, j->params, false, NULL, err);
}

enum hret_result hret_store_run_abandon(struct hret_store *s, const char *run_id, const char *error,
                                        struct hret_err *err)
{
    struct abandon_job j = {{run_id, error}};
    return hret_pg_transaction(s->pg, "abandon run", abandon_txn, &j, err);
}

enum hret_result hret_store_run_complete(struct hret_store *s, const char *run_id,
                                         const struct hret_sample *samples,
                                         const struct hret_outcome *outcomes, size_t count,
                                         const struct hret_store_result *res, size_t *inserted,
                                         struct hret_err *err)
{
    struct samples_job j = {{run_id, samples, outcomes, count, 0, false}, res};
    enum hret_result r = hret_pg_transaction(s->pg, "complete run", samples_txn, &j, err);
    if (inserted != NULL) {
        *inserted = r == HRET_OK ? j.batch.inserted : 0;
    }
    return r;
}
