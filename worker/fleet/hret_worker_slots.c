/* hret worker, slots: up to max_workers messages (requests or shard tasks) run at once, each on
 * a thread of its own with its own database connection, while the main thread keeps polling
 * Kafka (hret_cmd_worker.c). A message holds one of the max_workers places while it has work to
 * send; a shard that has sent its last request (only stragglers in flight, hret_run's sent hook)
 * gives its place up and drains on its thread while another thread takes the next message, so
 * the pool has twice as many threads as places. A drained thread takes a place again before it
 * steals another shard, and only if one is free. A slot retries its message until it is done or the
 * worker stops; the main thread reaps finished slots and stores their offsets. Only the main thread
 * touches the consumer; the producer is shared (librdkafka producers are thread-safe). A slot left
 * idle for a while pulls a shard that waits with no task taken (hret_worker_shard_pull): the tasks
 * topic's partitions may sit with busy workers or be fewer than the workers. */
#include "hret_worker_slots.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hret_clock.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_role.h"

#define RETRY_SLEEP_MS 1000
#define PULL_EVERY_MS 2000 /* an idle slot looks for a waiting shard this often (+0-25% jitter) */

enum slot_state { SLOT_FREE, SLOT_BUSY, SLOT_PULLING, SLOT_FINISHED };

struct slot {
    struct hret_worker_slots *owner;
    struct hret_worker w; /* the prototype with this slot's store and owner id */
    char id[224];         /* host:pid:nonce:slot, this slot's shard lease owner */
    pthread_t thread;
    bool started;
    /* under owner->lock */
    enum slot_state state;
    bool holds; /* one of the max_workers places (not while its shard drains) */
    rd_kafka_message_t *msg;
    bool request;
    bool done; /* the message's effects are committed: its offset may be stored */
};

struct hret_worker_slots {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool quit;
    void (*notify)(void *user); /* nullable: told of each finished message */
    void *notify_user;
    size_t places; /* max_workers: messages sending at once */
    size_t held;   /* places held (struct slot.holds) */
    size_t count;  /* threads: 2 x places */
    struct slot *slots;
};

/* Under the lock. */
static void take_place(struct slot *s)
{
    if (!s->holds) {
        s->holds = true;
        s->owner->held++;
    }
}

/* Under the lock: the main thread may start the next message (the notify hook wakes it). */
static void give_place(struct slot *s)
{
    if (s->holds) {
        s->holds = false;
        s->owner->held--;
        if (s->owner->notify != NULL) {
            s->owner->notify(s->owner->notify_user);
        }
    }
}

/* hret_worker.draining: the slot's shard has only answers in flight left. */
static void on_draining(void *slot)
{
    struct slot *s = slot;
    pthread_mutex_lock(&s->owner->lock);
    give_place(s);
    pthread_mutex_unlock(&s->owner->lock);
}

/* hret_worker.resume: a drained slot takes a place again to steal a shard, if one is free. */
static bool on_resume(void *slot)
{
    struct slot *s = slot;
    pthread_mutex_lock(&s->owner->lock);
    bool ok = s->holds || s->owner->held < s->owner->places;
    if (ok) {
        take_place(s);
    }
    pthread_mutex_unlock(&s->owner->lock);
    return ok;
}

bool hret_worker_db_ready(struct hret_worker *w)
{
    struct hret_err err = HRET_ERR_INIT;
    if (hret_pg_ensure(hret_store_pg(w->store), &err) != HRET_OK) {
        hret_log_warn("worker", NULL, "database: %s", err.msg);
        return false;
    }
    return true;
}

/* One message until it is done or the worker stops (then it stays unstored: redelivered). A
 * retry holds a place again at once, even past max_workers while others are full: the message
 * is this slot's to finish. */
static bool run_message(struct slot *s, const rd_kafka_message_t *m, bool request)
{
    for (;;) {
        pthread_mutex_lock(&s->owner->lock);
        take_place(s);
        pthread_mutex_unlock(&s->owner->lock);
        enum hret_worker_outcome out = HRET_WORKER_RETRY;
        if (hret_worker_db_ready(&s->w)) { /* it may have died while the slot was idle */
            out = request ? hret_worker_request(&s->w, m) : hret_worker_shard(&s->w, m);
        }
        if (out == HRET_WORKER_DONE) {
            return true;
        }
        if (s->w.stop && *s->w.stop) {
            return false;
        }
        hret_role_sleep_ms(RETRY_SLEEP_MS);
    }
}

/* An idle slot's turn to pull, outside the lock: a shard waiting with no task taken, if any
 * (its database connection first comes back if it was lost, silently: the next turn retries). */
static bool pull(struct slot *s)
{
    struct hret_err err = HRET_ERR_INIT;
    return (s->w.stop == NULL || !*s->w.stop) &&
           hret_pg_ensure(hret_store_pg(s->w.store), &err) == HRET_OK &&
           hret_worker_shard_pull(&s->w);
}

/* When an idle slot next pulls: PULL_EVERY_MS from now, plus up to a quarter of it. */
static struct timespec next_pull(unsigned *seed)
{
    return hret_clock_deadline(CLOCK_MONOTONIC,
                               PULL_EVERY_MS + (long)(rand_r(seed) % (PULL_EVERY_MS / 4 + 1)));
}

static void *slot_main(void *arg)
{
    struct slot *s = arg;
    struct hret_worker_slots *o = s->owner;
    unsigned seed = (unsigned)((uintptr_t)s ^ (uintptr_t)time(NULL));
    pthread_mutex_lock(&o->lock);
    for (;;) {
        struct timespec due = next_pull(&seed);
        while (s->state != SLOT_BUSY && !o->quit) {
            if (pthread_cond_timedwait(&o->wake, &o->lock, &due) != ETIMEDOUT) {
                continue; /* a message for some slot, or the end */
            }
            if (s->state == SLOT_FREE && o->held < o->places) {
                s->state = SLOT_PULLING; /* not free: no message is handed to it meanwhile */
                take_place(s);
                pthread_mutex_unlock(&o->lock);
                bool pulled = pull(s);
                pthread_mutex_lock(&o->lock);
                s->state = SLOT_FREE;
                give_place(s);
                if (pulled && o->notify != NULL) {
                    o->notify(o->notify_user); /* it may have paused the partitions */
                }
            }
            due = next_pull(&seed);
        }
        if (s->state != SLOT_BUSY) {
            break;
        }
        const rd_kafka_message_t *m = s->msg;
        bool request = s->request;
        pthread_mutex_unlock(&o->lock);
        bool done = run_message(s, m, request);
        pthread_mutex_lock(&o->lock);
        s->done = done;
        s->state = SLOT_FINISHED;
        if (o->notify != NULL) {
            o->notify(o->notify_user);
        }
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

enum hret_result hret_worker_slots_new(const struct hret_worker *proto, size_t count,
                                       const char *db, const char *password_env,
                                       struct hret_worker_slots **out, struct hret_err *err)
{
    struct hret_worker_slots *o = hret_xcalloc(1, sizeof *o);
    pthread_mutex_init(&o->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* next_pull's deadlines */
    pthread_cond_init(&o->wake, &attr);
    pthread_condattr_destroy(&attr);
    o->places = count;
    o->count = 2 * count; /* as many draining as sending */
    o->slots = hret_xcalloc(o->count, sizeof *o->slots);
    *out = o;
    for (size_t i = 0; i < o->count; i++) {
        struct slot *s = &o->slots[i];
        s->owner = o;
        s->w = *proto;
        s->w.slots = count;
        s->w.draining = on_draining;
        s->w.resume = on_resume;
        s->w.slot = s;
        snprintf(s->id, sizeof s->id, "%s:%zu", proto->worker_id, i);
        s->w.worker_id = s->id;
        if (hret_store_open(db, password_env, false, &s->w.store, err) != HRET_OK) {
            return err->code;
        }
        if (pthread_create(&s->thread, NULL, slot_main, s) != 0) {
            return hret_err_set(err, HRET_E_FATAL, "cannot start worker thread %zu", i);
        }
        s->started = true;
    }
    return HRET_OK;
}

void hret_worker_slots_notify(struct hret_worker_slots *o, void (*fn)(void *user), void *user)
{
    pthread_mutex_lock(&o->lock);
    o->notify = fn;
    o->notify_user = user;
    pthread_mutex_unlock(&o->lock);
}

bool hret_worker_slots_start(struct hret_worker_slots *o, rd_kafka_message_t *m, bool request)
{
    bool taken = false;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->count && !taken && o->held < o->places; i++) {
        struct slot *s = &o->slots[i];
        if (s->state == SLOT_FREE) {
            s->msg = m;
            s->request = request;
            s->done = false;
            s->state = SLOT_BUSY;
            take_place(s);
            taken = true;
        }
    }
    if (taken) {
        pthread_cond_broadcast(&o->wake);
    }
    pthread_mutex_unlock(&o->lock);
    return taken;
}

size_t hret_worker_slots_reap(struct hret_worker_slots *o, hret_worker_slots_done_fn *done,
                              void *user)
{
    size_t n = 0;
    for (size_t i = 0; i < o->count; i++) {
        struct slot *s = &o->slots[i];
        pthread_mutex_lock(&o->lock);
        bool finished = s->state == SLOT_FINISHED;
        rd_kafka_message_t *m = s->msg;
        bool ok = s->done;
        if (finished) {
            s->state = SLOT_FREE;
            s->msg = NULL;
            give_place(s);
        }
        pthread_mutex_unlock(&o->lock);
        if (finished) {
            done(user, m, ok);
            rd_kafka_message_destroy(m);
            n++;
        }
    }
    return n;
}

size_t hret_worker_slots_busy(struct hret_worker_slots *o)
{
    size_t n = 0;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->count; i++) {
        n += o->slots[i].state != SLOT_FREE;
    }
    pthread_mutex_unlock(&o->lock);
    return n;
}

bool hret_worker_slots_room(struct hret_worker_slots *o)
{
    bool room = false;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->count && !room && o->held < o->places; i++) {
        room = o->slots[i].state == SLOT_FREE;
    }
    pthread_mutex_unlock(&o->lock);
    return room;
}

void hret_worker_slots_destroy(struct hret_worker_slots *o)
{
    if (o == NULL) {
        return;
    }
    pthread_mutex_lock(&o->lock);
    o->quit = true;
    pthread_cond_broadcast(&o->wake);
    pthread_mutex_unlock(&o->lock);
    for (size_t i = 0; i < o->count; i++) {
        struct slot *s = &o->slots[i];
        if (s->started) {
            pthread_join(s->thread, NULL);
        }
        if (s->msg != NULL) {
            rd_kafka_message_destroy(s->msg); /* unfinished: never stored, redelivered */
        }
        hret_store_destroy(s->w.store);
    }
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    free(o->slots);
    free(o);
}
