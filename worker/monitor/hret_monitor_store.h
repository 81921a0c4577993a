/* hret monitor, what it reads from PostgreSQL: the facts of the run an event announces (the runs
 * row is the source of truth for its model, dataset, served model id and fingerprint) and the
 * baseline a regression or fingerprint rule compares it with: the previous completed run of the
 * same model and dataset, the best one, a pinned run, or the last K runs pooled; with both runs'
 * scored items from `samples` for the paired test. "Previous" means finished earlier than this
 * run, so a replayed event finds the same baseline it found the first time. */
#ifndef HRET_MONITOR_STORE_H
#define HRET_MONITOR_STORE_H

#include <stdbool.h>

#include "hret_compare.h"
#include "hret_config.h"
#include "hret_err.h"
#include "hret_monitor.h"
#include "hret_pg.h"

struct hret_monitor_facts { /* all owned; NULL when unknown */
    bool found;
    char *request_id, *run_name, *model, *dataset, *served_model, *fingerprint, *status;
};

/* Reads the runs row of run_id into out (zeroed first; release with hret_monitor_facts_fini). A
 * missing row leaves found false. */
enum hret_result hret_monitor_store_facts(struct hret_pg *pg, const char *run_id,
                                          struct hret_monitor_facts *out, struct hret_err *err);
void hret_monitor_facts_fini(struct hret_monitor_facts *f);

/* A fetched baseline: b points into the other members, so use it in place. */
struct hret_monitor_fetched {
    struct hret_monitor_baseline b;
    char *run_id, *served_model, *fingerprint; /* owned */
    struct hret_compare_run base, cur;
    bool have_items;
};

/* Fetches what rule (borrowed) needs to judge run (borrowed) into out (zeroed first; release with
 * hret_monitor_fetched_fini, also after a failure). Threshold and failure rules need nothing;
 * out->b.found false when there is no baseline yet. */
enum hret_result hret_monitor_store_baseline(struct hret_pg *pg,
                                             const struct hret_monitor_rule_config *rule,
                                             const struct hret_monitor_run *run,
                                             struct hret_monitor_fetched *out,
                                             struct hret_err *err);
void hret_monitor_fetched_fini(struct hret_monitor_fetched *f);

#endif
