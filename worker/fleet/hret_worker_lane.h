/* hret worker, lanes: a slot's second thread, so that the slot starts its run's next shard while
 * the last stragglers of the previous one are out (issue 25); see hret_worker_lane.c. */
#ifndef HRET_WORKER_LANE_H
#define HRET_WORKER_LANE_H

#include <pthread.h>
#include <stdbool.h>

#include "hret_err.h"
#include "hret_worker.h"

/* ---- the relay: which of a slot's shards may start next ---- */

/* The shards of one run that a slot goes through on its lanes: at most one of them is "fresh"
 * (it still has more samples than its share of the in-flight budget); the next may start once
 * the fresh one is draining or over. Each shard passes exactly once. */
struct hret_worker_relay {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool open;  /* a lane may start the next shard */
    bool ended; /* no shard starts any more (none left, an error, a stop) */
};

void hret_worker_relay_init(struct hret_worker_relay *r, bool open);
void hret_worker_relay_fini(struct hret_worker_relay *r);
/* Waits until the next shard may start (true: this caller starts it, the relay closes) or
 * the relay ended (false). */
bool hret_worker_relay_next(struct hret_worker_relay *r);
/* The caller's shard is draining or over: the next one may start. */
void hret_worker_relay_pass(struct hret_worker_relay *r);
/* No shard starts any more; every waiting lane returns. */
void hret_worker_relay_end(struct hret_worker_relay *r);

/* ---- the lane: a thread with its own worker ---- */

struct hret_worker_lane;

/* A lane of the slot proto (borrowed, as the slot's worker): a worker like it with owner id
 * (copied) and a database connection of its own on db (borrowed, as password_env; opened on
 * the lane's first job). Caller owns *out, also after a failure (destroy it). */
enum hret_result hret_worker_lane_new(const struct hret_worker *proto, const char *id,
                                      const char *db, const char *password_env,
                                      struct hret_worker_lane **out, struct hret_err *err);

/* A job: runs on the lane's thread with the lane's worker (borrowed). */
typedef void hret_worker_lane_fn(void *user, struct hret_worker *w);

/* Starts fn(user, ...) on the lane; false (fn never called) when the lane is busy or NULL. */
bool hret_worker_lane_start(struct hret_worker_lane *l, hret_worker_lane_fn *fn, void *user);
/* Waits until the lane's job returned (at once when it has none). */
void hret_worker_lane_wait(struct hret_worker_lane *l);
/* Joins the thread (after its job) and closes its store. NULL is a no-op. */
void hret_worker_lane_destroy(struct hret_worker_lane *l);

#endif
