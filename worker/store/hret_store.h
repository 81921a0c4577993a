/* The PostgreSQL store (DESIGN.md §5): runs, samples and metric rows, written idempotently.
 *
 * - A run row is created when the run starts (status running) and finished once with its
 *   status, metrics object and one metrics row per number, in one transaction.
 * - Samples go in bulk: COPY into a temporary staging table, then INSERT ... ON CONFLICT
 *   (run_id, sample_idx) DO NOTHING, so writing the same samples again adds nothing.
 * - hret_store_run_complete does both in one transaction: a run is either complete with all its
 *   samples and metrics, or untouched. Transactions are retried as a whole on connection loss,
 *   serialization failures and deadlocks (hret_pg_transaction), then fail clearly.
 * Reading (find, list, history) lives in hret_store_query.h, the response cache in
 * hret_store_cache.h, datasets in hret_store_dataset.h. */
#ifndef HRET_STORE_H
#define HRET_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_config.h"
#include "hret_err.h"
#include "hret_outcome.h"
#include "hret_pg.h"
#include "hret_sample.h"

struct hret_store;

/* Connects (conninfo and password_env borrowed) and, when migrate is set, applies pending
 * migrations first. Caller owns *out. */
enum hret_result hret_store_open(const char *conninfo, const char *password_env, bool migrate,
                                 struct hret_store **out, struct hret_err *err);
void hret_store_destroy(struct hret_store *s);
struct hret_pg *hret_store_pg(struct hret_store *s); /* borrowed; NULL for a NULL store */

/* A new run id: a random UUID (version 4), 36 characters + NUL. */
void hret_store_new_run_id(char out[37]);

struct hret_store_run {       /* how a run starts; all borrowed */
    const char *run_id;       /* required */
    const char *request_id;   /* nullable */
    const char *run_name;     /* nullable */
    const char *model_name;   /* required: the config's key */
    const char *model_id;     /* nullable: what the endpoint is asked for */
    const char *endpoint;     /* nullable: base URL */
    const char *dataset_name; /* required */
    const char *dataset_version;
    const char *data_version; /* nullable: the imported version read ("" = files) */
    const char *split;
    const char *method;
    size_t planned;
    const cJSON *metadata; /* nullable = {} */
    const cJSON *config;   /* nullable: results JSON run_metadata.config */
    double started_at;     /* Unix seconds */
};

struct hret_store_result { /* how a run ended; all borrowed */
    const char *status;    /* completed, partial, failed or cancelled */
    const cJSON *metrics;  /* the metrics object; numbers become metrics rows */
    const cJSON *info;     /* nullable: results JSON info block */
    const char *served_model, *fingerprint, *error; /* nullable */
    size_t done, errors, cache_hits;
    double finished_at; /* Unix seconds */
};

/* Creates the run (status running). Again with the same run_id: no new row; a finished run
 * keeps its status, any other becomes running again. */
enum hret_result hret_store_run_begin(struct hret_store *s, const struct hret_store_run *run,
                                      struct hret_err *err);

/* Stores samples[i] with outcomes[i].done (keyed by samples[i].idx), arrays of count,
 * borrowed. *inserted (nullable) = rows that were new. One transaction. */
enum hret_result hret_store_samples_write(struct hret_store *s, const char *run_id,
                                          const struct hret_sample *samples,
                                          const struct hret_outcome *outcomes, size_t count,
                                          size_t *inserted, struct hret_err *err);

/* Marks the run finished with its metrics (row per number, replacing earlier rows). */
enum hret_result hret_store_run_finish(struct hret_store *s, const char *run_id,
                                       const struct hret_store_result *res, struct hret_err *err);

/* The same inside the caller's transaction on pg (borrowed): for the worker, which finishes a
 * run in the transaction that stores its last shard. */
enum hret_result hret_store_run_finish_txn(struct hret_pg *pg, const char *run_id,
                                           const struct hret_store_result *res,
                                           struct hret_err *err);

/* Refreshes the heartbeat of a running run (hret run, every HRET_STORE_HEARTBEAT_S); a running
 * row whose heartbeat is older than HRET_STORE_ABANDONED_S is shown as `abandoned`. */
#define HRET_STORE_HEARTBEAT_S 30
#define HRET_STORE_ABANDONED_S 120
enum hret_result hret_store_run_heartbeat(struct hret_store *s, const char *run_id,
                                          struct hret_err *err);

/* Marks a run that is still planned or running as failed with error (borrowed); a finished
 * run is left alone. */
enum hret_result hret_store_run_abandon(struct hret_store *s, const char *run_id, const char *error,
                                        struct hret_err *err);

/* hret_store_samples_write and hret_store_run_finish in one transaction. */
enum hret_result hret_store_run_complete(struct hret_store *s, const char *run_id,
                                         const struct hret_sample *samples,
                                         const struct hret_outcome *outcomes, size_t count,
                                         const struct hret_store_result *res, size_t *inserted,
                                         struct hret_err *err);

/* Splits a metrics key into (name, subset): "Law/accuracy" -> ("accuracy", "Law"), "errors" ->
 * ("errors", ""). Writes into name/subset (cap bytes each); pure. */
void hret_store_metric_key(const char *key, char *name, char *subset, size_t cap);

/* Appends a PostgreSQL array literal of n strings ({"a","b\"c"}; NULL items are NULL) to b. */
void hret_store_array_literal(struct hret_buf *b, const char *const *items, size_t n);

#endif
