#include "hret_report.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_html.h"
#include "hret_mem.h"
#include "hret_metrics.h"
#include "hret_results.h"
#include "hret_stats.h"

#define PAGE_CAP ((size_t)256 << 20) /* bytes of one page */
#define Z95 1.959963984540054
#define TOP_ERRORS 5

/* ---- the page frame ---- */

static const char css[] =
    ":root{color-scheme:light dark;--bg:#fbfbfd;--fg:#1d1d22;--muted:#6b6b76;--line:#d9d9e0;"
    "--card:#fff;--bar:#4f6bed;--whisker:#1d1d22;--better:#1a7f37;--worse:#cf222e;"
    "--same:#8c8c96;--alert:#cf222e;--mark:#bf8700}"
    "@media (prefers-color-scheme:dark){:root{--bg:#15161a;--fg:#e8e8ee;--muted:#9a9aa6;"
    "--line:#34353d;--card:#1d1e23;--bar:#7d93ff;--whisker:#e8e8ee;--better:#4ac26b;"
    "--worse:#ff6a69;--same:#8c8c96;--alert:#ff6a69;--mark:#e3b341}}"
    "body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"
    "'Segoe UI','Noto Sans CJK KR','Noto Sans KR','Apple SD Gothic Neo','Malgun Gothic',"
    "'Nanum Gothic',sans-serif;word-break:keep-all}"
    "main{max-width:900px;margin:0 auto;padding:24px 20px 64px}"
    "h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:40px 0 8px}"
    "h3{font-size:16px;margin:24px 0 8px}.muted,.meta{color:var(--muted)}"
    "section{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:4px 20px 16px;margin:20px 0}"
    ".facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:8px;"
    "margin:12px 0}.fact{border:1px solid var(--line);border-radius:8px;padding:8px 10px}"
    ".fact b{display:block;font-size:20px}.fact span{color:var(--muted);font-size:13px}"
    ".verdict{font-size:17px;padding:10px 14px;border-left:4px solid var(--same);margin:12px 0}"
    ".verdict.better{border-color:var(--better)}.verdict.worse{border-color:var(--worse)}"
    "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid var(--line);"
    "padding:4px 10px;text-align:right}th{text-align:left;font-weight:600}"
    "svg.chart{max-width:100%;height:auto;font-size:12px}svg text{fill:var(--fg)}"
    "svg .axis,svg .n{fill:var(--muted)}svg .grid{stroke:var(--line)}"
    "svg .zero{stroke:var(--muted);stroke-dasharray:3 3}svg .fill{fill:var(--bar);opacity:.75}"
    "svg .whisker{stroke:var(--whisker);stroke-width:1.5}svg .better rect{fill:var(--better)}"
    "svg .worse rect{fill:var(--worse)}svg .same rect{fill:var(--same)}"
    "svg .series{fill:none;stroke:var(--bar);stroke-width:2}svg .point circle{fill:var(--bar)}"
    "svg .point.alert circle{fill:var(--alert)}svg .mark line{stroke:var(--mark);"
    "stroke-dasharray:6 4}details{border:1px solid var(--line);border-radius:8px;"
    "padding:6px 10px;margin:6px 0}summary{cursor:pointer}"
    "pre{white-space:pre-wrap;word-break:break-word;background:var(--bg);padding:8px;"
    "border-radius:6px;margin:4px 0 8px}dt{font-weight:600;margin-top:6px}dd{margin:0}";

static void page_open(struct hret_html *h, const char *title, double generated_at)
{
    char when[40];
    hret_results_iso_time(generated_at, when, sizeof when);
    hret_html_raw(h, "<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                     "<meta name=\"generator\" content=\"hret " HRET_VERSION "\">");
    hret_html_elem(h, "<title>", title, "</title>");
    hret_html_raw(h, "<style>%s</style></head><body><main><header>", css);
    hret_html_elem(h, "<h1>", title, "</h1>");
    hret_html_raw(h, "<p class=\"meta\">hret " HRET_VERSION " · %s</p></header>\n", when);
}

/* ---- one run ---- */

static const cJSON *member(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *string_of(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double number_of(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A fact tile carrying its metric name and exact value; value NaN prints as a dash. */
static void fact(struct hret_html *h, const char *metric, double value, const char *shown,
                 const char *caption)
{
    hret_html_raw(h, "<div class=\"fact\" data-metric=\"%s\"", metric);
    if (isfinite(value)) {
        hret_html_raw(h, " data-value=\"%.17g\"", value);
    }
    hret_html_raw(h, "><b>%s</b><span>", isfinite(value) ? shown : "—");
    hret_html_text(h, caption);
    hret_html_raw(h, "</span></div>");
}

static void facts(struct hret_html *h, const cJSON *m)
{
    char shown[64], caption[128];
    double acc = number_of(m, "accuracy"), lo = number_of(m, "accuracy_ci_low"),
           hi = number_of(m, "accuracy_ci_high");
    double answered = number_of(m, "answered"), total = number_of(m, "total");
    hret_html_raw(h, "<div class=\"facts\">");
    snprintf(shown, sizeof shown, "%.1f%%", 100 * acc);
    snprintf(caption, sizeof caption, "accuracy, 95%% CI %.1f to %.1f", 100 * lo, 100 * hi);
    fact(h, "accuracy", acc, shown, isfinite(lo) ? caption : "accuracy (nothing answered)");
    snprintf(shown, sizeof shown, "%.0f", answered);
    snprintf(caption, sizeof caption, "answered of %.0f", total);
    fact(h, "answered", answered, shown, caption);
    snprintf(shown, sizeof shown, "%.0f", number_of(m, "errors"));
    snprintf(caption, sizeof caption, "errors (%.1f%%), left out of the accuracy",
             100 * number_of(m, "error_rate"));
    fact(h, "errors", number_of(m, "errors"), shown, caption);
    snprintf(shown, sizeof shown, "%.0f", number_of(m, "parse_failures"));
    fact(h, "parse_failures", number_of(m, "parse_failures"), shown, "parse failures");
    snprintf(shown, sizeof shown, "%.1f%%", 100 * number_of(m, "macro_accuracy"));
    fact(h, "macro_accuracy", number_of(m, "macro_accuracy"), shown, "macro accuracy over subsets");
    static const char *const lat[] = {"latency_p50_ms", "latency_p90_ms", "latency_p99_ms"};
    static const char *const lat_caption[] = {"latency p50", "latency p90", "latency p99"};
    for (int i = 0; i < 3; i++) {
        snprintf(shown, sizeof shown, "%.0f ms", number_of(m, lat[i]));
        fact(h, lat[i], number_of(m, lat[i]), shown, lat_caption[i]);
    }
    snprintf(shown, sizeof shown, "%.0f", number_of(m, "tokens_in"));
    fact(h, "tokens_in", number_of(m, "tokens_in"), shown, "prompt tokens");
    snprintf(shown, sizeof shown, "%.0f", number_of(m, "tokens_out"));
    fact(h, "tokens_out", number_of(m, "tokens_out"), shown, "completion tokens");
    snprintf(shown, sizeof shown, "$%.4f", number_of(m, "cost"));
    fact(h, "cost", number_of(m, "cost"), shown, "cost (USD)");
    hret_html_raw(h, "</div>\n");
}

static int cmp_item_subset(const void *x, const void *y)
{
    const struct hret_compare_item *a = x, *b = y;
    return strcmp(a->subset ? a->subset : "", b->subset ? b->subset : "");
}

static int cmp_bar_worst(const void *x, const void *y)
{
    const struct hret_report_bar *a = x, *b = y;
    if (a->value != b->value) {
        return (a->value > b->value) - (a->value < b->value);
    }
    return strcmp(a->label, b->label);
}

/* Per-subset accuracy over answered items with Wilson intervals, worst first. */
static void subsets(struct hret_html *h, const struct hret_compare_run *run)
{
    struct hret_compare_item *items = hret_xmalloc((run->count + 1) * sizeof *items);
    memcpy(items, run->items, run->count * sizeof *items);
    qsort(items, run->count, sizeof *items, cmp_item_subset);
    struct hret_report_bar *bars = hret_xcalloc(run->count + 1, sizeof *bars);
    size_t n_bars = 0;
    for (size_t i = 0; i < run->count;) {
        size_t j = i, answered = 0, correct = 0;
        for (; j < run->count && cmp_item_subset(&items[i], &items[j]) == 0; j++) {
            answered += !items[j].error;
            correct += !items[j].error && items[j].correct;
        }
        if (items[i].subset != NULL && answered > 0) {
            struct hret_report_bar *b = &bars[n_bars++];
            b->label = items[i].subset;
            b->n = answered;
            b->value = (double)correct / (double)answered;
            hret_metrics_wilson((double)correct, (double)answered, Z95, &b->lo, &b->hi);
        }
        i = j;
    }
    if (n_bars > 1) {
        qsort(bars, n_bars, sizeof *bars, cmp_bar_worst);
        hret_html_raw(h, "<h3>Subsets, worst first</h3><p class=\"muted\">Accuracy over answered "
                         "items with Wilson 95%% intervals; n is the items answered.</p>");
        hret_report_svg_bars(h, bars, n_bars);
    }
    free(bars);
    free(items);
}

/* The most frequent error messages with their counts. */
static void errors(struct hret_html *h, const cJSON *samples)
{
    const char *text[TOP_ERRORS * 8];
    size_t count[TOP_ERRORS * 8], n = 0, other = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, samples)
    {
        const char *e = string_of(s, "error");
        if (e == NULL) {
            continue;
        }
        size_t i = 0;
        while (i < n && strcmp(text[i], e) != 0) {
            i++;
        }
        if (i == n && n == sizeof text / sizeof text[0]) {
            other++;
            continue;
        }
        if (i == n) {
            text[n] = e;
            count[n++] = 0;
        }
        count[i]++;
    }
    if (n == 0) {
        return;
    }
    hret_html_raw(h, "<h3>Errors</h3><table><tr><th>error</th><th>samples</th></tr>");
    for (size_t shown = 0; shown < TOP_ERRORS && shown < n; shown++) {
        size_t best = shown;
        for (size_t i = shown + 1; i < n; i++) {
            best = count[i] > count[best] ? i : best;
        }
        const char *t = text[best];
        size_t c = count[best];
        text[best] = text[shown];
        count[best] = count[shown];
        hret_html_elem(h, "<tr><th>", t, "</th>");
        hret_html_raw(h, "<td>%zu</td></tr>", c);
    }
    hret_html_raw(h, "</table>");
    if (other > 0 || n > TOP_ERRORS) {
        hret_html_raw(h, "<p class=\"muted\">and other errors (the results JSON lists each)</p>");
    }
}

static void labelled_text(struct hret_html *h, const char *label, const char *text)
{
    hret_html_raw(h, "<dt>%s</dt><dd><pre>", label);
    hret_html_text(h, text ? text : "(none)");
    hret_html_raw(h, "</pre></dd>");
}

/* The first wrong answers: prompt, prediction, reference and the extracted answer. */
static void wrong_answers(struct hret_html *h, const cJSON *samples, size_t limit)
{
    size_t shown = 0, wrong = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, samples)
    {
        const cJSON *eval = member(s, "evaluation");
        if (member(s, "error") != NULL || !cJSON_IsFalse(member(eval, "is_correct"))) {
            continue;
        }
        if (wrong++ == 0) {
            hret_html_raw(h, "<h3>Wrong answers</h3>");
        }
        if (shown == limit) {
            continue;
        }
        shown++;
        hret_html_raw(h, "<details class=\"sample\"%s data-id=\"", shown == 1 ? " open" : "");
        hret_html_text(h, string_of(s, "id"));
        hret_html_raw(h, "\"><summary>");
        hret_html_text(h, string_of(s, "id"));
        if (string_of(s, "_subset_name") != NULL) {
            hret_html_raw(h, " <span class=\"muted\">");
            hret_html_text(h, string_of(s, "_subset_name"));
            hret_html_raw(h, "</span>");
        }
        hret_html_raw(h, "</summary><dl>");
        labelled_text(h, "prompt", string_of(s, "input"));
        labelled_text(h, "prediction", string_of(s, "prediction"));
        labelled_text(h, "reference", string_of(s, "reference"));
        labelled_text(h, "extracted answer", string_of(eval, "normalized_pred"));
        hret_html_raw(h, "</dl></details>");
    }
    if (wrong > shown) {
        hret_html_raw(h, "<p class=\"muted\">%zu wrong answers in all; the first %zu shown.</p>",
                      wrong, shown);
    }
}

/* The samples of a document's first result block (hret writes one). */
static const cJSON *samples_of(const cJSON *doc)
{
    const cJSON *results = member(doc, "results");
    return member(cJSON_IsArray(results) ? results->child : NULL, "samples");
}

static void run_section(struct hret_html *h, size_t index, const struct hret_report_run *r,
                        const struct hret_compare_run *items, size_t wrong_limit)
{
    const cJSON *md = member(r->doc, "run_metadata");
    hret_html_raw(h, "<section class=\"run\" id=\"run-%zu\" data-index=\"%zu\"><h2>", index, index);
    hret_html_text(h, string_of(md, "model") ? string_of(md, "model") : "run");
    hret_html_raw(h, " on ");
    hret_html_text(h, string_of(md, "dataset") ? string_of(md, "dataset") : "?");
    hret_html_raw(h, "</h2><p class=\"meta\">");
    hret_html_text(h, r->label);
    if (string_of(md, "run_name") != NULL) {
        hret_html_raw(h, " · ");
        hret_html_text(h, string_of(md, "run_name"));
    }
    if (string_of(md, "start_time") != NULL) {
        hret_html_raw(h, " · ");
        hret_html_text(h, string_of(md, "start_time"));
    }
    if (cJSON_IsTrue(member(md, "partial"))) {
        hret_html_raw(h, " · <b>partial</b>: the run stopped before every sample was done");
    }
    hret_html_raw(h, "</p>");
    facts(h, member(r->doc, "metrics"));
    subsets(h, items);
    errors(h, samples_of(r->doc));
    wrong_answers(h, samples_of(r->doc), wrong_limit);
    hret_html_raw(h, "</section>\n");
}

/* ---- comparisons ---- */

static int cmp_diff_worst(const void *x, const void *y)
{
    const struct hret_report_diff *a = x, *b = y;
    if (a->diff != b->diff) {
        return (a->diff > b->diff) - (a->diff < b->diff);
    }
    return strcmp(a->label, b->label);
}

static int direction(double p, double diff, double alpha)
{
    return p < alpha ? (diff > 0) - (diff < 0) : 0;
}

static struct hret_report_diff diff_row(const char *label, const struct hret_compare_group *g,
                                        double p, double alpha)
{
    return (struct hret_report_diff){
        label, g->n_a, g->diff, g->diff_lo, g->diff_hi, p, direction(p, g->diff, alpha)};
}

static void mcnemar_table(struct hret_html *h, const struct hret_compare *c)
{
    const struct hret_stats_paired *t = &c->overall.cells;
    hret_html_raw(h,
                  "<h3>Paired outcomes</h3><table class=\"mcnemar\" data-both=\"%llu\" "
                  "data-a-only=\"%llu\" data-b-only=\"%llu\" data-neither=\"%llu\">"
                  "<tr><th></th><th>B right</th><th>B wrong</th></tr>"
                  "<tr><th>A right</th><td>%llu</td><td>%llu</td></tr>"
                  "<tr><th>A wrong</th><td>%llu</td><td>%llu</td></tr></table>",
                  (unsigned long long)t->both, (unsigned long long)t->a_only,
                  (unsigned long long)t->b_only, (unsigned long long)t->neither,
                  (unsigned long long)t->both, (unsigned long long)t->a_only,
                  (unsigned long long)t->b_only, (unsigned long long)t->neither);
}

/* B against the baseline A; p_family is the overall p-value after Holm across the comparisons
 * (the raw one when there is a single comparison). */
static void compare_section(struct hret_html *h, size_t index, const struct hret_compare *c,
                            double p_family, size_t n_comparisons)
{
    double alpha = c->options.alpha;
    int dir = direction(p_family, c->overall.diff, alpha);
    const char *cls = dir > 0 ? "better" : dir < 0 ? "worse" : "same";
    char p[32];
    hret_compare_format_p(p_family, p, sizeof p);
    hret_html_raw(h,
                  "<section class=\"comparison\" id=\"compare-%zu\" data-index=\"%zu\" "
                  "data-diff=\"%.17g\" data-p=\"%.17g\" data-p-family=\"%.17g\" "
                  "data-direction=\"%d\"><h2>",
                  index, index, c->overall.diff, c->overall.p_value, p_family, dir);
    hret_html_text(h, c->label_b);
    hret_html_raw(h, " <span class=\"muted\">against</span> ");
    hret_html_text(h, c->label_a);
    hret_html_raw(h, "</h2><p class=\"verdict %s\">", cls);
    hret_html_text(h, c->verdict);
    if (n_comparisons > 1) {
        hret_html_raw(h, " Across the %zu comparisons with the baseline (Holm): p %s, %s.",
                      n_comparisons, p,
                      dir == 0  ? "no significant difference"
                      : dir > 0 ? "better"
                                : "worse");
    }
    hret_html_raw(h,
                  "</p><p class=\"muted\">A %.1f%% → B %.1f%%, difference %+.1f points "
                  "(95%% CI %+.1f to %+.1f), %s on %zu %s.</p>",
                  100 * c->overall.acc_a, 100 * c->overall.acc_b, 100 * c->overall.diff,
                  100 * c->overall.diff_lo, 100 * c->overall.diff_hi,
                  c->paired ? "McNemar" : "two-proportion z-test", c->overall.n_a,
                  c->paired ? "shared items" : "items of A");
    if (c->paired) {
        mcnemar_table(h, c);
    }
    struct hret_report_diff *rows = hret_xcalloc(c->n_subsets + 1, sizeof *rows);
    for (size_t i = 0; i < c->n_subsets; i++) {
        rows[i] = diff_row(c->subsets[i].name, &c->subsets[i], c->subsets[i].p_holm, alpha);
    }
    qsort(rows, c->n_subsets, sizeof *rows, cmp_diff_worst);
    memmove(rows + 1, rows, c->n_subsets * sizeof *rows);
    rows[0] = diff_row("overall", &c->overall, p_family, alpha);
    hret_html_raw(h,
                  "<h3>Difference B − A%s</h3><p class=\"muted\">Points with %s 95%% "
                  "intervals; green and red: significant after Holm across subsets.</p>",
                  c->n_subsets > 1 ? " per subset, worst first" : "",
                  c->paired ? "paired bootstrap" : "bootstrap");
    hret_report_svg_forest(h, rows, c->n_subsets > 1 ? c->n_subsets + 1 : 1);
    free(rows);
    hret_html_raw(h, "</section>\n");
}

/* ---- history ---- */

static void history_section(struct hret_html *h, const struct hret_report_history *hist)
{
    hret_html_raw(h, "<section class=\"history\" data-points=\"%zu\"><h2>History of ",
                  hist->n_points);
    hret_html_text(h, hist->metric);
    hret_html_raw(h, "</h2><p class=\"meta\">");
    hret_html_text(h, hist->model);
    hret_html_raw(h, " on ");
    hret_html_text(h, hist->dataset);
    hret_html_raw(h, ", oldest first; dashed lines are monitor thresholds, red points raised an "
                     "alert.</p>");
    if (hist->n_points == 0) {
        hret_html_raw(h, "<p>No stored run has this metric yet.</p>");
    } else {
        hret_report_svg_line(h, hist->points, hist->n_points, hist->marks, hist->n_marks);
    }
    hret_html_raw(h, "</section>\n");
}

/* ---- the page ---- */

static char *default_title(const struct hret_report_run *runs, size_t n)
{
    const cJSON *md = member(runs[0].doc, "run_metadata");
    const char *model = string_of(md, "model"), *dataset = string_of(md, "dataset");
    if (n == 1) {
        return hret_xasprintf("%s on %s", model ? model : "run", dataset ? dataset : "?");
    }
    return hret_xasprintf("%zu runs on %s against %s", n, dataset ? dataset : "?",
                          model ? model : runs[0].label);
}

static enum hret_result compare_all(const struct hret_compare_run *items, size_t n,
                                    const struct hret_compare_options *opt,
                                    struct hret_compare **out, double *p_family,
                                    struct hret_err *err)
{
    double *p = hret_xcalloc(n, sizeof *p);
    enum hret_result r = HRET_OK;
    for (size_t i = 1; i < n && r == HRET_OK; i++) {
        r = hret_compare_runs(&items[0], &items[i], opt, &out[i], err);
        if (r == HRET_OK) {
            p[i - 1] = out[i]->overall.p_value;
        } else {
            hret_err_prefix(err, "comparing %s with %s", items[i].label, items[0].label);
        }
    }
    if (r == HRET_OK && n > 1) {
        hret_stats_holm(p, p_family + 1, n - 1);
    }
    free(p);
    return r;
}

enum hret_result hret_report_html(const struct hret_report_run *runs, size_t n,
                                  const struct hret_report_history *history,
                                  const struct hret_report_options *opt, char **html,
                                  struct hret_err *err)
{
    struct hret_compare_run *items = hret_xcalloc(n, sizeof *items);
    struct hret_compare **cmp = hret_xcalloc(n, sizeof *cmp);
    double *p_family = hret_xcalloc(n, sizeof *p_family);
    char *title = opt->title ? hret_xstrdup(opt->title) : default_title(runs, n);
    struct hret_html h;
    hret_html_init(&h, PAGE_CAP);
    enum hret_result r = HRET_OK;
    for (size_t i = 0; i < n && r == HRET_OK; i++) {
        hret_compare_run_init(&items[i], runs[i].label);
        if ((r = hret_results_compare_run(runs[i].doc, &items[i], err)) != HRET_OK) {
            hret_err_prefix(err, "%s", runs[i].label);
        }
    }
    if (r == HRET_OK) {
        r = compare_all(items, n, &opt->compare, cmp, p_family, err);
    }
    if (r != HRET_OK) {
        goto cleanup;
    }
    page_open(&h, title, opt->generated_at);
    for (size_t i = 1; i < n; i++) {
        compare_section(&h, i, cmp[i], p_family[i], n - 1);
    }
    if (history != NULL) {
        history_section(&h, history);
    }
    for (size_t i = 0; i < n; i++) {
        run_section(&h, i, &runs[i], &items[i], opt->wrong_samples);
    }
    hret_html_raw(&h, "</main></body></html>\n");
    if ((r = h.result) != HRET_OK) {
        hret_err_set(err, r, "report: %s", h.err.msg);
    } else {
        *html = hret_buf_take(&h.buf);
    }
cleanup:
    for (size_t i = 0; i < n; i++) {
        hret_compare_run_fini(&items[i]);
        hret_compare_destroy(cmp[i]);
    }
    free(items);
    free(cmp);
    free(p_family);
    free(title);
    hret_html_fini(&h);
    return r;
}
