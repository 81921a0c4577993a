/* hret worker, slots: the messages a worker process runs at once (config max_workers), each on
 * a thread with its own database connection, plus as many threads again for shards that only
 * wait for their last answers (draining); see hret_worker_slots.c. */
#ifndef HRET_WORKER_SLOTS_H
#define HRET_WORKER_SLOTS_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "hret_err.h"
#include "hret_worker.h"

struct hret_worker_slots;

/* count places (max_workers) and 2 x count slots, each a copy of proto (borrowed) with a store of
 * its own on db. Caller owns *out, also after a failure (destroy it). */
enum hret_result hret_worker_slots_new(const struct hret_worker *proto, size_t count,
                                       const char *db, const char *password_env,
                                       struct hret_worker_slots **out, struct hret_err *err);

/* fn(user) (borrowed; fn must not block) is called on the slot's thread, under the slots' lock,
 * each time a slot finishes a message (or a pulled shard): the main thread's poll is woken to
 * reap it at once. fn NULL: no more calls. */
void hret_worker_slots_notify(struct hret_worker_slots *o, void (*fn)(void *user), void *user);

/* Hands m (ownership taken) to a free slot; false (m not taken) when no slot is free or every
 * place is held (hret_worker_slots_room). */
bool hret_worker_slots_start(struct hret_worker_slots *o, rd_kafka_message_t *m, bool request);

/* Called by reap for each finished message (borrowed; destroyed after the call): done is true
 * when its effects are committed and its offset may be stored. */
typedef void hret_worker_slots_done_fn(void *user, const rd_kafka_message_t *m, bool done);

/* Frees the finished slots, calling done for each; returns how many. Main thread only. */
size_t hret_worker_slots_reap(struct hret_worker_slots *o, hret_worker_slots_done_fn *done,
                              void *user);

/* Reconnects w's database connection when it was lost (a database restart): the planner's, the
 * claim's, the relay's and the sweep's single statements do not reconnect themselves. False,
 * logged, while the database is still away. */
bool hret_worker_db_ready(struct hret_worker *w);

/* Slots busy (sending, draining or pulling) or finished, not reaped. */
size_t hret_worker_slots_busy(struct hret_worker_slots *o);

/* Whether hret_worker_slots_start would take a message now: a place is free (fewer than
 * max_workers messages still sending) and so is a thread. Main thread only. */
bool hret_worker_slots_room(struct hret_worker_slots *o);

/* Joins the threads (a busy slot first finishes or, with stop set, gives its message back) and
 * closes the stores. Reap first: unreaped messages are dropped unstored. NULL is a no-op. */
void hret_worker_slots_destroy(struct hret_worker_slots *o);

#endif
