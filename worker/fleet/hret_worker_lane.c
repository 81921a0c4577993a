/* hret worker, lanes. A shard ends with its slowest request: with heavy-tailed latency (a few
 * requests many times slower than the rest) a slot that runs one shard at a time spends most of
 * each shard's end with one or two requests out while its share of the model's in-flight budget
 * stays unused. So each slot has a second thread, its lane: the slot's shard task starts the
 * lane on the same run, and the two take the run's pending shards in turn through a relay: the
 * next shard starts as soon as the current one is draining (hret_worker_shard.c says when), on
 * whichever lane is free. The lane is a lease owner of its own (host:pid:nonce:N, N counting on
 * from the slots) with a database connection of its own, opened on its first job. */
#include "hret_worker_lane.h"

#include <stdio.h>
#include <stdlib.h>

#include "hret_log.h"
#include "hret_mem.h"

void hret_worker_relay_init(struct hret_worker_relay *r, bool open)
{
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    r->open = open;
    r->ended = false;
}

void hret_worker_relay_fini(struct hret_worker_relay *r)
{
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
}

bool hret_worker_relay_next(struct hret_worker_relay *r)
{
    pthread_mutex_lock(&r->lock);
    while (!r->open && !r->ended) {
        pthread_cond_wait(&r->wake, &r->lock);
    }
    bool go = !r->ended;
    r->open = false;
    pthread_mutex_unlock(&r->lock);
    return go;
}

void hret_worker_relay_pass(struct hret_worker_relay *r)
{
    pthread_mutex_lock(&r->lock);
    r->open = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

void hret_worker_relay_end(struct hret_worker_relay *r)
{
    pthread_mutex_lock(&r->lock);
    r->ended = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

struct hret_worker_lane {
    struct hret_worker w; /* the slot's, with this lane's id and store */
    char id[224];
    const char *db, *password_env; /* borrowed */
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    /* under lock */
    hret_worker_lane_fn *fn; /* the job, NULL when idle */
    void *user;
    bool quit;
};

/* The lane's connection, opened on its first job; false (logged) when it cannot be. */
static bool lane_store(struct hret_worker_lane *l)
{
    if (l->w.store != NULL) {
        return true;
    }
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_open(l->db, l->password_env, false, &l->w.store, &err) != HRET_OK) {
        hret_log_warn("worker", NULL, "lane %s: database: %s", l->id, err.msg);
        hret_store_destroy(l->w.store);
        l->w.store = NULL;
        return false;
    }
    return true;
}

static void *lane_main(void *arg)
{
    struct hret_worker_lane *l = arg;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (l->fn == NULL && !l->quit) {
            pthread_cond_wait(&l->wake, &l->lock);
        }
        if (l->fn == NULL) {
            break;
        }
        hret_worker_lane_fn *fn = l->fn;
        void *user = l->user;
        pthread_mutex_unlock(&l->lock);
        if (lane_store(l)) {
            fn(user, &l->w);
        }
        pthread_mutex_lock(&l->lock);
        l->fn = NULL;
        pthread_cond_broadcast(&l->wake);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

enum hret_result hret_worker_lane_new(const struct hret_worker *proto, const char *id,
                                      const char *db, const char *password_env,
                                      struct hret_worker_lane **out, struct hret_err *err)
{
    struct hret_worker_lane *l = hret_xcalloc(1, sizeof *l);
    *out = l;
    l->w = *proto;
    l->w.store = NULL;
    l->w.lane = NULL; /* a lane has no lane of its own */
    snprintf(l->id, sizeof l->id, "%s", id);
    l->w.worker_id = l->id;
    l->db = db;
    l->password_env = password_env;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    if (pthread_create(&l->thread, NULL, lane_main, l) != 0) {
        return hret_err_set(err, HRET_E_FATAL, "cannot start the thread of lane %s", id);
    }
    l->started = true;
    return HRET_OK;
}

bool hret_worker_lane_start(struct hret_worker_lane *l, hret_worker_lane_fn *fn, void *user)
{
    if (l == NULL || !l->started) {
        return false;
    }
    pthread_mutex_lock(&l->lock);
    bool idle = l->fn == NULL && !l->quit;
    if (idle) {
        l->fn = fn;
        l->user = user;
        pthread_cond_broadcast(&l->wake);
    }
    pthread_mutex_unlock(&l->lock);
    return idle;
}

void hret_worker_lane_wait(struct hret_worker_lane *l)
{
    if (l == NULL) {
        return;
    }
    pthread_mutex_lock(&l->lock);
    while (l->fn != NULL) {
        pthread_cond_wait(&l->wake, &l->lock);
    }
    pthread_mutex_unlock(&l->lock);
}

void hret_worker_lane_destroy(struct hret_worker_lane *l)
{
    if (l == NULL) {
        return;
    }
    if (l->started) {
        pthread_mutex_lock(&l->lock);
        l->quit = true;
        pthread_cond_broadcast(&l->wake);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->thread, NULL);
    }
    hret_store_destroy(l->w.store);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
