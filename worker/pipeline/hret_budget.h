/* One budget per model per process: every run of the model in the process (a worker's slots,
 * a judge) sends through one shared in-flight count and one requests- and tokens-per-minute
 * bucket, so one busy run can use all of max_inflight, rpm and tpm and all of them together never
 * exceed them. With the fleet budget on (a worker: hret_store_budget), a model with fleet_*
 * limits also waits for its share of the fleet's budget, which the lease keeper sets.
 * Thread-safe; budgets live for the process. */
#ifndef HRET_BUDGET_H
#define HRET_BUDGET_H

#include <stddef.h>

#include "hret_config.h"
#include "hret_http.h"

struct hret_budget;

/* The model's budget (created on first use from model, borrowed); counts one user of it. */
struct hret_budget *hret_budget_get(const struct hret_model_config *model);
/* The user is done (b may be NULL). */
void hret_budget_put(struct hret_budget *b);
/* The engine gate of b (hret_http_limits.gate). */
void hret_budget_gate(struct hret_budget *b, struct hret_http_gate *out);

/* ---- the fleet side (hret_store_budget) ---- */

/* What a model asks of the fleet: its fleet limits while it has users (or had, a moment ago). */
struct hret_budget_demand {
    char name[256];
    long long fleet_rpm, fleet_tpm, fleet_max_inflight;
};

/* From now on models with fleet_* limits send only within the share set for them. */
void hret_budget_fleet_on(void);
/* The models that want a fleet share now, into out (at most cap); returns how many. */
size_t hret_budget_demand(struct hret_budget_demand *out, size_t cap);
/* This process's share of a model's fleet budget (per minute, and in flight). */
void hret_budget_share(const char *model, double rpm, double tpm, long max_inflight);
/* The share is gone (the lease was given back): the model waits for a new one. */
void hret_budget_unshare(const char *model);

#endif
