/* Run metrics from samples and outcomes (pure): accuracy with standard error and Wilson 95%
 * interval over answered samples, per subset and macro average, error and parse-failure rates,
 * latency percentiles, tokens and cost. Endpoint errors are excluded from the accuracy
 * denominator and reported as `errors` / `error_rate`. Samples not done (a stopped run) are left
 * out entirely. */
#ifndef HRET_METRICS_H
#define HRET_METRICS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_outcome.h"
#include "hret_sample.h"

struct hret_prices {
    double input_per_1m, output_per_1m;
};

/* Caller owns result: a JSON object of metric name -> number. samples and outcomes are borrowed
 * arrays of count items. Without an answered sample "accuracy" is null and its interval, the
 * per-subset accuracies and macro_accuracy are left out (never reported as 0); a subset with
 * no answered sample has no "<subset>/accuracy". */
cJSON *hret_metrics_compute(const struct hret_sample *samples, const struct hret_outcome *outcomes,
                            size_t count, const struct hret_prices *prices);

/* The same gathered one sample at a time, in any order (a streamed run): add each finished
 * sample (idx its position in the run; s and o borrowed, not kept), then finish (caller owns
 * result; again after more adds is allowed). The result equals hret_metrics_compute's over the
 * same samples, but for the last bits of average_judge_score, which sums in arrival order. */
struct hret_metrics_acc;
struct hret_metrics_acc *hret_metrics_acc_new(void);
void hret_metrics_acc_destroy(struct hret_metrics_acc *a);
void hret_metrics_acc_add(struct hret_metrics_acc *a, size_t idx, const struct hret_sample *s,
                          const struct hret_outcome *o);
cJSON *hret_metrics_acc_finish(struct hret_metrics_acc *a, const struct hret_prices *prices);
/* Answered samples of the subset named by len bytes at subset. */
size_t hret_metrics_acc_answered(const struct hret_metrics_acc *a, const char *subset, size_t len);

/* Why a run scored nothing (a static sentence: "the dataset has no samples (...)", "every
 * request failed (...)"), or NULL when metrics has an accuracy. metrics borrowed. */
const char *hret_metrics_nothing_scored(const cJSON *metrics);

/* Wilson score interval for k successes in n trials at z (1.959963984540054 for 95%). */
void hret_metrics_wilson(double k, double n, double z, double *lo, double *hi);

/* The q-quantile (0..1) of n values, linear interpolation between order statistics (the
 * default of numpy.percentile). Sorts values in place. */
double hret_metrics_quantile(double *values, size_t n, double q);

#endif
