/* hret worker, slots: up to max_workers messages (requests or shard tasks) run at once, each on
 * a thread of its own with its own database connection, while the main thread keeps polling
 * Kafka (hret_cmd_worker.c). A slot retries its message until it is done or the worker stops;
 * the main thread reaps finished slots and stores their offsets. Only the main thread touches
 * the consumer; the producer is shared (librdkafka producers are thread-safe). A slot left idle
 * for a while pulls a shard that waits with no task taken (hret_worker_shard_pull): the tasks
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
    size_t count;
    struct slot *slots;
};

bool hret_worker_db_ready(struct hret_worker *w)
{
    struct hret_err err = HRET_ERR_INIT;
    if (hret_pg_ensure(hret_store_pg(w->store), &err) != HRET_OK) {
        hret_log_warn("worker", NULL, "database: %s", err.msg);
        return false;
    }
    return true;
}

/* One message until it is done or the worker stops (then it stays unstored: redelivered). */
static bool run_message(struct slot *s, const rd_kafka_message_t *m, bool request)
{
    for (;;) {
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
            if (s->state == SLOT_FREE) {
                s->state = SLOT_PULLING; /* not free: no message is handed to it meanwhile */
                pthread_mutex_unlock(&o->lock);
                bool pulled = pull(s);
                pthread_mutex_lock(&o->lock);
                s->state = SLOT_FREE;
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
    o->slots = hret_xcalloc(count, sizeof *o->slots);
    o->count = count;
    *out = o;
    for (size_t i = 0; i < count; i++) {
        struct slot *s = &o->slots[i];
        s->owner = o;
        s->w = *proto;
        s->w.slots = count;
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
    for (size_t i = 0; i < o->count && !taken; i++) {
        struct slot *s = &o->slots[i];
        if (s->state == SLOT_FREE) {
            s->msg = m;
            s->request = request;
            s->done = false;
            s->state = SLOT_BUSY;
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

size_t hret_worker_slots_count(const struct hret_worker_slots *o)
{
    return o->count;
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
