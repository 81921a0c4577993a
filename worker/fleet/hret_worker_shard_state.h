/* hret worker, shard tasks: the state of a shard, shared by hret_worker_shard.c (claim, samples,
 * completion) and hret_worker_shard_lanes.c (the slot's further shards on its lanes). Not for
 * other modules. */
#ifndef HRET_WORKER_SHARD_STATE_H
#define HRET_WORKER_SHARD_STATE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "hret_dataset.h"
#include "hret_err.h"
#include "hret_outcome.h"
#include "hret_request.h"
#include "hret_sample.h"
#include "hret_store_cache.h"
#include "hret_store_samples.h"
#include "hret_worker.h"
#include "hret_worker_lane.h"

struct shard {
    struct hret_worker *w;
    char run_id[130], shard_idx[32], first[32], end[32], lease[32], max_attempts[32];
    long long lo, hi;
    bool claimed;
    bool lost; /* the lease went to another owner (or the shard finished): nothing stored */
    struct hret_worker_relay *relay; /* the slot's, while it runs this run's shards */
    bool passed;                     /* this shard let the relay start the next one */
    bool borrowed;          /* the run's context (request, dataset) is the slot thread's shard's */
    pthread_mutex_t *reads; /* the lanes read the one dataset's spool file in turn */
    /* hret_run's stop flag for this shard: set when the worker stops or the lease is lost, and
     * then the shard's queued and in-flight requests are dropped at once */
    volatile sig_atomic_t halt;
    struct hret_store_cache *cache; /* while the shard runs: flushed on every progress tick */
    double renewed_ms;              /* when the lease was last renewed */
    char *request_id, *version;     /* owned */
    char data_version[65];          /* the imported version the run reads, "" for files */
    struct hret_request *req;
    struct hret_worker_run run;
    struct hret_dataset *ds;
    struct hret_sample *todo; /* the shard's samples not stored yet, read from ds (owned) */
    struct hret_outcome *outcomes;
    size_t n_todo, stored_before, done, errors;
    struct hret_store_samples_batch batch;
};

/* Forgets the current shard's samples; the run's context stays for the next shard. */
void hret_worker_shard_reset(struct shard *s);
/* The claimed shard's samples, then the transaction that completes it. */
enum hret_result hret_worker_shard_run(struct shard *s, struct hret_err *err);
/* Keeps what finished and gives the shard back (why borrowed). */
void hret_worker_shard_release(struct shard *s, const char *why);
/* From hret_run's progress hook: left samples of the shard are not settled yet. */
void hret_worker_shard_pass(struct shard *s, size_t left);
/* The claimed shard s (its context loaded when r is HRET_OK, else the failure in err), then the
 * run's pending shards on the slot's two lanes; the message's outcome. */
enum hret_worker_outcome hret_worker_shard_lanes(struct shard *s, enum hret_result r,
                                                 struct hret_err *err);

#endif
