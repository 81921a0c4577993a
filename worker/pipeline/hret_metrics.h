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
 * arrays of count items. */
cJSON *hret_metrics_compute(const struct hret_sample *samples, const struct hret_outcome *outcomes,
                            size_t count, const struct hret_prices *prices);

/* Wilson score interval for k successes in n trials at z (1.959963984540054 for 95%). */
void hret_metrics_wilson(double k, double n, double z, double *lo, double *hi);

/* The q-quantile (0..1) of n values, linear interpolation between order statistics (the
 * default of numpy.percentile). Sorts values in place. */
double hret_metrics_quantile(double *values, size_t n, double q);

#endif
