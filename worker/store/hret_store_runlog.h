/* `hret run`'s record in PostgreSQL: the run row before the first request, the response cache
 * during the run, and samples, metrics and the final status in one transaction at the end. */
#ifndef HRET_STORE_RUNLOG_H
#define HRET_STORE_RUNLOG_H

#include <stdbool.h>

#include "hret_config.h"
#include "hret_run.h"
#include "hret_store.h"

struct hret_store_runlog;

/* Connects when a database is configured: db (nullable, --db) wins over postgres.conninfo and
 * HRET_PG; *out stays NULL when there is none. Applies pending migrations. The cache (for
 * model, borrowed) is on unless use_cache is false. cfg is borrowed. */
enum hret_result hret_store_runlog_open(const struct hret_config *cfg, const char *db,
                                        const struct hret_model_config *model, bool use_cache,
                                        struct hret_store_runlog **out, struct hret_err *err);
void hret_store_runlog_destroy(struct hret_store_runlog *l);

/* The cache hooks, or NULL when the cache is off. Borrowed. */
const struct hret_run_cache *hret_store_runlog_cache(struct hret_store_runlog *l);
/* Refreshes the run row's heartbeat (after begin, until end); a failure is logged. */
void hret_store_runlog_heartbeat(struct hret_store_runlog *l);
/* The connection (borrowed), e.g. to read an imported dataset before begin. */
struct hret_store *hret_store_runlog_store(struct hret_store_runlog *l);
/* The run id (valid after open). */
const char *hret_store_runlog_id(const struct hret_store_runlog *l);

/* Creates the run row; run->run_id is ignored (the runlog's id is used). */
enum hret_result hret_store_runlog_begin(struct hret_store_runlog *l,
                                         const struct hret_store_run *run, struct hret_err *err);
/* Flushes the cache, then stores samples, metrics and the status in one transaction.
 * *cache_hits of res is taken from the report by the caller. */
enum hret_result hret_store_runlog_end(struct hret_store_runlog *l,
                                       const struct hret_sample *samples,
                                       const struct hret_outcome *outcomes, size_t count,
                                       const struct hret_store_result *res, struct hret_err *err);

/* Adds `key=value` to the run metadata obj (borrowed): a dotted key nests
 * (hyperparameters.lr=0.001 -> {"hyperparameters": {"lr": 0.001}}), the value is JSON when it
 * parses (0.001, true, ["a"]) and a string otherwise. On a malformed argument prints
 * "<who>: ..." to stderr and returns false. */
bool hret_store_meta_add(cJSON *obj, const char *kv, const char *who);

#endif
