#include "hret_store_import.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_mem.h"
#include "hret_pg.h"

static const char existing_sql[] =
    "SELECT status, status = 'running' AND heartbeat_at < now() - interval '2 minutes'"
    " FROM runs WHERE run_id = $1";
static const char delete_sql[] = "DELETE FROM runs WHERE run_id = $1"; /* samples cascade */

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *obj, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static char *dup_or_null(const cJSON *obj, const char *key)
{
    return hret_xstrdup(str(obj, key));
}

/* "2026-12-07T10:08:56Z" as Unix seconds (days from the civil date, no time zone database);
 * NAN when it is not that. */
static double iso_time(const char *text)
{
    int y, mo, d, h, mi, sec;
    char z = 0;
    if (text == NULL ||
        sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z) != 7 ||
        z != 'Z') {
        return NAN;
    }
    y -= mo <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    double days = (double)(era * 146097 + doe - 719468);
    return days * 86400 + h * 3600 + mi * 60 + sec;
}

static enum hret_result error_code(const char *name)
{
    for (int r = HRET_AGAIN; r <= HRET_E_FATAL; r++) {
        if (name != NULL && strcmp(hret_result_name((enum hret_result)r), name) == 0) {
            return (enum hret_result)r;
        }
    }
    return HRET_E_UNAVAILABLE;
}

static void strings(const cJSON *arr, struct hret_strlist *out)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it)) {
            hret_strlist_push(out, hret_xstrdup(it->valuestring));
        }
    }
}

/* One results-file sample (hret_results_sample's keys) back into a sample and its outcome. */
static void read_sample(const cJSON *j, size_t idx, struct hret_sample *s, struct hret_outcome *o)
{
    s->idx = idx;
    s->id = dup_or_null(j, "id");
    s->subset = dup_or_null(j, "_subset_name");
    s->input = hret_xstrdup(str(j, "input") ? str(j, "input") : "");
    s->reference = dup_or_null(j, "reference");
    strings(cJSON_GetObjectItemCaseSensitive(j, "options"), &s->options);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "metadata");
    s->metadata = cJSON_IsObject(meta) ? cJSON_Duplicate(meta, true) : NULL;
    o->done = true;
    o->prediction = dup_or_null(j, "prediction");
    o->language_penalizer = num(j, "language_penalizer", NAN);
    o->latency_ms = num(j, "latency_ms", 0);
    o->prompt_tokens = (long)num(j, "prompt_tokens", 0);
    o->completion_tokens = (long)num(j, "completion_tokens", 0);
    o->attempts = (int)num(j, "attempts", 1);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "evaluation");
    if (str(j, "error") != NULL || !cJSON_IsObject(e)) {
        o->error_code = error_code(str(j, "error_class"));
        o->error = hret_xstrdup(str(j, "error") ? str(j, "error") : "no evaluation in the file");
        return;
    }
    o->finish_reason = dup_or_null(j, "finish_reason");
    o->verdict.correct = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "is_correct"));
    o->verdict.parse_failure = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "parse_failure"));
    o->verdict.score = num(e, "score", NAN);
    o->verdict.normalized_pred = dup_or_null(e, "normalized_pred");
    o->verdict.normalized_ref = dup_or_null(e, "normalized_ref");
}

/* Refuses to replace a run that is not abandoned or partial; deletes one that is. */
static enum hret_result make_room(struct hret_store *s, const char *run_id, struct hret_err *err)
{
    const char *params[] = {run_id};
    PGresult *res = NULL;
    struct hret_pg *pg = hret_store_pg(s);
    enum hret_result r = hret_pg_query(pg, "find run", existing_sql, 1, params, false, &res, err);
    if (r != HRET_OK || PQntuples(res) == 0) {
        PQclear(res);
        return r;
    }
    const char *status = PQgetvalue(res, 0, 0);
    bool abandoned = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    if (!abandoned && strcmp(status, "partial") != 0) {
        r = hret_err_set(err, HRET_E_CONFLICT,
                         "run %s exists and is %s: refused (only an abandoned or a partial run is "
                         "replaced)",
                         run_id, status);
    }
    PQclear(res);
    return r == HRET_OK ? hret_pg_query(pg, "replace run", delete_sql, 1, params, false, NULL, err)
                        : r;
}

static enum hret_result store(struct hret_store *s, const cJSON *doc, const char *run_id,
                              struct hret_sample *samples, struct hret_outcome *outcomes, size_t n,
                              struct hret_err *err)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(doc, "run_metadata");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(md, "config");
    const cJSON *result = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "results"), 0);
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(doc, "metrics");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(result, "info");
    double start = iso_time(str(md, "start_time"));
    start = isnan(start) ? (double)time(NULL) : start;
    struct hret_store_run run = {
        .run_id = run_id,
        .run_name = str(md, "run_name"),
        .model_name = str(md, "model") ? str(md, "model") : "unknown",
        .dataset_name = str(md, "dataset") ? str(md, "dataset") : "unknown",
        .dataset_version = str(info, "dataset_version"),
        .split = str(config, "split"),
        .method = str(config, "evaluation_method_name"),
        .planned = (size_t)num(md, "planned_samples", (double)n),
        .metadata = cJSON_GetObjectItemCaseSensitive(md, "metadata"),
        .config = cJSON_IsObject(config) ? config : NULL,
        .started_at = start,
    };
    size_t errors = 0, inserted = 0;
    for (size_t i = 0; i < n; i++) {
        errors += outcomes[i].error_code != HRET_OK;
    }
    bool partial = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(md, "partial"));
    bool scored = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(metrics, "accuracy"));
    struct hret_store_result res = {
        .status = partial  ? "partial"
                  : scored ? "completed"
                           : "failed",
        .metrics = metrics,
        .info = cJSON_IsObject(info) ? info : NULL,
        .error = partial || scored ? NULL : "nothing scored (imported)",
        .done = n,
        .errors = errors,
        .finished_at = start + num(md, "duration", 0),
    };
    enum hret_result r = hret_store_run_begin(s, &run, err);
    return r == HRET_OK
               ? hret_store_run_complete(s, run_id, samples, outcomes, n, &res, &inserted, err)
               : r;
}

enum hret_result hret_store_run_import(struct hret_store *s, const cJSON *doc, char run_id[37],
                                       size_t *count, struct hret_err *err)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(doc, "run_metadata");
    const cJSON *result = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "results"), 0);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(result, "samples");
    if (!cJSON_IsObject(md) || !cJSON_IsArray(list) ||
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "metrics"))) {
        return hret_err_set(err, HRET_E_INVAL,
                            "not a results JSON (expected run_metadata, metrics and "
                            "results[0].samples, as hret run writes them)");
    }
    const char *id = str(md, "run_id");
    if (id != NULL && strlen(id) == 36) {
        memcpy(run_id, id, 37);
    } else {
        hret_store_new_run_id(run_id);
    }
    size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
    struct hret_sample *samples = hret_xcalloc(n + 1, sizeof *samples);
    struct hret_outcome *outcomes = hret_xcalloc(n + 1, sizeof *outcomes);
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        read_sample(it, i, &samples[i], &outcomes[i]);
        i++;
    }
    enum hret_result r = make_room(s, run_id, err);
    if (r == HRET_OK) {
        r = store(s, doc, run_id, samples, outcomes, n, err);
    }
    for (i = 0; i < n; i++) {
        hret_sample_fini(&samples[i]);
        hret_outcome_fini(&outcomes[i]);
    }
    free(samples);
    free(outcomes);
    *count = n;
    return r;
}
