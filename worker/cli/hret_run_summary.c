/* hret run's summary on the terminal. */
#include "hret_run_summary.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"
#include "hret_metrics.h"

#define TOP_ERRORS 3

static double metric(const cJSON *m, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int by_value(const void *a, const void *b)
{
    double x = (*(const cJSON *const *)a)->valuedouble, y = (*(const cJSON *const *)b)->valuedouble;
    return (x > y) - (x < y);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The message without curl's " after N ms", so one cause counts as one reason. Caller owns. */
static char *without_timing(const char *error)
{
    char *out = hret_xstrdup(error);
    char *p = strstr(out, " after ");
    while (p != NULL) {
        char *q = p + 7;
        size_t digits = strspn(q, "0123456789");
        if (digits > 0 && strncmp(q + digits, " ms", 3) == 0) {
            memmove(p, q + digits + 3, strlen(q + digits + 3) + 1);
        } else {
            p++;
        }
        p = strstr(p, " after ");
    }
    return out;
}

struct tally {
    const char *error;
    size_t n;
};

/* Keeps the TOP_ERRORS largest counts in top (sorted, largest first). */
static void rank(struct tally *top, struct tally t)
{
    for (size_t k = TOP_ERRORS; k > 0 && (top[k - 1].error == NULL || top[k - 1].n < t.n); k--) {
        top[k] = top[k - 1];
        top[k - 1] = t;
    }
}

/* The most frequent error messages with their counts, and a hint for a base_url without /v1
 * that answers 404. */
static void print_top_errors(FILE *out, const struct hret_run_summary *s)
{
    struct tally top[TOP_ERRORS + 1] = {{0}};
    char **errors = hret_xcalloc(s->errors->count + 1, sizeof *errors);
    size_t n = 0;
    for (size_t i = 0; i < s->errors->count; i++) {
        errors[n++] = without_timing(s->errors->items[i]);
    }
    qsort(errors, n, sizeof *errors, by_text);
    bool http404 = false;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(errors[i], errors[j]) == 0; j++) {
        }
        http404 |= strncmp(errors[i], "HTTP 404", 8) == 0;
        rank(top, (struct tally){errors[i], j - i});
    }
    for (size_t k = 0; k < TOP_ERRORS && top[k].error != NULL; k++) {
        fprintf(out, "%s%zu × %s", k == 0 ? "  top errors: " : "; ", top[k].n, top[k].error);
    }
    if (n > 0) {
        fputc('\n', out);
    }
    for (size_t i = 0; i < n; i++) {
        free(errors[i]);
    }
    free(errors);
    if (http404) {
        hret_run_summary_hint_v1(out, s->model->base_url);
    }
}

void hret_run_summary_hint_v1(FILE *out, const char *base_url)
{
    if (strstr(base_url, "/v1") == NULL) {
        fprintf(out,
                "  hint             base_url %s has no /v1: OpenAI-compatible servers serve "
                "/v1/chat/completions (try %s/v1)\n",
                base_url, base_url);
    }
}

/* Answered samples of a subset. */
static size_t answered_in(const struct hret_run_summary *s, const char *subset, size_t len)
{
    return hret_metrics_acc_answered(s->tally, subset, len);
}

/* Per-subset accuracy with n, worst first: all of them when few, else the five lowest and the
 * five highest. */
static void print_subsets(FILE *out, const struct hret_run_summary *s)
{
    const cJSON *m = s->metrics;
    const cJSON *rows[4096];
    size_t n = 0;
    for (const cJSON *it = m->child; it != NULL && n < 4096; it = it->next) {
        const char *slash = strrchr(it->string, '/');
        if (slash != NULL && strcmp(slash, "/accuracy") == 0) {
            rows[n++] = it;
        }
    }
    qsort(rows, n, sizeof rows[0], by_value);
    if (n > 0) {
        fprintf(out, "  per subset, worst first (accuracy, n answered):\n");
    }
    for (size_t i = 0; i < n; i++) {
        if (n > 12 && i == 5) {
            fprintf(out, "    ... %zu more subsets (all of them are in the results JSON) ...\n",
                    n - 10);
            i = n - 5;
        }
        const char *name = rows[i]->string;
        int len = (int)(strrchr(name, '/') - name);
        fprintf(out, "    %-44.*s %.4f  n=%zu\n", len, name, rows[i]->valuedouble,
                answered_in(s, name, (size_t)len));
    }
}

/* The scoring modes' lines: judge metrics, the language gate. */
static void print_modes(FILE *out, const cJSON *m)
{
    if (cJSON_GetObjectItemCaseSensitive(m, "judged") != NULL) {
        fprintf(out, "  judge      %.0f judged, %.0f unparsable", metric(m, "judged"),
                metric(m, "judge_parse_failures"));
        if (cJSON_GetObjectItemCaseSensitive(m, "average_judge_score") != NULL) {
            fprintf(out, ", average score %.4f", metric(m, "average_judge_score"));
        }
        if (cJSON_GetObjectItemCaseSensitive(m, "judge_accuracy") != NULL) {
            fprintf(out, ", judge accuracy %.4f", metric(m, "judge_accuracy"));
        }
        fputc('\n', out);
    }
    if (cJSON_GetObjectItemCaseSensitive(m, "language_gate_failures") != NULL) {
        fprintf(out,
                "  language gate  %.0f non-Korean answers marked wrong (%.0f of them were "
                "correct)\n",
                metric(m, "language_gate_failures"), metric(m, "language_gate_flipped"));
    }
}

void hret_run_summary_print(FILE *out, const struct hret_run_summary *s)
{
    const cJSON *m = s->metrics;
    const struct hret_run_report *rep = s->report;
    const struct hret_dataset *ds = s->ds;
    double rate = metric(m, "error_rate");
    char high[64] = "";
    if (rate > s->high_error_rate) {
        snprintf(high, sizeof high, "HIGH ERROR RATE %.1f%%: ", 100 * rate);
    }
    fprintf(out, "%s%s%s on %s (%s, %zu samples, version %s) with model %s (%s)\n", high,
            rep->partial ? "PARTIAL run " : "run ", s->run_name ? s->run_name : "", ds->name,
            s->split ? s->split : "test", ds->count, ds->version, s->model->name,
            rep->served_model ? rep->served_model : s->model->model);
    const char *nothing = hret_metrics_nothing_scored(m);
    if (nothing != NULL) {
        fprintf(out, "  accuracy   -  nothing scored: %s\n", nothing);
    } else {
        fprintf(out, "  accuracy   %.4f  95%% CI [%.4f, %.4f]  (%.0f correct of %.0f answered)\n",
                metric(m, "accuracy"), metric(m, "accuracy_ci_low"), metric(m, "accuracy_ci_high"),
                metric(m, "correct"), metric(m, "answered"));
    }
    fprintf(out, "  errors     %.0f (%.2f%%)  parse failures %.0f  retries %llu  429s %llu\n",
            metric(m, "errors"), 100 * metric(m, "error_rate"), metric(m, "parse_failures"),
            rep->retries, rep->http_429);
    if (s->invalid_utf8 > 0) {
        fprintf(out, "  input      %zu invalid UTF-8 sequence%s replaced by U+FFFD\n",
                s->invalid_utf8, s->invalid_utf8 == 1 ? "" : "s");
    }
    print_top_errors(out, s);
    print_subsets(out, s);
    print_modes(out, m);
    if (cJSON_GetObjectItemCaseSensitive(m, "macro_accuracy") != NULL) {
        fprintf(out, "  macro accuracy over subsets %.4f\n", metric(m, "macro_accuracy"));
    }
    fprintf(out, "  latency    p50 %.1f ms  p90 %.1f ms  p99 %.1f ms\n",
            metric(m, "latency_p50_ms"), metric(m, "latency_p90_ms"), metric(m, "latency_p99_ms"));
    fprintf(out, "  tokens     in %.0f  out %.0f  cost %.4f\n", metric(m, "tokens_in"),
            metric(m, "tokens_out"), metric(m, "cost"));
    fprintf(out, "  throughput %.1f samples/s over %.2f s\n",
            rep->elapsed_s > 0 ? (double)rep->done / rep->elapsed_s : 0, rep->elapsed_s);
    if (rep->served_model_changed) {
        fprintf(out, "  WARNING: the endpoint reported more than one model id during the run\n");
    }
}
