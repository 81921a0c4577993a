/* The fleet side of the per-model budget (hret_budget): a thread of the worker that keeps one
 * lease per model with demand in model_budget_leases, renewed every second and valid for three,
 * and gives the process its share: fleet_rpm, fleet_tpm and fleet_max_inflight split evenly
 * among the live leases (the in-flight remainder goes to the first holders by id). A dead
 * worker's lease expires within 3 s and its share goes back to the others at their next
 * renewal. While PostgreSQL is unreachable the last share stays in force; the 429 pacing of the
 * endpoint engine stays the last line. */
#ifndef HRET_STORE_BUDGET_H
#define HRET_STORE_BUDGET_H

#include "hret_err.h"

#define HRET_BUDGET_LEASE_S 3 /* a lease lives this long without renewal */
#define HRET_BUDGET_RENEW_MS 1000

struct hret_store_budget;

/* Starts the lease keeper (its own connection) and turns the fleet budget on. conninfo,
 * password_env and holder borrowed. Caller owns result. */
struct hret_store_budget *hret_store_budget_start(const char *conninfo, const char *password_env,
                                                  const char *holder, struct hret_err *err);
/* Stops the thread and deletes this holder's leases (NULL: no-op). */
void hret_store_budget_stop(struct hret_store_budget *b);

/* One renewal of model's lease for holder: the number of live holders and this holder's rank
 * among them (by id), or an error. Exposed for the store's tests. */
struct hret_pg;
enum hret_result hret_store_budget_renew(struct hret_pg *pg, const char *model, const char *holder,
                                         long *holders, long *rank, struct hret_err *err);

#endif
