/* The response cache in PostgreSQL (table response_cache), behind hret_run's cache hooks.
 *
 * Off the hot path as far as possible, and bounded by what a run asks for: a lookup the
 * memory cannot answer asks the database for that key and, when it is stored, the bodies
 * stored after it in one window (entries are numbered in the order they were stored, which is
 * close to the order a repeated run asks for them). A miss costs one indexed round trip and
 * reads nothing, so a shard never loads the keys other shards and runs cached for the endpoint;
 * a repeated run costs one round trip per few hundred hits. New bodies are buffered and written
 * every 256 entries (COPY into a staging table, INSERT ... ON CONFLICT DO NOTHING) and on
 * flush. The cache is best effort: a database failure is logged and the run goes on without
 * it. */
#ifndef HRET_STORE_CACHE_H
#define HRET_STORE_CACHE_H

#include <stddef.h>

#include "hret_config.h"
#include "hret_run.h"
#include "hret_store.h"

struct hret_store_cache;

struct hret_store_cache_stats {
    size_t lookups, hits, stored, dropped, round_trips;
    size_t rows; /* keys and bodies read from the database */
};

/* store is borrowed for the cache's lifetime, model only during the call. Caller owns
 * result. */
struct hret_store_cache *hret_store_cache_new(struct hret_store *store,
                                              const struct hret_model_config *model);
/* Writes what is buffered, then frees; destroy(NULL) is a no-op. */
void hret_store_cache_destroy(struct hret_store_cache *c);

/* The hooks to put in hret_run_params.cache (valid while c lives). */
void hret_store_cache_hooks(struct hret_store_cache *c, struct hret_run_cache *out);

/* Writes the buffered entries now (dropped with a warning when the database fails). */
enum hret_result hret_store_cache_flush(struct hret_store_cache *c, struct hret_err *err);

void hret_store_cache_get_stats(const struct hret_store_cache *c,
                                struct hret_store_cache_stats *out);

#endif
