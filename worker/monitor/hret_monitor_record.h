/* hret monitor, what it writes: in one transaction per result event, for every rule it
 * evaluated, the dedupe key's state (locked FOR UPDATE), the alert row, the alert or resolve
 * event in the outbox (relayed to the alerts topic) and one pending notice per configured
 * channel; each (dedupe key, run) is decided once, so a redelivered event changes nothing. Then
 * the notices are delivered and marked one by one (hret_monitor_channel.h). */
#ifndef HRET_MONITOR_RECORD_H
#define HRET_MONITOR_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_config.h"
#include "hret_err.h"
#include "hret_monitor.h"
#include "hret_pg.h"

#define HRET_MONITOR_RAISED_TYPE "hret.alert.raised.v1"
#define HRET_MONITOR_RESOLVED_TYPE "hret.alert.resolved.v1"

struct hret_monitor_eval {
    const struct hret_monitor_rule_config *rule; /* borrowed */
    const struct hret_monitor_finding *finding;  /* borrowed */
    enum hret_monitor_action action;             /* out: what the transaction did */
};

struct hret_monitor_record {       /* inputs borrowed */
    const struct hret_config *cfg; /* alerts topic, cooldown, channels */
    const struct hret_monitor_run *run;
    struct hret_monitor_eval *evals;
    size_t count;
    double now; /* Unix seconds: the cooldown clock */
    /* out: what the transaction did */
    size_t raised, resolved, suppressed;
};

/* Runs the transaction for rec (see above). */
enum hret_result hret_monitor_record_apply(struct hret_pg *pg, struct hret_monitor_record *rec,
                                           struct hret_err *err);

/* A notice waiting for its channel. */
struct hret_monitor_notice {
    char *notice_id, *channel, *action; /* owned; action "trigger" or "resolve" */
    cJSON *payload;                     /* owned: the alert or resolve event data */
    int attempts;
};

/* Up to max pending notices, oldest first, into *out (caller owns; hret_monitor_notices_free). */
enum hret_result hret_monitor_record_pending(struct hret_pg *pg, size_t max,
                                             struct hret_monitor_notice **out, size_t *count,
                                             struct hret_err *err);
void hret_monitor_notices_free(struct hret_monitor_notice *n, size_t count);

/* Marks notice n (borrowed): delivered, or failed with error (give_up: never retried). */
enum hret_result hret_monitor_record_mark(struct hret_pg *pg, const struct hret_monitor_notice *n,
                                          bool delivered, bool give_up, const char *error,
                                          struct hret_err *err);

#endif
