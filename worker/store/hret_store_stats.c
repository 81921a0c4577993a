#include "hret_store_stats.h"

#include <math.h>
#include <string.h>

bool hret_store_lower_is_better(const char *m)
{
    static const char *const exact[] = {"error_rate", "errors", "parse_failure_rate",
                                        "parse_failures", "accuracy_stderr"};
    if (strncmp(m, "latency", 7) == 0 || strncmp(m, "cost", 4) == 0) {
        return true;
    }
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        if (strcmp(m, exact[i]) == 0) {
            return true;
        }
    }
    return false;
}

void hret_store_stats_compute(const double *values, size_t n, bool lower_is_better,
                              struct hret_store_stats *out)
{
    *out = (struct hret_store_stats){0, NAN, NAN, NAN, 0, 0};
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        if (isnan(v)) {
            continue;
        }
        bool better = lower_is_better ? v < out->best : v > out->best;
        bool worse = lower_is_better ? v > out->worst : v < out->worst;
        if (out->count == 0 || better) {
            out->best = v;
            out->best_idx = i;
        }
        if (out->count == 0 || worse) {
            out->worst = v;
            out->worst_idx = i;
        }
        sum += v;
        out->count++;
    }
    if (out->count > 0) {
        out->average = sum / (double)out->count;
    }
}

static bool same(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

size_t hret_store_group(const char *const *labels, const double *values, size_t n,
                        struct hret_store_group *out)
{
    size_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(values[i])) {
            continue;
        }
        size_t g = 0;
        while (g < groups && !same(out[g].label, labels[i])) {
            g++;
        }
        if (g == groups) {
            out[groups++] = (struct hret_store_group){labels[i], 0, 0, 0};
        }
        out[g].count++;
        out[g].sum += values[i];
        out[g].mean = out[g].sum / (double)out[g].count;
    }
    return groups;
}
