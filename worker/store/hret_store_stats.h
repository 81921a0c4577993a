/* Comparison statistics over metric values (pure): which direction is better for a metric, the
 * best / worst / average of a set (HRET's compare_metric `_stats`, direction-aware, with the
 * entry each came from), and grouping by a label (a sweep's hyperparameter). */
#ifndef HRET_STORE_STATS_H
#define HRET_STORE_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Lower is better for latency*, cost*, error_rate, errors, parse_failure_rate, parse_failures
 * and accuracy_stderr; higher for everything else (accuracy, scores, throughput). */
bool hret_store_lower_is_better(const char *metric);

struct hret_store_stats {
    size_t count;
    double best, worst, average; /* NAN when count is 0 */
    size_t best_idx, worst_idx;  /* positions in the input; ties go to the first */
};

/* Over values[0..n), skipping NaN. */
void hret_store_stats_compute(const double *values, size_t n, bool lower_is_better,
                              struct hret_store_stats *out);

struct hret_store_group {
    const char *label; /* borrowed from the labels given; NULL labels are "(none)" */
    size_t count;
    double sum, mean;
};

/* Groups values by labels[i] (strcmp; NULL is its own group), in order of first appearance.
 * out has room for n groups; returns how many. */
size_t hret_store_group(const char *const *labels, const double *values, size_t n,
                        struct hret_store_group *out);

#endif
