/* hret worker: the fleet role's loop (see hret_worker.h). The main thread polls the requests and
 * tasks topics and hands each message to a slot (hret_worker_slots.c: max_workers at once, on
 * threads); when every slot is busy it pauses the assigned partitions and keeps polling, so the
 * group never thinks it hung. A finished message's offset is stored (watermark) only once its
 * effects are committed. Between messages the main thread relays the outbox and sweeps expired
 * shard leases. SIGTERM/SIGINT: stop taking work, let the slots give unfinished shards back,
 * relay, commit the stored offsets and leave the group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_cli.h"
#include "hret_clock.h"
#include "hret_config.h"
#include "hret_http.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_ops.h"
#include "hret_outbox.h"
#include "hret_role.h"
#include "hret_store.h"
#include "hret_store_budget.h"
#include "hret_worker.h"
#include "hret_worker_slots.h"

#define POLL_IDLE_MS 200 /* nothing running: a message still wakes the poll at once */
#define POLL_BUSY_MS 20  /* slots running: reap them promptly */
#define RELAY_EVERY_MS 1000
#define RELAY_BUSY_MS 50    /* events in flight: their reports are served this often */
#define DRAIN_RELAY_MS 5000 /* at shutdown: what is still in flight then is left to others */
#define PRUNE_EVERY_MS 60000

struct loop {
    struct hret_worker *w; /* the main thread's: its store relays and sweeps */
    struct hret_outbox_relay *relay;
    struct hret_kafka_consumer *c;
    struct hret_worker_slots *slots;
    rd_kafka_queue_t *wake;     /* the consumer's queue: a finished slot ends the poll's wait */
    rd_kafka_message_t **stash; /* polled while every slot was busy, in order */
    size_t stashed, stash_cap;
    bool paused, relay_due;
    double last_relay, last_sweep, last_prune, db_retry_at;
};

/* One turn of the relay: never waits for Kafka for long (hret_outbox.h). */
static void relay(struct loop *l)
{
    struct hret_err err = HRET_ERR_INIT;
    if (hret_outbox_relay_step(l->relay, hret_store_pg(l->w->store), NULL, &err) != HRET_OK) {
        hret_log_warn("outbox", NULL, "relay: %s", err.msg);
    }
}

static void on_finished(void *user, const rd_kafka_message_t *m, bool done)
{
    struct loop *l = user;
    l->relay_due = true;
    if (!done) {
        return; /* given back: redelivered to this group */
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    struct hret_err err = HRET_ERR_INIT;
    if (hret_kafka_consumer_done(l->c, topic, m->partition, m->offset, &err) != HRET_OK) {
        hret_log_warn("worker", NULL, "store offset %s[%d]@%lld: %s", topic, (int)m->partition,
                      (long long)m->offset, err.msg);
    }
}

/* A slot finished (on its thread): the poll returns now, so the loop reaps it and relays what
 * it committed (a plan's shard tasks, a run's result) without waiting out POLL_BUSY_MS. */
static void wake_loop(void *queue)
{
    rd_kafka_queue_yield(queue);
}

/* Pauses (or resumes) every assigned partition: polling goes on, fetching stops. */
static void pause_all(struct loop *l, bool pause)
{
    rd_kafka_t *rk = hret_kafka_consumer_handle(l->c);
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    if (pause) {
        rd_kafka_pause_partitions(rk, parts);
    } else {
        rd_kafka_resume_partitions(rk, parts);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    l->paused = pause;
}

static void stash_push(struct loop *l, rd_kafka_message_t *m)
{
    if (l->stashed == l->stash_cap) {
        l->stash_cap = l->stash_cap ? 2 * l->stash_cap : 16;
        l->stash = hret_xrealloc(l->stash, l->stash_cap * sizeof *l->stash);
    }
    l->stash[l->stashed++] = m;
}

static rd_kafka_message_t *stash_pop(struct loop *l)
{
    rd_kafka_message_t *m = l->stash[0];
    memmove(l->stash, l->stash + 1, --l->stashed * sizeof *l->stash);
    return m;
}

/* Hands m to a slot; when a drained slot took the last place meanwhile (the caller saw room),
 * m waits in the stash and the partitions pause. */
static void start(struct loop *l, rd_kafka_message_t *m)
{
    bool request = strcmp(rd_kafka_topic_name(m->rkt), l->w->cfg->kafka.requests_topic) == 0;
    rd_kafka_timestamp_type_t type;
    int64_t published = rd_kafka_message_timestamp(m, &type);
    if (!hret_worker_slots_start(l->slots, m, request)) {
        stash_push(l, m);
        pause_all(l, true);
        return;
    }
    if (published > 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        double ms = (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6 - (double)published;
        hret_ops_dispatch(request ? "request" : "task", ms / 1000.0);
    }
}

/* Relays the outbox when something finished (or every second; while events are in flight,
 * every RELAY_BUSY_MS), sweeps expired leases every third of a lease and prunes the published
 * outbox rows past their retention every minute. */
static void housekeeping(struct loop *l)
{
    double now = hret_clock_now_ms();
    double every = hret_outbox_relay_busy(l->relay) ? RELAY_BUSY_MS : RELAY_EVERY_MS;
    if ((l->relay_due || now - l->last_relay >= every) && now >= l->db_retry_at) {
        l->last_relay = now;
        if (!hret_worker_db_ready(l->w)) {
            l->db_retry_at = now + RELAY_EVERY_MS;
            return; /* the database is away: tried again in a second */
        }
        l->relay_due = false;
        relay(l);
    }
    if (now - l->last_sweep >= (double)l->w->cfg->datasets.shard_lease_s * 1000.0 / 3.0) {
        l->last_sweep = now;
        size_t n = 0;
        struct hret_err err = HRET_ERR_INIT;
        if (hret_worker_sweep(l->w, &n, &err) != HRET_OK) {
            hret_log_warn("worker", NULL, "lease sweep: %s", err.msg);
        }
        l->relay_due = n > 0;
    }
    if (l->last_prune == 0 || now - l->last_prune >= PRUNE_EVERY_MS) {
        l->last_prune = now;
        size_t n = 0;
        struct hret_err err = HRET_ERR_INIT;
        if (hret_worker_prune(l->w, &n, &err) != HRET_OK) {
            hret_log_warn("worker", NULL, "outbox prune: %s", err.msg);
        }
    }
}

static int run_loop(struct loop *l)
{
    while (!hret_role_stop) {
        hret_worker_slots_reap(l->slots, on_finished, l);
        housekeeping(l);
        hret_ops_tick(hret_store_pg(l->w->store), l->c, l->w->producer);
        size_t busy = hret_worker_slots_busy(l->slots);
        bool room = hret_worker_slots_room(l->slots);
        if (room && l->paused) {
            pause_all(l, false);
        }
        if (room && l->stashed > 0) {
            start(l, stash_pop(l));
            continue;
        }
        rd_kafka_message_t *m = NULL;
        struct hret_err err = HRET_ERR_INIT;
        enum hret_result r =
            hret_kafka_consumer_poll(l->c, busy > 0 ? POLL_BUSY_MS : POLL_IDLE_MS, &m, &err);
        if (r == HRET_OK) {
            hret_ops_kafka(true);
            if (hret_worker_slots_room(l->slots)) {
                start(l, m);
            } else {
                stash_push(l, m); /* prefetched before the pause, or a new partition */
                pause_all(l, true);
            }
        } else if (r == HRET_E_FATAL) {
            hret_log_error("worker", NULL, "consumer: %s", err.msg);
            return HRET_EXIT_FAILURE;
        } else if (r != HRET_AGAIN) {
            hret_log_warn("worker", NULL, "consumer: %s", err.msg);
        }
        if (!l->paused && !hret_worker_slots_room(l->slots)) {
            pause_all(l, true);
        }
    }
    return HRET_EXIT_OK;
}

/* After a stop: the slots finish or give their messages back; their offsets are stored as they
 * finish; stashed messages stay unstored (redelivered). */
static void drain(struct loop *l)
{
    hret_log_info("worker", NULL, "stopping: %zu message(s) running, %zu not started",
                  hret_worker_slots_busy(l->slots), l->stashed);
    while (hret_worker_slots_busy(l->slots) > 0) {
        if (hret_worker_slots_reap(l->slots, on_finished, l) == 0) {
            struct timespec ts = {0, POLL_BUSY_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    while (l->stashed > 0) {
        rd_kafka_message_destroy(stash_pop(l));
    }
    free(l->stash);
    hret_log_info("worker", NULL, "relaying the outbox and committing offsets");
    hret_outbox_drain(l->relay, hret_store_pg(l->w->store), DRAIN_RELAY_MS);
}

/* The fleet budget's lease keeper when a model has fleet_* limits; NULL when none has (or on
 * an error, with err set). */
static struct hret_store_budget *start_budget(const struct hret_role *r, struct hret_err *err)
{
    for (size_t i = 0; i < r->cfg.models.count; i++) {
        const struct hret_model_config *m =
            (const struct hret_model_config *)r->cfg.models.items + i;
        if (m->fleet_rpm > 0 || m->fleet_tpm > 0 || m->fleet_max_inflight > 0) {
            return hret_store_budget_start(r->db, r->cfg.postgres.password_env, r->id, err);
        }
    }
    return NULL;
}

static int serve(struct hret_role *r)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_kafka_consumer *c = NULL;
    struct hret_kafka_conf kc = {
        .brokers = r->cfg.kafka.brokers,
        .group_id = r->group ? r->group : r->cfg.kafka.group_id,
        .client_id = "hret-worker",
        .properties = &r->cfg.kafka.properties,
        .sasl_password_env = r->cfg.kafka.sasl_password_env,
    };
    const char *topics[] = {r->cfg.kafka.requests_topic, r->cfg.kafka.tasks_topic};
    struct hret_worker w = {.cfg = &r->cfg,
                            .store = r->store,
                            .producer = r->producer,
                            .worker_id = r->id,
                            .stop = &hret_role_stop,
                            .slots = 1};
    struct loop l = {.w = &w, .relay = hret_outbox_relay_new(r->producer)};
    size_t slots = (size_t)r->cfg.max_workers;
    int rc = HRET_EXIT_FAILURE;
    struct hret_store_budget *budget = start_budget(r, &err);
    if (err.code != HRET_OK ||
        hret_worker_slots_new(&w, slots, r->db, r->cfg.postgres.password_env, &l.slots, &err) !=
            HRET_OK ||
        hret_kafka_consumer_new(&kc, HRET_KAFKA_START_EARLIEST, &c, &err) != HRET_OK ||
        hret_kafka_consumer_subscribe(c, topics, 2, &err) != HRET_OK) {
        fprintf(stderr, "hret worker: %s\n", err.msg);
        rc = err.code == HRET_E_CONFIG ? HRET_EXIT_USAGE : HRET_EXIT_FAILURE;
        goto cleanup;
    }
    l.c = c;
    l.wake = rd_kafka_queue_get_consumer(hret_kafka_consumer_handle(c));
    hret_worker_slots_notify(l.slots, wake_loop, l.wake);
    hret_kafka_producer_know(r->producer, r->cfg.kafka.tasks_topic);
    hret_kafka_producer_know(r->producer, r->cfg.kafka.results_topic);
    hret_log_info("worker", r->id, "consuming %s and %s as group %s, %zu at once", topics[0],
                  topics[1], kc.group_id, slots);
    rc = run_loop(&l);
    hret_role_stop = 1;
    /* No wake-ups once the loop stopped polling: a slot finishing during the drain woke the
     * consumer's queue (rd_kafka_queue_yield), and the consumer then closed without a
     * LeaveGroup, so the group waited out the session (45 s) before the rest of the fleet got
     * the partitions (e2e.fleet_handover). */
    hret_worker_slots_notify(l.slots, NULL, NULL);
    drain(&l);
    if (hret_kafka_consumer_commit(c, &err) != HRET_OK) {
        hret_log_warn("worker", r->id, "final commit: %s", err.msg);
    }
cleanup:
    hret_worker_slots_destroy(l.slots);
    if (l.wake != NULL) {
        rd_kafka_queue_destroy(l.wake);
    }
    hret_outbox_relay_destroy(l.relay, hret_store_pg(r->store));
    hret_store_budget_stop(budget); /* after the slots: their runs no longer send */
    hret_kafka_consumer_destroy(c);
    return rc;
}

int hret_cmd_worker(int argc, char **argv)
{
    struct hret_role r;
    int rc = hret_role_open(&r, "worker", "worker", NULL, argc, argv);
    if (rc == HRET_EXIT_OK) {
        rc = serve(&r);
    }
    hret_role_close(&r);
    return rc;
}
