/* hret worker: the fleet role (DESIGN.md §2-§3). One consumer in the workers' group reads the
 * requests and tasks topics one message at a time; a request is planned into runs, shards and
 * shard-task events in one PostgreSQL transaction (outbox); a shard task runs its sample range
 * and, when it was the run's last shard, aggregates the run's metrics from the samples table and
 * writes the result event in the same transaction. The message's offset is stored only after
 * that commit. The outbox relay runs in the same loop. */
#ifndef HRET_WORKER_H
#define HRET_WORKER_H

#include <signal.h>
#include <stdbool.h>

#include <librdkafka/rdkafka.h>

#include "hret_config.h"
#include "hret_err.h"
#include "hret_kafka.h"
#include "hret_request.h"
#include "hret_store.h"

struct hret_worker {
    const struct hret_config *cfg;        /* borrowed */
    struct hret_store *store;             /* borrowed */
    struct hret_kafka_producer *producer; /* borrowed */
    const char *worker_id; /* borrowed: shard lease owner (a slot: host:pid:nonce:slot) */
    const volatile sig_atomic_t *stop; /* borrowed, nullable */
    size_t slots;                      /* shards run at once: endpoint limits are shared */
    /* The slot pool's (hret_worker_slots.c; NULL outside a slot): a shard that has sent its
     * last request calls draining(slot), and the pool lets another thread take the slot's place
     * while this one waits for the answers in flight; before it takes another shard (work
     * stealing) it asks resume(slot) for a place again: false, the pool is full, and the
     * message ends there (the shards left have their own tasks). */
    void (*draining)(void *slot);
    bool (*resume)(void *slot);
    void *slot;
};

/* SQL: the run of the shards row in scope is live (planned or running). A failed or cancelled
 * run's shards are never handed out again. */
#define HRET_WORKER_LIVE_RUN                                                                       \
    "EXISTS (SELECT 1 FROM runs WHERE runs.run_id = shards.run_id"                                 \
    " AND runs.status IN ('planned', 'running'))"

/* What became of a message: its offset may be stored (done), or it must be tried again
 * (retry: a retriable failure such as the database being away). */
enum hret_worker_outcome { HRET_WORKER_DONE, HRET_WORKER_RETRY };

/* A request message (borrowed): planned, a redelivery (no-op) or refused (DLQ + failed
 * event). */
enum hret_worker_outcome hret_worker_request(struct hret_worker *w, const rd_kafka_message_t *m);

/* A shard task message (borrowed). */
enum hret_worker_outcome hret_worker_shard(struct hret_worker *w, const rd_kafka_message_t *m);

/* An idle slot's pull: claims a shard that has been pending a while with no task taken (its task
 * is in a partition no free slot holds, or behind busy ones) and runs it, and the run's further
 * pending shards, as a task would; a retriable failure gives it back. False: none was pending. */
bool hret_worker_shard_pull(struct hret_worker *w);

/* Hands out again the shards of live runs whose lease ran out: each goes back to pending with a
 * new shard-task event in the outbox; fails the run of an expired shard that used
 * datasets.max_shard_attempts, and the open shards of runs that are over. *reclaimed = how many
 * were handed out. Any worker may sweep at any time (hret_worker_sweep.c). */
enum hret_result hret_worker_sweep(struct hret_worker *w, size_t *reclaimed, struct hret_err *err);

/* Deletes up to 1000 published outbox rows older than outbox.retention_s, keeping the shard tasks
 * of live runs (the sweep copies them). *pruned = how many. */
enum hret_result hret_worker_prune(struct hret_worker *w, size_t *pruned, struct hret_err *err);

/* A shard's run, as the finishing code needs it (all borrowed). */
struct hret_worker_run {
    const char *run_id;
    const struct hret_request *req;
    const struct hret_request_model *model;
    const struct hret_request_dataset *ds;
    const char *version;
    const char *data_version; /* the imported version read, "" for files */
};

/* Inside the caller's transaction on pg, which holds the request row's lock: when run has no
 * shard left to do, aggregates its metrics from the samples table, marks it completed, adds
 * the hret.run.completed.v1 event to the outbox and, when it was the request's last run, marks
 * the request completed. Idempotent. */
enum hret_result hret_worker_finish_run(struct hret_worker *w, struct hret_pg *pg,
                                        const struct hret_worker_run *run, struct hret_err *err);

/* Inside the caller's transaction: compares every candidate model (models[1..]) with the
 * baseline (models[0]) on each dataset of q (borrowed) and adds a comparisons row and a
 * hret.comparison.completed.v1 event per pair; pairs without two completed runs are skipped. */
enum hret_result hret_worker_compare(struct hret_worker *w, struct hret_pg *pg,
                                     const struct hret_request *q, struct hret_err *err);

/* Marks run failed (class and message borrowed) with its hret.run.failed.v1 event and its open
 * shards failed, in one transaction that holds the request row's lock; when it was the request's
 * last open run, closes the request (failed, naming its failed runs) and compares the runs that
 * completed. req (borrowed, nullable: then parsed from the stored request) is the run's request.
 * A finished run is left alone. */
enum hret_result hret_worker_fail_run(struct hret_worker *w, const struct hret_request *req,
                                      const char *request_id, const char *run_id, const char *cls,
                                      const char *message, struct hret_err *err);

/* A new failed-event payload (caller owns). */
cJSON *hret_worker_failed_data(const char *request_id, const char *run_id, const char *cls,
                               const char *message, const char *path);

#endif
