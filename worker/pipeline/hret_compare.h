/* Comparison of two runs on their per-item outcomes: is B really better than A?
 *
 * Items are paired by dataset item id. Items that errored in either run are left out (and
 * counted), so an endpoint failure never counts as a wrong answer. Overall and per subset:
 * accuracy of A and B with Wilson intervals, the difference B - A with a paired bootstrap
 * percentile interval, the discordant counts and McNemar's exact p-value; subsets are
 * Holm-adjusted among themselves. When the runs share no item, each run's answered items are
 * compared as independent samples with the pooled two-proportion z-test instead.
 *
 * One implementation for `hret compare`, the worker's comparison events and the monitor's
 * regression rule: they differ only in where the runs come from (a results file, PostgreSQL),
 * which is the caller's business. Pure: no I/O. */
#ifndef HRET_COMPARE_H
#define HRET_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "hret_err.h"
#include "hret_stats.h"

/* One scored item of a run. */
struct hret_compare_item {
    char *id;     /* owned: the dataset item id */
    char *subset; /* owned; NULL when the dataset has no subsets */
    bool correct;
    bool error; /* the endpoint failed or nothing was scored: excluded */
};

/* A run's outcomes, as a loader (results file, PostgreSQL) fills them. */
struct hret_compare_run {
    char *label;                     /* owned: how reports name the run (file, run id, model) */
    struct hret_compare_item *items; /* owned */
    size_t count, alloc;
};

void hret_compare_run_init(struct hret_compare_run *run, const char *label /* borrowed */);
void hret_compare_run_fini(struct hret_compare_run *run);
/* Appends an item; id and subset (nullable) are borrowed and copied. */
void hret_compare_run_add(struct hret_compare_run *run, const char *id, const char *subset,
                          bool correct, bool error);

struct hret_compare_options {
    size_t bootstrap; /* replicates for the difference interval, >= 1 */
    uint64_t seed;    /* bootstrap seed: the same seed gives the same interval */
    double alpha;     /* two-sided significance level; intervals are 1 - alpha */
    double power;     /* for the minimum detectable effect */
};

#define HRET_COMPARE_OPTIONS_DEFAULT                                                               \
    {                                                                                              \
        HRET_STATS_BOOTSTRAP, 1, HRET_STATS_ALPHA, HRET_STATS_POWER                                \
    }

/* A run on its own: every distinct item it has, whether or not the other run has it. */
struct hret_compare_side {
    size_t items, errors, answered, correct; /* answered = items - errors */
    double acc, acc_lo, acc_hi;              /* correct / answered, Wilson; NaN when none */
};

/* Overall or one subset. Accuracies and differences are fractions (0.031 = 3.1 points). */
struct hret_compare_group {
    char *name;                     /* owned; NULL for the overall group */
    size_t n_a, n_b;                /* items counted for A and B (both = pairs when paired) */
    struct hret_stats_paired cells; /* paired only: both / a_only / b_only / neither */
    double correct_a, correct_b;
    double acc_a, acc_a_lo, acc_a_hi; /* with the Wilson interval */
    double acc_b, acc_b_lo, acc_b_hi;
    double diff, diff_lo, diff_hi; /* B - A with its bootstrap percentile interval */
    double p_value;                /* McNemar exact (paired) or two-proportion z */
    double p_holm;                 /* subsets: Holm-adjusted; overall: p_value */
    double mde;                    /* minimum detectable difference; NaN when undefined */
};

struct hret_compare {
    char *label_a, *label_b; /* owned copies */
    struct hret_compare_options options;
    bool paired;             /* false: no shared item, independent-samples fallback */
    size_t items_a, items_b; /* distinct item ids in each run */
    size_t errors_a, errors_b;
    struct hret_compare_side own_a, own_b; /* each run's own accuracy over all its items */
    size_t shared;                         /* ids in both runs */
    size_t excluded_errors;                /* shared ids left out because either run errored */
    size_t only_a, only_b;                 /* ids in one run only */
    size_t duplicates;                     /* repeated ids ignored (the first occurrence counts) */
    struct hret_compare_group overall;     /* over the shared items when paired */
    struct hret_compare_group *subsets;    /* owned, sorted by name */
    size_t n_subsets;
    bool significant; /* overall p < alpha */
    int direction;    /* +1 B better, -1 B worse, 0 no significant difference */
    char verdict[512];
    char note[512]; /* "" or why the bootstrap interval and the test seem to disagree */
};

/* Compares a (borrowed) with b (borrowed). *out is caller-owned (hret_compare_destroy).
 * HRET_E_INVAL when there is nothing to compare: no usable shared item and a run without any
 * answered item. */
enum hret_result hret_compare_runs(const struct hret_compare_run *a,
                                   const struct hret_compare_run *b,
                                   const struct hret_compare_options *opt,
                                   struct hret_compare **out, struct hret_err *err);
void hret_compare_destroy(struct hret_compare *c);

/* The comparison as JSON (caller owns result): the body of hret.comparison.completed events
 * and of `hret compare --json`. NaN values are null. */
cJSON *hret_compare_json(const struct hret_compare *c);

/* "= 0.0012", "= 0.41", "< 0.0001": p for humans, into out (borrowed, cap bytes). */
void hret_compare_format_p(double p, char *out, size_t cap);

#endif
