/* hret monitor, the decisions: which rules apply to a run, whether each one fires, and what the
 * alert says. Pure functions over the run's facts (from its result event and runs row) and the
 * baseline facts the caller fetched (hret_monitor_store.h), so every rule is tested from
 * fixtures without Kafka or PostgreSQL.
 *
 * A rule's verdict on a run is OK, FIRING or UNKNOWN (no baseline yet, metric not reported).
 * Alerts are deduplicated per (rule, model, dataset): a key that fires raises when it is not
 * open, repeats (re-notifies) while open at most once per cooldown, and resolves when it is open
 * and a later run is OK again (a regression alert: back within max_drop of the baseline value
 * the alert recorded, hret_monitor_hold_open).
 *
 * Regression significance uses hret_compare (McNemar exact on the items both runs share, the
 * pooled two-proportion z-test when they share none, Holm across subsets) and, against the
 * mean of the last K runs, hret_stats' two-proportion test on the pooled counts: the same
 * statistics as `hret compare` and the comparison events. */
#ifndef HRET_MONITOR_H
#define HRET_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_compare.h"
#include "hret_config.h"
#include "hret_err.h"

/* What the monitor knows about the run an event announces. All borrowed. */
struct hret_monitor_run {
    const char *run_id;
    const char *request_id;
    const char *run_name; /* nullable */
    const char *model;
    const char *dataset;
    const char *served_model; /* as the endpoint reported it (runs row), nullable */
    const char *fingerprint;  /* system_fingerprint (runs row), nullable */
    bool failed;              /* hret.run.failed.v1 */
    const char *error;        /* the failure message, nullable */
    const cJSON *metrics;     /* name -> number, nullable */
    const cJSON *metadata;    /* the request's metadata, nullable */
    const cJSON *alerts;      /* the request's alerts block, nullable */
};

/* Fills run from the data of a hret.run.completed.v1 or hret.run.failed.v1 event (borrowed).
 * false when the event names no run (a request rejected before planning): nothing to watch.
 * model and dataset may be left NULL for failed events; the caller completes them from the
 * runs row. */
bool hret_monitor_run_from_event(const char *type, const cJSON *data, struct hret_monitor_run *run);

/* The rules a request's alerts block asks for (min_accuracy: a threshold rule
 * "request:min_accuracy"; max_drop: a regression rule "request:max_drop" against its baseline,
 * default previous) into out (caller-owned, 2 entries, release each with
 * hret_monitor_rule_fini). Returns how many. */
size_t hret_monitor_request_rules(const cJSON *alerts, struct hret_monitor_rule_config out[2]);
void hret_monitor_rule_fini(struct hret_monitor_rule_config *rule);

/* Whether rule (borrowed) applies to run: model, dataset and run_name globs, metadata values. */
bool hret_monitor_rule_matches(const struct hret_monitor_rule_config *rule,
                               const struct hret_monitor_run *run);

/* What the caller fetched for a regression or fingerprint rule. All borrowed; zero = nothing. */
struct hret_monitor_baseline {
    bool found;
    const char *kind;                       /* "previous", "best", "run", "mean_last_k" */
    const char *run_id;                     /* the baseline run; NULL for mean_last_k */
    double value;                           /* the baseline's metric (the mean for mean_last_k) */
    const char *served_model, *fingerprint; /* fingerprint rule: the previous run's */
    /* regression against one run: both runs' scored items */
    const struct hret_compare_run *base_items, *cur_items;
    /* regression against mean_last_k: pooled right / answered counts of the K runs, and the
     * current run's */
    double base_correct, base_n, cur_correct, cur_n;
};

enum hret_monitor_verdict {
    HRET_MONITOR_UNKNOWN, /* cannot tell: no baseline, metric missing */
    HRET_MONITOR_OK,
    HRET_MONITOR_FIRING,
};

struct hret_monitor_finding {
    enum hret_monitor_verdict verdict;
    double value;           /* the run's metric (NaN when none) */
    double threshold;       /* threshold rules (NaN otherwise) */
    double baseline_value;  /* regression (NaN otherwise) */
    char baseline_run[130]; /* regression: the baseline run id, "" for none or mean_last_k */
    const char *test;       /* "mcnemar_exact", "two_proportion_z" or NULL */
    double effect;          /* current - baseline on the compared items (NaN when no test) */
    double p_value;         /* overall (NaN when no test) */
    double mde;             /* minimum detectable difference at this sample size (NaN: none) */
    size_t n;               /* items compared (pairs, or the current run's answered items) */
    bool significant;
    char message[1024]; /* one human sentence */
    cJSON *details;     /* owned, nullable: subsets that regressed, served model change, ... */
};

/* Evaluates rule on run against baseline (nullable for threshold and failure rules); alpha is
 * the significance level when the rule sets none. out is caller-owned: release with
 * hret_monitor_finding_fini. */
void hret_monitor_evaluate(const struct hret_monitor_rule_config *rule,
                           const struct hret_monitor_run *run,
                           const struct hret_monitor_baseline *baseline, double alpha,
                           struct hret_monitor_finding *out);
void hret_monitor_finding_fini(struct hret_monitor_finding *f);

/* A regression alert resolves only when a run is back within max_drop of the baseline value
 * the raised alert recorded (open_alert: its hret.alert.raised.v1 data, borrowed), whatever the
 * baseline kind: a run that merely holds against a baseline that is itself degraded (the
 * previous run, the mean of degraded runs) leaves it open. When f is an OK verdict of a
 * regression rule on a run still more than max_drop below that value (or without the metric),
 * f becomes FIRING against the alert's baseline, with a message saying so; else f is left as
 * it is. */
void hret_monitor_hold_open(const struct hret_monitor_rule_config *rule, const cJSON *open_alert,
                            struct hret_monitor_finding *f);

/* ---- dedupe, cooldown and resolve ----------------------------------------------------------- */

struct hret_monitor_key_state {
    bool open;             /* an alert of this key is raised and not resolved */
    double last_raised_at; /* Unix seconds; 0 = never */
};

enum hret_monitor_action {
    HRET_MONITOR_NOTHING,
    HRET_MONITOR_RAISE,
    HRET_MONITOR_SUPPRESS, /* firing again while open, within the cooldown */
    HRET_MONITOR_RESOLVE,
};

enum hret_monitor_action hret_monitor_decide(const struct hret_monitor_key_state *st,
                                             enum hret_monitor_verdict verdict, double now,
                                             double cooldown_s);

/* "rule|model|dataset" into out (cap bytes). */
void hret_monitor_dedupe_key(const char *rule, const char *model, const char *dataset, char *out,
                             size_t cap);
/* A stable id for (what, run): 32 hex digits of SHA-256, so a replayed event raises nothing new. */
void hret_monitor_id(const char *what, const char *run_id, char out[33]);

extern const char *const hret_monitor_severity_names[]; /* "info", "warning", "critical" */
extern const char *const hret_monitor_kind_names[];     /* "threshold", ... */

/* The hret.alert.raised.v1 data (caller owns result). raised_at is RFC 3339. */
cJSON *hret_monitor_alert_json(const struct hret_monitor_rule_config *rule,
                               const struct hret_monitor_run *run,
                               const struct hret_monitor_finding *f, const char *alert_id,
                               const char *dedupe_key, const char *raised_at);
/* The hret.alert.resolved.v1 data (caller owns result): the open alert alert (borrowed, its
 * raised event data) is resolved by run. */
cJSON *hret_monitor_resolved_json(const cJSON *alert, const struct hret_monitor_run *run,
                                  const struct hret_monitor_finding *f, const char *resolved_at);

#endif
