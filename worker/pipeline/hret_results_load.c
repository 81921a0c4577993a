#include "hret_results_load.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *obj, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : def;
}

/* A count in [0, max]: def when absent, clamped when out of range. */
static double count(const cJSON *obj, const char *key, double def, double max)
{
    double v = num(obj, key, def);
    return v < 0 ? 0 : v > max ? max : v;
}

static char *dup_or_null(const cJSON *obj, const char *key)
{
    return hret_xstrdup(str(obj, key));
}

static bool is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36) {
        return false;
    }
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

/* "2026-12-07T10:08:56Z" as Unix seconds (days from the civil date, no time zone database);
 * NAN when it is not that. */
static double iso_time(const char *text)
{
    int y, mo, d, h, mi, sec;
    char z = 0;
    if (text == NULL ||
        sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z) != 7 ||
        z != 'Z' || y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60 || h < 0 || mi < 0 || sec < 0) {
        return NAN;
    }
    y -= mo <= 2;
    long era = y / 400;
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
    o->latency_ms = count(j, "latency_ms", 0, 1e15);
    o->prompt_tokens = (long)count(j, "prompt_tokens", 0, (double)INT_MAX);
    o->completion_tokens = (long)count(j, "completion_tokens", 0, (double)INT_MAX);
    o->attempts = (int)count(j, "attempts", 1, 1e6);
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

enum hret_result hret_results_load(const cJSON *doc, struct hret_results_run *out,
                                   struct hret_err *err)
{
    memset(out, 0, sizeof *out);
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(doc, "run_metadata");
    const cJSON *result = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "results"), 0);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(result, "samples");
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(doc, "metrics");
    if (!cJSON_IsObject(md) || !cJSON_IsArray(list) || !cJSON_IsObject(metrics)) {
        return hret_err_set(err, HRET_E_INVAL,
                            "not a results JSON (expected run_metadata, metrics and "
                            "results[0].samples, as hret run writes them)");
    }
    const char *id = str(md, "run_id");
    snprintf(out->run_id, sizeof out->run_id, "%s", is_uuid(id) ? id : "");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(md, "config");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(result, "info");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(md, "metadata");
    out->run_name = str(md, "run_name");
    out->model = str(md, "model");
    out->dataset = str(md, "dataset");
    out->dataset_version = str(info, "dataset_version");
    out->split = str(config, "split");
    out->method = str(config, "evaluation_method_name");
    out->metadata = cJSON_IsObject(meta) ? meta : NULL;
    out->config = cJSON_IsObject(config) ? config : NULL;
    out->metrics = metrics;
    out->info = cJSON_IsObject(info) ? info : NULL;
    out->partial = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(md, "partial"));
    out->scored = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(metrics, "accuracy"));
    out->started_at = iso_time(str(md, "start_time"));
    out->duration = count(md, "duration", 0, 1e12);
    out->n = (size_t)cJSON_GetArraySize(list);
    out->planned = (size_t)count(md, "planned_samples", (double)out->n, 1e12);
    out->samples = hret_xcalloc(out->n + 1, sizeof *out->samples);
    out->outcomes = hret_xcalloc(out->n + 1, sizeof *out->outcomes);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        read_sample(it, i, &out->samples[i], &out->outcomes[i]);
        out->errors += out->outcomes[i].error_code != HRET_OK;
        i++;
    }
    return HRET_OK;
}

void hret_results_run_fini(struct hret_results_run *r)
{
    for (size_t i = 0; i < r->n && r->samples != NULL; i++) {
        hret_sample_fini(&r->samples[i]);
        hret_outcome_fini(&r->outcomes[i]);
    }
    free(r->samples);
    free(r->outcomes);
    memset(r, 0, sizeof *r);
}
