/* hret report: one self-contained HTML page (inline CSS and SVG, no script, no font or image from
 * the network, light and dark) from results documents. One run: accuracy with its interval,
 * per-subset bars worst first, errors, parse failures, latency, tokens, cost and the first wrong
 * answers. Two or more: the paired comparison of each run against the first (hret_compare, as
 * `hret compare` computes it), Holm-adjusted across the comparisons when there are several.
 * Optionally the metric's history with the monitor's thresholds and alerts. Pure: the caller
 * loads the documents and the history. */
#ifndef HRET_REPORT_H
#define HRET_REPORT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_compare.h"
#include "hret_err.h"
#include "hret_report_svg.h"

struct hret_report_run { /* borrowed */
    const char *label;   /* how the page names the run: a file or a run id */
    const cJSON *doc;    /* its results document (HRET's save_results layout) */
};

struct hret_report_history { /* all borrowed */
    const char *metric, *model, *dataset;
    const struct hret_report_point *points; /* oldest first */
    size_t n_points;
    const struct hret_report_mark *marks; /* monitor thresholds on this metric */
    size_t n_marks;
};

struct hret_report_options {
    const char *title;                   /* borrowed, nullable: a title made from the runs */
    size_t wrong_samples;                /* wrong answers shown per run */
    struct hret_compare_options compare; /* as hret compare's defaults */
    double generated_at;                 /* Unix seconds, printed in the header */
};

/* Writes the page of runs[0..n) (n >= 1) and history (nullable) into *html (caller owns result).
 * HRET_E_INVAL naming the run when a document is not a results document. */
enum hret_result hret_report_html(const struct hret_report_run *runs, size_t n,
                                  const struct hret_report_history *history,
                                  const struct hret_report_options *opt, char **html,
                                  struct hret_err *err);

#endif
