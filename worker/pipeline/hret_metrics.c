#include "hret_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"

#define Z95 1.959963984540054

void hret_metrics_wilson(double k, double n, double z, double *lo, double *hi)
{
    if (n <= 0) {
        *lo = *hi = 0;
        return;
    }
    double p = k / n, z2 = z * z;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
    *lo = fmax(0.0, centre - half);
    *hi = fmin(1.0, centre + half);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double hret_metrics_quantile(double *values, size_t n, double q)
{
    if (n == 0) {
        return 0;
    }
    qsort(values, n, sizeof *values, cmp_double);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return values[lo] + (values[hi] - values[lo]) * (pos - (double)lo);
}

struct subset_tally {
    char *name; /* owned */
    double correct, answered;
    size_t first; /* the lowest sample index answered: subsets are reported in that order */
};

static struct subset_tally *tally_for(struct subset_tally **list, size_t *n, size_t *alloc,
                                      const char *name, size_t idx)
{
    for (size_t i = *n; i > 0; i--) { /* samples come grouped: the last is the likely hit */
        if (strcmp((*list)[i - 1].name, name) == 0) {
            struct subset_tally *t = &(*list)[i - 1];
            t->first = idx < t->first ? idx : t->first;
            return t;
        }
    }
    if (*n == *alloc) {
        *alloc = *alloc ? *alloc * 2 : 16;
        *list = hret_xrealloc(*list, *alloc * sizeof **list);
    }
    (*list)[*n] = (struct subset_tally){hret_xstrdup(name), 0, 0, idx};
    return &(*list)[(*n)++];
}

/* llm_judge and --language-gate counts over answered samples. */
struct mode_tally {
    double judged, judge_failures, score_sum, scored, pairs, pairs_won;
    double gated, gate_failures, gate_flipped;
};

static void tally_modes(struct mode_tally *t, const struct hret_outcome *o)
{
    if (o->judge_type != NULL) {
        t->judged++;
        t->judge_failures += o->verdict.parse_failure;
        if (!o->verdict.parse_failure && !isnan(o->verdict.score)) {
            t->score_sum += o->verdict.score;
            t->scored++;
        }
        if (strcmp(o->judge_type, "response_comparison") == 0) {
            t->pairs++;
            t->pairs_won += o->verdict.correct;
        }
    }
    if (o->gate != HRET_GATE_OFF) {
        t->gated++;
        t->gate_failures += o->gate == HRET_GATE_FAILED;
        t->gate_flipped += o->gate_flipped;
    }
}

/* average_judge_score: mean of the parsed scores; judge_accuracy: pairwise winners equal to
 * the reference over judged pairwise samples (HRET divides by all samples; unparsable verdicts
 * count as wrong here too); judge_parse_failures; language_gate_failures / _flipped. */
static void add_modes(cJSON *m, const struct mode_tally *t)
{
    if (t->judged > 0) {
        cJSON_AddNumberToObject(m, "judged", t->judged);
        cJSON_AddNumberToObject(m, "judge_parse_failures", t->judge_failures);
        if (t->scored > 0) {
            cJSON_AddNumberToObject(m, "average_judge_score", t->score_sum / t->scored);
        }
        if (t->pairs > 0) {
            cJSON_AddNumberToObject(m, "judge_accuracy", t->pairs_won / t->pairs);
        }
    }
    if (t->gated > 0) {
        cJSON_AddNumberToObject(m, "language_gate_failures", t->gate_failures);
        cJSON_AddNumberToObject(m, "language_gate_flipped", t->gate_flipped);
    }
}

/* A subset's accuracy; a subset without an answered sample has none (left out, never 0). */
static void add_subset_accuracy(cJSON *m, const char *subset, double correct, double answered)
{
    if (answered > 0) {
        char key[512];
        snprintf(key, sizeof key, "%s/accuracy", subset);
        cJSON_AddNumberToObject(m, key, correct / answered);
    }
}

/* accuracy with its standard error and Wilson interval; null without an answered sample. */
static void add_accuracy(cJSON *m, double correct, double answered)
{
    if (answered <= 0) {
        cJSON_AddNullToObject(m, "accuracy");
        return;
    }
    double p = correct / answered, lo, hi;
    hret_metrics_wilson(correct, answered, Z95, &lo, &hi);
    cJSON_AddNumberToObject(m, "accuracy", p);
    cJSON_AddNumberToObject(m, "accuracy_stderr", sqrt(p * (1 - p) / answered));
    cJSON_AddNumberToObject(m, "accuracy_ci_low", lo);
    cJSON_AddNumberToObject(m, "accuracy_ci_high", hi);
}

const char *hret_metrics_nothing_scored(const cJSON *metrics)
{
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(metrics, "accuracy");
    if (cJSON_IsNumber(acc)) {
        return NULL;
    }
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(metrics, "total");
    if (!cJSON_IsNumber(total) || total->valuedouble <= 0) {
        return "the dataset has no samples (an empty file or subset, a limit of 0, or few-shot "
               "examples took every item)";
    }
    return "every request failed (errors are in the results)";
}

/* What the metrics need of every finished sample, gathered as samples finish. */
struct hret_metrics_acc {
    double correct, answered, errors, parse_failures, total;
    double tokens_in, tokens_out, penal_sum, penal_n;
    double *latencies; /* of answered samples */
    size_t nlat, lat_alloc, nsubsets, subsets_alloc;
    struct subset_tally *subsets;
    struct mode_tally modes;
};

struct hret_metrics_acc *hret_metrics_acc_new(void)
{
    return hret_xcalloc(1, sizeof(struct hret_metrics_acc));
}

void hret_metrics_acc_destroy(struct hret_metrics_acc *a)
{
    if (a == NULL) {
        return;
    }
    for (size_t i = 0; i < a->nsubsets; i++) {
        free(a->subsets[i].name);
    }
    free(a->subsets);
    free(a->latencies);
    free(a);
}

void hret_metrics_acc_add(struct hret_metrics_acc *a, size_t idx, const struct hret_sample *s,
                          const struct hret_outcome *o)
{
    if (!o->done) { /* a stopped run reports what finished */
        return;
    }
    a->total++;
    a->tokens_in += (double)o->prompt_tokens;
    a->tokens_out += (double)o->completion_tokens;
    if (o->error_code != HRET_OK) {
        a->errors++;
        return;
    }
    a->answered++;
    a->correct += o->verdict.correct;
    a->parse_failures += o->verdict.parse_failure;
    tally_modes(&a->modes, o);
    if (a->nlat == a->lat_alloc) {
        a->lat_alloc = a->lat_alloc ? a->lat_alloc * 2 : 1024;
        a->latencies = hret_xrealloc(a->latencies, a->lat_alloc * sizeof *a->latencies);
    }
    a->latencies[a->nlat++] = o->latency_ms;
    if (!isnan(o->language_penalizer)) {
        a->penal_sum += o->language_penalizer;
        a->penal_n++;
    }
    if (s->subset != NULL) {
        struct subset_tally *t =
            tally_for(&a->subsets, &a->nsubsets, &a->subsets_alloc, s->subset, idx);
        t->correct += o->verdict.correct;
        t->answered++;
    }
}

size_t hret_metrics_acc_answered(const struct hret_metrics_acc *a, const char *subset, size_t len)
{
    for (size_t i = 0; i < a->nsubsets; i++) {
        if (strlen(a->subsets[i].name) == len && memcmp(a->subsets[i].name, subset, len) == 0) {
            return (size_t)a->subsets[i].answered;
        }
    }
    return 0;
}

static int by_first(const void *x, const void *y)
{
    const struct subset_tally *a = x, *b = y;
    return (a->first > b->first) - (a->first < b->first);
}

cJSON *hret_metrics_acc_finish(struct hret_metrics_acc *a, const struct hret_prices *prices)
{
    if (a->nsubsets > 1) {
        qsort(a->subsets, a->nsubsets, sizeof *a->subsets, by_first);
    }
    double answered = a->answered, total = a->total, errors = a->errors;
    cJSON *m = cJSON_CreateObject();
    add_accuracy(m, a->correct, answered);
    double macro = 0, scored_subsets = 0;
    for (size_t i = 0; i < a->nsubsets; i++) {
        const struct subset_tally *t = &a->subsets[i];
        add_subset_accuracy(m, t->name, t->correct, t->answered);
        macro += t->answered > 0 ? t->correct / t->answered : 0;
        scored_subsets += t->answered > 0;
    }
    if (scored_subsets > 0) {
        cJSON_AddNumberToObject(m, "macro_accuracy", macro / scored_subsets);
    }
    cJSON_AddNumberToObject(m, "total", total);
    cJSON_AddNumberToObject(m, "answered", answered);
    cJSON_AddNumberToObject(m, "correct", a->correct);
    cJSON_AddNumberToObject(m, "errors", errors);
    cJSON_AddNumberToObject(m, "error_rate", total > 0 ? errors / total : 0);
    cJSON_AddNumberToObject(m, "parse_failures", a->parse_failures);
    cJSON_AddNumberToObject(m, "parse_failure_rate",
                            answered > 0 ? a->parse_failures / answered : 0);
    if (a->penal_n > 0) {
        cJSON_AddNumberToObject(m, "language_penalizer_average", a->penal_sum / a->penal_n);
    }
    add_modes(m, &a->modes);
    double *lat = a->latencies;
    cJSON_AddNumberToObject(m, "latency_p50_ms", hret_metrics_quantile(lat, a->nlat, 0.50));
    cJSON_AddNumberToObject(m, "latency_p90_ms", hret_metrics_quantile(lat, a->nlat, 0.90));
    cJSON_AddNumberToObject(m, "latency_p99_ms", hret_metrics_quantile(lat, a->nlat, 0.99));
    cJSON_AddNumberToObject(m, "tokens_in", a->tokens_in);
    cJSON_AddNumberToObject(m, "tokens_out", a->tokens_out);
    cJSON_AddNumberToObject(m, "cost",
                            prices ? a->tokens_in / 1e6 * prices->input_per_1m +
                                         a->tokens_out / 1e6 * prices->output_per_1m
                                   : 0);
    return m;
}

cJSON *hret_metrics_compute(const struct hret_sample *samples, const struct hret_outcome *outcomes,
                            size_t count, const struct hret_prices *prices)
{
    struct hret_metrics_acc *a = hret_metrics_acc_new();
    for (size_t i = 0; i < count; i++) {
        hret_metrics_acc_add(a, i, &samples[i], &outcomes[i]);
    }
    cJSON *m = hret_metrics_acc_finish(a, prices);
    hret_metrics_acc_destroy(a);
    return m;
}
