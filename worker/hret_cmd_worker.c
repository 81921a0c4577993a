/* hret worker: the fleet role's loop (see hret_worker.h). One message at a time from the
 * requests and tasks topics; its offset is stored (watermark) only once its effects are
 * committed; the outbox relay runs between messages; SIGTERM/SIGINT stop taking work, give an
 * unfinished shard back, commit the stored offsets and leave the group. */
#include <stdio.h>
#include <string.h>

#include "hret_cli.h"
#include "hret_config.h"
#include "hret_log.h"
#include "hret_outbox.h"
#include "hret_role.h"
#include "hret_store.h"
#include "hret_worker.h"

#define POLL_MS 200
#define RETRY_SLEEP_MS 1000

static void relay(struct hret_worker *w)
{
    struct hret_err err = HRET_ERR_INIT;
    size_t n = 0;
    do {
        hret_err_clear(&err);
        if (hret_outbox_relay(hret_store_pg(w->store), w->producer, &n, &err) != HRET_OK) {
            hret_log_warn("outbox", NULL, "relay: %s", err.msg);
            return;
        }
    } while (n > 0 && !hret_role_stop);
}

/* One message until it is done (offset stored) or the worker stops. */
static void handle(struct hret_worker *w, struct hret_kafka_consumer *c,
                   const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    bool request = strcmp(topic, w->cfg->kafka.requests_topic) == 0;
    for (;;) {
        enum hret_worker_outcome out =
            request ? hret_worker_request(w, m) : hret_worker_shard(w, m);
        if (out == HRET_WORKER_DONE) {
            break;
        }
        if (hret_role_stop) {
            return; /* not stored: another worker (or this one, restarted) takes it again */
        }
        hret_role_sleep_ms(RETRY_SLEEP_MS);
    }
    relay(w);
    struct hret_err err = HRET_ERR_INIT;
    if (hret_kafka_consumer_done(c, topic, m->partition, m->offset, &err) != HRET_OK) {
        hret_log_warn("worker", NULL, "store offset %s[%d]@%lld: %s", topic, (int)m->partition,
                      (long long)m->offset, err.msg);
    }
}

static int loop(struct hret_worker *w, struct hret_kafka_consumer *c)
{
    long long idle = 0;
    while (!hret_role_stop) {
        rd_kafka_message_t *m = NULL;
        struct hret_err err = HRET_ERR_INIT;
        enum hret_result r = hret_kafka_consumer_poll(c, POLL_MS, &m, &err);
        if (r == HRET_OK) {
            handle(w, c, m);
            rd_kafka_message_destroy(m);
            idle = 0;
        } else if (r == HRET_AGAIN) {
            if (++idle % 5 == 0) {
                relay(w);
            }
        } else if (r == HRET_E_FATAL) {
            hret_log_error("worker", NULL, "consumer: %s", err.msg);
            return HRET_EXIT_FAILURE;
        } else {
            hret_log_warn("worker", NULL, "consumer: %s", err.msg);
        }
    }
    hret_log_info("worker", NULL, "stopping: relaying the outbox and committing offsets");
    relay(w);
    return HRET_EXIT_OK;
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
    if (hret_kafka_consumer_new(&kc, HRET_KAFKA_START_EARLIEST, &c, &err) != HRET_OK ||
        hret_kafka_consumer_subscribe(c, topics, 2, &err) != HRET_OK) {
        fprintf(stderr, "hret worker: %s\n", err.msg);
        hret_kafka_consumer_destroy(c);
        return err.code == HRET_E_CONFIG ? HRET_EXIT_USAGE : HRET_EXIT_FAILURE;
    }
    struct hret_worker w = {&r->cfg, r->store, r->producer, r->id, &hret_role_stop};
    hret_log_info("worker", r->id, "consuming %s and %s as group %s", topics[0], topics[1],
                  r->cfg.kafka.group_id);
    int rc = loop(&w, c);
    if (hret_kafka_consumer_commit(c, &err) != HRET_OK) {
        hret_log_warn("worker", r->id, "final commit: %s", err.msg);
    }
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
    return rc < 0 ? HRET_EXIT_OK : rc;
}
