#include "hret_store_query.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"
#include "hret_results.h"
#include "hret_store_samples.h"

/* A running row of hret run whose heartbeat stopped two minutes ago is shown as abandoned. */
#define SHOWN_STATUS                                                                               \
    "(CASE WHEN status = 'running' AND heartbeat_at < now() - interval '120 seconds'"              \
    " THEN 'abandoned' ELSE status END)"
#define RUN_COLUMNS                                                                                \
    "run_id, request_id, run_name, " SHOWN_STATUS                                                  \
    ", model_name, model_id, served_model, fingerprint,"                                           \
    " endpoint, dataset_name, dataset_version, split, method, error,"                              \
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                   \
    " planned_samples, done_samples, error_samples, cache_hits, extract(epoch FROM started_at),"   \
    " extract(epoch FROM finished_at), start_time, end_time, metadata, config, info, metrics"
#define JSON_MAX ((size_t)256 << 20)

static char *text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : hret_xstrdup(PQgetvalue(res, row, col));
}

static long long integer(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static double number(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
}

static cJSON *json(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        return NULL;
    }
    return hret_json_parse(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col), JSON_MAX,
                           NULL);
}

static void read_run(const PGresult *res, int i, struct hret_store_run_row *r)
{
    char **strings[] = {&r->run_id,     &r->request_id,   &r->run_name,        &r->status,
                        &r->model_name, &r->model_id,     &r->served_model,    &r->fingerprint,
                        &r->endpoint,   &r->dataset_name, &r->dataset_version, &r->split,
                        &r->method,     &r->error,        &r->created_at};
    int col = 0;
    for (size_t k = 0; k < sizeof strings / sizeof strings[0]; k++) {
        *strings[k] = text(res, i, col++);
    }
    r->planned = integer(res, i, col++);
    r->done = integer(res, i, col++);
    r->errors = integer(res, i, col++);
    r->cache_hits = integer(res, i, col++);
    r->started_at = number(res, i, col++);
    r->finished_at = number(res, i, col++);
    r->start_time = number(res, i, col++);
    r->end_time = number(res, i, col++);
    r->metadata = json(res, i, col++);
    r->config = json(res, i, col++);
    r->info = json(res, i, col++);
    r->metrics = json(res, i, col++);
}

void hret_store_run_row_fini(struct hret_store_run_row *r)
{
    char *strings[] = {r->run_id,     r->request_id,   r->run_name,        r->status,
                       r->model_name, r->model_id,     r->served_model,    r->fingerprint,
                       r->endpoint,   r->dataset_name, r->dataset_version, r->split,
                       r->method,     r->error,        r->created_at};
    for (size_t k = 0; k < sizeof strings / sizeof strings[0]; k++) {
        free(strings[k]);
    }
    cJSON_Delete(r->metadata);
    cJSON_Delete(r->config);
    cJSON_Delete(r->info);
    cJSON_Delete(r->metrics);
    memset(r, 0, sizeof *r);
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *time_or_null(double t)
{
    char iso[40];
    if (isnan(t)) {
        return cJSON_CreateNull();
    }
    hret_results_iso_time(t, iso, sizeof iso);
    return cJSON_CreateString(iso);
}

static cJSON *copy_or_null(const cJSON *j)
{
    return j ? cJSON_Duplicate(j, true) : cJSON_CreateNull();
}

cJSON *hret_store_run_row_json(const struct hret_store_run_row *r)
{
    cJSON *j = cJSON_CreateObject();
    const char *keys[] = {"run_id",   "request_id", "run_name",        "status",
                          "model",    "model_id",   "served_model",    "fingerprint",
                          "endpoint", "dataset",    "dataset_version", "split",
                          "method",   "error",      "created_at"};
    const char *values[] = {r->run_id,     r->request_id,   r->run_name,        r->status,
                            r->model_name, r->model_id,     r->served_model,    r->fingerprint,
                            r->endpoint,   r->dataset_name, r->dataset_version, r->split,
                            r->method,     r->error,        r->created_at};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        cJSON_AddItemToObject(j, keys[k], str_or_null(values[k]));
    }
    cJSON_AddItemToObject(j, "started_at", time_or_null(r->started_at));
    cJSON_AddItemToObject(j, "finished_at", time_or_null(r->finished_at));
    cJSON_AddNumberToObject(j, "planned_samples", (double)r->planned);
    cJSON_AddNumberToObject(j, "done_samples", (double)r->done);
    cJSON_AddNumberToObject(j, "error_samples", (double)r->errors);
    cJSON_AddNumberToObject(j, "cache_hits", (double)r->cache_hits);
    cJSON_AddItemToObject(j, "metadata", copy_or_null(r->metadata));
    cJSON_AddItemToObject(j, "metrics", copy_or_null(r->metrics));
    return j;
}

void hret_store_run_rows_free(struct hret_store_run_row *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++) {
        hret_store_run_row_fini(&rows[i]);
    }
    free(rows);
}

/* ---- find ---- */

/* The one resolver of run references (runs show/export, compare, metrics --runs): a run id, a
 * unique prefix of 8+ characters (what hret runs list shows), or a run name (its latest run). */
#define PREFIX_MATCH "(length($1) >= 8 AND left(run_id, length($1)) = $1)"
static const char find_sql[] = "SELECT " RUN_COLUMNS ", run_id = $1, " PREFIX_MATCH
                               " FROM runs WHERE run_id = $1 OR " PREFIX_MATCH
                               " OR run_name = $1 ORDER BY run_id = $1 DESC, " PREFIX_MATCH " DESC,"
                               " created_at DESC LIMIT 10";
#undef PREFIX_MATCH

/* Which row ref means: exact id, the only prefix match, or the newest name match; -1 = none,
 * -2 = ambiguous prefix. */
static int pick(const PGresult *res)
{
    int n = PQntuples(res), ncols = PQnfields(res);
    if (n == 0) {
        return -1;
    }
    if (strcmp(PQgetvalue(res, 0, ncols - 2), "t") == 0) {
        return 0;
    }
    bool prefix0 = strcmp(PQgetvalue(res, 0, ncols - 1), "t") == 0;
    bool prefix1 = n > 1 && strcmp(PQgetvalue(res, 1, ncols - 1), "t") == 0;
    return prefix0 && prefix1 ? -2 : 0;
}

enum hret_result hret_store_run_find(struct hret_store *s, const char *ref,
                                     struct hret_store_run_row *out, struct hret_err *err)
{
    PGresult *res = NULL;
    const char *params[] = {ref};
    if (hret_pg_query(hret_store_pg(s), "find run", find_sql, 1, params, false, &res, err) !=
        HRET_OK) {
        return err->code;
    }
    int row = pick(res);
    enum hret_result r = HRET_OK;
    if (row == -1) {
        r = hret_err_set(err, HRET_E_INVAL,
                         "no run '%s' (give a run id, a unique prefix of it of 8+ characters "
                         "or a run name; hret runs list shows them)",
                         ref);
    } else if (row == -2) {
        r = hret_err_set(err, HRET_E_INVAL, "run prefix '%s' is ambiguous: %s, %s%s", ref,
                         PQgetvalue(res, 0, 0), PQgetvalue(res, 1, 0),
                         PQntuples(res) > 2 ? ", ..." : "");
    } else {
        read_run(res, row, out);
    }
    PQclear(res);
    return r;
}

/* ---- list ---- */

bool hret_store_parse_age(const char *t, char *out, size_t cap)
{
    size_t digits = 0;
    while (isdigit((unsigned char)t[digits])) {
        digits++;
    }
    if (digits == 0 || digits > 9 || t[digits] == '\0' || t[digits + 1] != '\0') {
        return false;
    }
    const char *unit = t[digits] == 's'   ? "seconds"
                       : t[digits] == 'm' ? "minutes"
                       : t[digits] == 'h' ? "hours"
                       : t[digits] == 'd' ? "days"
                       : t[digits] == 'w' ? "weeks"
                                          : NULL;
    if (unit == NULL) {
        return false;
    }
    snprintf(out, cap, "%.*s %s", (int)digits, t, unit);
    return true;
}

static const char list_sql[] =
    "SELECT " RUN_COLUMNS " FROM runs WHERE ($1::text IS NULL OR model_name = $1)"
    " AND ($2::text IS NULL OR dataset_name = $2) AND ($3::text IS NULL OR " SHOWN_STATUS " = $3)"
    " AND ($4::timestamptz IS NULL OR created_at >= $4::timestamptz)"
    " AND ($5::interval IS NULL OR created_at >= now() - $5::interval)"
    " ORDER BY created_at DESC, run_id LIMIT $6::integer";

/* A --since that is not an age must be a time PostgreSQL reads: asked first, so a bad one gets
 * our words instead of the server's SQLSTATE. */
static enum hret_result check_since(struct hret_store *s, const char *since, struct hret_err *err)
{
    const char *params[] = {since};
    enum hret_result r = hret_pg_query(hret_store_pg(s), "check --since", "SELECT $1::timestamptz",
                                       1, params, false, NULL, err);
    if (r != HRET_E_INVAL) {
        return r;
    }
    hret_err_clear(err);
    return hret_err_set(err, HRET_E_INVAL,
                        "--since '%s' is neither a time (2025-01-31, '2025-01-31 12:00+09') nor "
                        "an age (30m, 12h, 7d, 2w)",
                        since);
}

enum hret_result hret_store_runs_list(struct hret_store *s, const struct hret_store_run_filter *f,
                                      struct hret_store_run_row **rows, size_t *n,
                                      struct hret_err *err)
{
    *rows = NULL;
    *n = 0;
    char age[64], limit[32];
    bool is_age = f->since != NULL && hret_store_parse_age(f->since, age, sizeof age);
    if (f->since != NULL && !is_age && check_since(s, f->since, err) != HRET_OK) {
        return err->code;
    }
    snprintf(limit, sizeof limit, "%ld", f->limit > 0 ? f->limit : 1000);
    const char *params[] = {
        f->model, f->dataset, f->status, f->since && !is_age ? f->since : NULL, is_age ? age : NULL,
        limit};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s), "list runs", list_sql, 6, params, false, &res, err) !=
        HRET_OK) {
        return err->code;
    }
    *n = (size_t)PQntuples(res);
    *rows = hret_xcalloc(*n ? *n : 1, sizeof **rows);
    for (size_t i = 0; i < *n; i++) {
        read_run(res, (int)i, &(*rows)[i]);
    }
    PQclear(res);
    return HRET_OK;
}

/* ---- samples ---- */

#define PAGE 2000L

static const char samples_sql[] =
    "SELECT s.sample_idx, s.item_id, s.subset, COALESCE(i.input, ''), s.reference, s.options,"
    " s.prediction, s.finish_reason, s.normalized_pred, s.normalized_ref, s.correct,"
    " s.parse_failure, s.score, s.language_penalizer, s.latency_ms, s.prompt_tokens,"
    " s.completion_tokens, s.attempts, s.error_class, s.error, s.metadata, s.extra"
    " FROM samples s LEFT JOIN sample_inputs i USING (input_hash)"
    " WHERE s.run_id = $1 AND s.sample_idx > $2::integer ORDER BY s.sample_idx LIMIT $3::integer";

/* What metrics and comparisons read, in samples_sql's columns: no prompt, reference, options,
 * prediction, metadata, judge texts, paths or log-probabilities (issue 16 item 7: the last
 * shard aggregates while it holds the request's lock). */
static const char scores_sql[] =
    "SELECT s.sample_idx, s.item_id, s.subset, '', NULL, NULL, NULL, NULL, NULL, NULL, s.correct,"
    " s.parse_failure, s.score, s.language_penalizer, s.latency_ms, s.prompt_tokens,"
    " s.completion_tokens, s.attempts, s.error_class, NULL, NULL,"
    " (s.extra::jsonb - '{judge_prompt,judge_output,paths,path_answers,option_logprobs}'::text[])"
    "::text FROM samples s"
    " WHERE s.run_id = $1 AND s.sample_idx > $2::integer ORDER BY s.sample_idx LIMIT $3::integer";

static enum hret_result class_of(const char *name)
{
    for (int r = HRET_OK; r <= HRET_E_FATAL; r++) {
        if (strcmp(hret_result_name((enum hret_result)r), name) == 0) {
            return (enum hret_result)r;
        }
    }
    return HRET_E_FATAL;
}

static void read_options(const PGresult *res, int i, int col, struct hret_strlist *l)
{
    cJSON *a = json(res, i, col);
    for (const cJSON *it = a ? a->child : NULL; it != NULL; it = it->next) {
        if (cJSON_IsString(it)) {
            hret_strlist_push(l, hret_xstrdup(it->valuestring));
        }
    }
    cJSON_Delete(a);
}

static void read_sample(const PGresult *res, int i, struct hret_sample *s, struct hret_outcome *o)
{
    s->idx = (size_t)integer(res, i, 0);
    s->id = text(res, i, 1);
    s->subset = text(res, i, 2);
    s->input = text(res, i, 3);
    s->reference = text(res, i, 4);
    read_options(res, i, 5, &s->options);
    s->metadata = json(res, i, 20);
    o->done = true;
    o->prediction = text(res, i, 6);
    o->finish_reason = text(res, i, 7);
    o->verdict.normalized_pred = text(res, i, 8);
    o->verdict.normalized_ref = text(res, i, 9);
    o->verdict.correct = !PQgetisnull(res, i, 10) && strcmp(PQgetvalue(res, i, 10), "t") == 0;
    o->verdict.parse_failure = strcmp(PQgetvalue(res, i, 11), "t") == 0;
    o->verdict.score = number(res, i, 12);
    o->language_penalizer = number(res, i, 13);
    o->latency_ms = number(res, i, 14);
    o->prompt_tokens = (long)integer(res, i, 15);
    o->completion_tokens = (long)integer(res, i, 16);
    o->attempts = (int)integer(res, i, 17);
    o->error_code = PQgetisnull(res, i, 18) ? HRET_OK : class_of(PQgetvalue(res, i, 18));
    o->error = text(res, i, 19);
    cJSON *extra = json(res, i, 21);
    hret_store_outcome_extra_read(extra, o);
    cJSON_Delete(extra);
}

/* Appends up to limit samples after sample index after to the arrays (grown as needed); *rows
 * = how many, *last = the last one's index. */
static enum hret_result load_page(struct hret_store *s, const char *sql, const char *run_id,
                                  long long after, long limit, struct hret_sample **sv,
                                  struct hret_outcome **ov, size_t *n, size_t *cap, int *rows,
                                  long long *last, struct hret_err *err)
{
    char after_text[32], limit_text[32];
    snprintf(after_text, sizeof after_text, "%lld", after);
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    const char *params[] = {run_id, after_text, limit_text};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s), "load samples", sql, 3, params, false, &res, err) !=
        HRET_OK) {
        return err->code;
    }
    *rows = PQntuples(res);
    if (*n + (size_t)*rows > *cap) {
        *cap = (*n + (size_t)*rows) * 2;
        *sv = hret_xrealloc(*sv, *cap * sizeof **sv);
        *ov = hret_xrealloc(*ov, *cap * sizeof **ov);
    }
    for (int i = 0; i < *rows; i++, (*n)++) {
        memset(&(*sv)[*n], 0, sizeof **sv);
        memset(&(*ov)[*n], 0, sizeof **ov);
        read_sample(res, i, &(*sv)[*n], &(*ov)[*n]);
    }
    if (*rows > 0) {
        *last = atoll(PQgetvalue(res, *rows - 1, 0));
    }
    PQclear(res);
    return HRET_OK;
}

static enum hret_result load_samples(struct hret_store *s, const char *sql, const char *run_id,
                                     long long first, long max, struct hret_sample **samples,
                                     struct hret_outcome **outcomes, size_t *count,
                                     struct hret_err *err)
{
    size_t n = 0, cap = 0;
    struct hret_sample *sv = NULL;
    struct hret_outcome *ov = NULL;
    long long after = first - 1;
    for (;;) {
        long want = max > 0 && max - (long)n < PAGE ? max - (long)n : PAGE;
        int rows = 0;
        if (load_page(s, sql, run_id, after, want, &sv, &ov, &n, &cap, &rows, &after, err) !=
            HRET_OK) {
            break;
        }
        if (rows < want || (max > 0 && (long)n >= max)) {
            *samples = sv ? sv : hret_xcalloc(1, sizeof *sv);
            *outcomes = ov ? ov : hret_xcalloc(1, sizeof *ov);
            *count = n;
            return HRET_OK;
        }
    }
    for (size_t i = 0; i < n; i++) {
        hret_sample_fini(&sv[i]);
        hret_outcome_fini(&ov[i]);
    }
    free(sv);
    free(ov);
    return err->code;
}

enum hret_result hret_store_samples_load(struct hret_store *s, const char *run_id,
                                         struct hret_sample **samples,
                                         struct hret_outcome **outcomes, size_t *count,
                                         struct hret_err *err)
{
    return load_samples(s, samples_sql, run_id, 0, 0, samples, outcomes, count, err);
}

enum hret_result hret_store_samples_load_scores(struct hret_store *s, const char *run_id,
                                                struct hret_sample **samples,
                                                struct hret_outcome **outcomes, size_t *count,
                                                struct hret_err *err)
{
    return load_samples(s, scores_sql, run_id, 0, 0, samples, outcomes, count, err);
}

enum hret_result hret_store_samples_page(struct hret_store *s, const char *run_id, long long first,
                                         long limit, struct hret_sample **samples,
                                         struct hret_outcome **outcomes, size_t *count,
                                         struct hret_err *err)
{
    return load_samples(s, samples_sql, run_id, first, limit > 0 ? limit : 1, samples, outcomes,
                        count, err);
}

/* ---- metric points ---- */

static const char points_sql[] =
    "SELECT r.run_id, r.run_name, r.model_name, r.dataset_name, r.status,"
    " to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " CASE $6::text WHEN 'model' THEN r.model_name WHEN 'dataset' THEN r.dataset_name"
    " WHEN 'method' THEN r.method WHEN 'split' THEN r.split WHEN 'status' THEN r.status"
    " WHEN 'metadata' THEN r.metadata #>> string_to_array($7::text, '.') END, m.value"
    " FROM metrics m JOIN runs r USING (run_id)"
    " WHERE m.name = $1 AND m.subset = $2 AND ($3::text IS NULL OR r.model_name = $3)"
    " AND ($4::text IS NULL OR r.dataset_name = $4)"
    " AND ($5::text[] IS NULL OR r.run_id = ANY ($5::text[]))"
    " ORDER BY r.created_at, r.run_id";

static const char names_sql[] =
    "SELECT DISTINCT name FROM metrics WHERE subset = $1 ORDER BY name LIMIT 10000";

enum hret_result hret_store_metric_names(struct hret_store *s, const char *subset,
                                         struct hret_strlist *names, struct hret_err *err)
{
    const char *params[] = {subset ? subset : ""};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s), "metric names", names_sql, 1, params, false, &res, err) !=
        HRET_OK) {
        return err->code;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        hret_strlist_push(names, hret_xstrdup(PQgetvalue(res, i, 0)));
    }
    PQclear(res);
    return HRET_OK;
}

/* Splits group_by into the column selector and metadata path; false when unknown. */
static bool group_parts(const char *g, const char **column, const char **path)
{
    static const char *const columns[] = {"model", "dataset", "method", "split", "status"};
    *column = NULL;
    *path = NULL;
    if (g == NULL) {
        return true;
    }
    if (strncmp(g, "metadata.", 9) == 0 && g[9] != '\0') {
        *column = "metadata";
        *path = g + 9;
        return true;
    }
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++) {
        if (strcmp(g, columns[i]) == 0) {
            *column = columns[i];
            return true;
        }
    }
    return false;
}

void hret_store_metric_points_free(struct hret_store_metric_point *p, size_t n)
{
    for (size_t i = 0; p != NULL && i < n; i++) {
        free(p[i].run_id);
        free(p[i].run_name);
        free(p[i].model_name);
        free(p[i].dataset_name);
        free(p[i].status);
        free(p[i].created_at);
        free(p[i].group);
    }
    free(p);
}

enum hret_result hret_store_metric_points(struct hret_store *s,
                                          const struct hret_store_metric_query *q,
                                          struct hret_store_metric_point **points, size_t *n,
                                          struct hret_err *err)
{
    *points = NULL;
    *n = 0;
    const char *column, *path;
    if (!group_parts(q->group_by, &column, &path)) {
        return hret_err_set(err, HRET_E_INVAL,
                            "cannot group by '%s': use metadata.<key>[.<key>...], model, dataset, "
                            "method, split or status",
                            q->group_by);
    }
    struct hret_buf ids;
    hret_buf_init(&ids, SIZE_MAX);
    if (q->runs != NULL) {
        hret_store_array_literal(&ids, (const char *const *)q->runs->items, q->runs->count);
    }
    const char *params[] = {q->metric,  q->subset ? q->subset : "",          q->model,
                            q->dataset, q->runs ? hret_buf_str(&ids) : NULL, column,
                            path};
    PGresult *res = NULL;
    enum hret_result r =
        hret_pg_query(hret_store_pg(s), "metric values", points_sql, 7, params, false, &res, err);
    hret_buf_fini(&ids);
    if (r != HRET_OK) {
        return r;
    }
    *n = (size_t)PQntuples(res);
    *points = hret_xcalloc(*n ? *n : 1, sizeof **points);
    for (int i = 0; i < (int)*n; i++) {
        struct hret_store_metric_point *p = &(*points)[i];
        p->run_id = text(res, i, 0);
        p->run_name = text(res, i, 1);
        p->model_name = text(res, i, 2);
        p->dataset_name = text(res, i, 3);
        p->status = text(res, i, 4);
        p->created_at = text(res, i, 5);
        p->group = text(res, i, 6);
        p->value = number(res, i, 7);
    }
    PQclear(res);
    return HRET_OK;
}

enum hret_result hret_store_samples_compare_run(struct hret_store *s, const char *run_id,
                                                struct hret_compare_run *run, struct hret_err *err)
{
    struct hret_sample *samples = NULL;
    struct hret_outcome *outcomes = NULL;
    size_t count = 0;
    if (hret_store_samples_load_scores(s, run_id, &samples, &outcomes, &count, err) != HRET_OK) {
        return err->code;
    }
    for (size_t i = 0; i < count; i++) {
        bool error = !outcomes[i].done || outcomes[i].error_code != HRET_OK;
        hret_compare_run_add(run, samples[i].id, samples[i].subset,
                             !error && outcomes[i].verdict.correct, error);
        hret_sample_fini(&samples[i]);
        hret_outcome_fini(&outcomes[i]);
    }
    free(samples);
    free(outcomes);
    return HRET_OK;
}

cJSON *hret_store_metric_point_json(const struct hret_store_metric_point *p, const char *metric,
                                    const char *subset)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "run_id", p->run_id);
    cJSON_AddItemToObject(j, "run_name",
                          p->run_name ? cJSON_CreateString(p->run_name) : cJSON_CreateNull());
    cJSON_AddStringToObject(j, "model", p->model_name);
    cJSON_AddStringToObject(j, "dataset", p->dataset_name);
    cJSON_AddStringToObject(j, "status", p->status);
    cJSON_AddStringToObject(j, "created_at", p->created_at);
    cJSON_AddStringToObject(j, "metric", metric);
    cJSON_AddStringToObject(j, "subset", subset ? subset : "");
    cJSON_AddNumberToObject(j, "value", p->value);
    return j;
}

void hret_store_run_results_meta(const struct hret_store_run_row *r, struct hret_results_meta *out)
{
    *out = (struct hret_results_meta){
        .run_id = r->run_id,
        .run_name = r->run_name,
        .dataset = r->dataset_name,
        .model = r->model_name,
        .start_time = isnan(r->start_time) ? r->started_at : r->start_time,
        .end_time = isnan(r->end_time) ? r->finished_at : r->end_time,
        .partial = strcmp(r->status, "partial") == 0,
        .planned = (size_t)r->planned,
        .config = r->config,
        .info = r->info,
        .metadata = r->metadata,
    };
}
