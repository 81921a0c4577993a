/* The consumer half of hret_kafka.h: cooperative-sticky group membership, offsets stored by
 * watermark only after a job is done, and a shutdown that avoids librdkafka 2.0.2's
 * cooperative-close bugs (reference/infra.md §3.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_kafka.h"
#include "hret_kafka_watermark.h"
#include "hret_log.h"
#include "hret_mem.h"

/* Every wait at shutdown is bounded, so that the role's shutdown deadline (15 s, hret_role.c) is
 * met with the slots drained and the outbox relayed even when the group coordinator does not
 * answer (a broker restarting, its coordinator still loading): librdkafka's synchronous commit
 * waits for the coordinator without a limit. What is left uncommitted is redelivered. */
#define COMMIT_MS 2000
#define CLOSE_WAIT_MS 5000

struct hret_kafka_consumer {
    rd_kafka_t *rk;
    struct hret_kafka_watermark *wm;
    size_t assigned;
    bool subscribed;
    bool rebalanced; /* at least one rebalance callback ran */
};

static void forget(struct hret_kafka_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        hret_kafka_watermark_forget(c->wm, parts->elems[i].topic, parts->elems[i].partition);
    }
}

/* rd_kafka_commit, waiting at most timeout_ms for the coordinator's answer. */
static rd_kafka_resp_err_t
commit_within(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts, int timeout_ms)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(rk, parts, q, NULL, NULL);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
        e = ev == NULL ? RD_KAFKA_RESP_ERR__TIMED_OUT : rd_kafka_event_error(ev);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    return e;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct hret_kafka_consumer *c = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    c->rebalanced = true;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative) {
            error = rd_kafka_incremental_assign(rk, parts);
            c->assigned += (size_t)parts->cnt;
        } else {
            rd_kafka_assign(rk, parts);
            c->assigned = (size_t)parts->cnt;
        }
        hret_log_info("kafka", rd_kafka_name(rk), "assigned %d partition(s), %zu in all",
                      parts->cnt, c->assigned);
    } else if (e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* commit what finished while the partitions are still ours, unless already lost */
        if (!rd_kafka_assignment_lost(rk)) {
            rd_kafka_resp_err_t ce = commit_within(rk, parts, COMMIT_MS);
            if (ce != RD_KAFKA_RESP_ERR_NO_ERROR && ce != RD_KAFKA_RESP_ERR__NO_OFFSET) {
                hret_log_warn("kafka", rd_kafka_name(rk), "commit at revoke: %s",
                              rd_kafka_err2str(ce));
            }
        }
        forget(c, parts);
        if (cooperative) {
            error = rd_kafka_incremental_unassign(rk, parts);
            c->assigned -= c->assigned >= (size_t)parts->cnt ? (size_t)parts->cnt : c->assigned;
        } else {
            rd_kafka_assign(rk, NULL);
            c->assigned = 0;
        }
        hret_log_info("kafka", rd_kafka_name(rk), "revoked %d partition(s), %zu left", parts->cnt,
                      c->assigned);
    } else {
        hret_log_error("kafka", rd_kafka_name(rk), "rebalance failed: %s", rd_kafka_err2str(e));
        rd_kafka_assign(rk, NULL);
        c->assigned = 0;
    }
    if (error != NULL) {
        hret_log_error("kafka", rd_kafka_name(rk), "incremental rebalance: %s",
                       rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

static enum hret_result set(rd_kafka_conf_t *c, const char *key, const char *value,
                            struct hret_err *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(c, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        return hret_err_set(err, HRET_E_CONFIG, "%s: %s", key, errstr);
    }
    return HRET_OK;
}

enum hret_result hret_kafka_consumer_new(const struct hret_kafka_conf *conf,
                                         enum hret_kafka_start start,
                                         struct hret_kafka_consumer **out, struct hret_err *err)
{
    *out = NULL;
    rd_kafka_conf_t *rc = hret_kafka_conf_new(conf, err);
    if (rc == NULL) {
        return HRET_E_CONFIG;
    }
    bool group = conf->group_id != NULL && conf->group_id[0] != '\0';
    const char *settings[][2] = {
        {"group.id", group ? conf->group_id : "hret-unused"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", group ? "true" : "false"},
        {"auto.offset.reset", start == HRET_KAFKA_START_EARLIEST ? "earliest" : "latest"},
        {"enable.partition.eof", "false"},
        /* The broker answers a fetch as soon as there is data, so this only bounds how long a
         * fetch waits on empty partitions; but a partition resumed (or newly assigned) is only
         * fetched after the fetch in flight returns: at librdkafka's 500 ms a resumed worker's
         * slots sat idle half a second. 100 ms costs an idle consumer 10 empty fetches a
         * second. kafka.properties may set another value. */
        {"fetch.wait.max.ms", hret_kafka_conf_has(conf, "fetch.wait.max.ms") ? NULL : "100"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (settings[i][1] != NULL && set(rc, settings[i][0], settings[i][1], err) != HRET_OK) {
            rd_kafka_conf_destroy(rc);
            return HRET_E_CONFIG;
        }
    }
    struct hret_kafka_consumer *c = hret_xcalloc(1, sizeof *c);
    rd_kafka_conf_set_opaque(rc, c);
    rd_kafka_conf_set_rebalance_cb(rc, on_rebalance);
    char errstr[512];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rc, errstr, sizeof errstr);
    if (c->rk == NULL) {
        rd_kafka_conf_destroy(rc);
        free(c);
        return hret_err_set(err, HRET_E_CONFIG, "kafka consumer: %s", errstr);
    }
    rd_kafka_poll_set_consumer(c->rk); /* logs and errors are served by consumer_poll */
    c->wm = hret_kafka_watermark_new();
    *out = c;
    return HRET_OK;
}

enum hret_result hret_kafka_consumer_subscribe(struct hret_kafka_consumer *c,
                                               const char *const *topics, size_t count,
                                               struct hret_err *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)count);
    for (size_t i = 0; i < count; i++) {
        rd_kafka_topic_partition_list_add(l, topics[i], RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return hret_err_set(err, hret_kafka_classify(e), "kafka subscribe: %s",
                            rd_kafka_err2str(e));
    }
    c->subscribed = true;
    return HRET_OK;
}

enum hret_result hret_kafka_consumer_assign_latest(struct hret_kafka_consumer *c, const char *topic,
                                                   int timeout_ms, struct hret_err *err)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(c->rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_partition_list_t *l = NULL;
    enum hret_result r = HRET_OK;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        r = hret_err_set(err, hret_kafka_classify(e), "kafka metadata for %s: %s", topic,
                         rd_kafka_err2str(e));
        goto cleanup;
    }
    if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        r = hret_err_set(err, hret_kafka_classify(e),
                         "kafka topic %s: %s (deploy/local/kafka.sh creates hret's topics; on "
                         "another cluster create it first)",
                         topic, rd_kafka_err2str(e));
        goto cleanup;
    }
    l = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        int64_t lo = 0, hi = 0;
        /* a partition just created may have no leader yet (NOT_LEADER_FOR_PARTITION): such
         * transient answers are asked again, 100 ms apart, for at most 20 tries */
        for (int tries = 0;; tries++) {
            e = rd_kafka_query_watermark_offsets(c->rk, topic, p, &lo, &hi, timeout_ms);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR || tries >= 20 ||
                hret_kafka_classify(e) != HRET_E_UNAVAILABLE) {
                break;
            }
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            r = hret_err_set(err, hret_kafka_classify(e), "kafka end offset of %s[%d]: %s", topic,
                             (int)p, rd_kafka_err2str(e));
            goto cleanup;
        }
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = hi;
    }
    e = rd_kafka_assign(c->rk, l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        r = hret_err_set(err, hret_kafka_classify(e), "kafka assign: %s", rd_kafka_err2str(e));
        goto cleanup;
    }
    c->assigned = (size_t)l->cnt;
cleanup:
    if (l != NULL) {
        rd_kafka_topic_partition_list_destroy(l);
    }
    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return r;
}

enum hret_result hret_kafka_consumer_poll(struct hret_kafka_consumer *c, int timeout_ms,
                                          rd_kafka_message_t **msg, struct hret_err *err)
{
    *msg = NULL;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (m == NULL) {
        char why[512];
        if (rd_kafka_fatal_error(c->rk, why, sizeof why) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return hret_err_set(err, HRET_E_FATAL, "kafka consumer failed for good: %s", why);
        }
        return HRET_AGAIN;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_resp_err_t e = m->err;
        enum hret_result r =
            e == RD_KAFKA_RESP_ERR__PARTITION_EOF ? HRET_AGAIN : hret_kafka_classify(e);
        if (r != HRET_AGAIN) {
            hret_err_set(err, r, "kafka consume%s%s: %s", m->rkt ? " from " : "",
                         m->rkt ? rd_kafka_topic_name(m->rkt) : "", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        return r;
    }
    hret_kafka_watermark_begin(c->wm, rd_kafka_topic_name(m->rkt), m->partition, m->offset);
    *msg = m;
    return HRET_OK;
}

enum hret_result hret_kafka_consumer_done(struct hret_kafka_consumer *c, const char *topic,
                                          int32_t partition, int64_t offset, struct hret_err *err)
{
    int64_t store = 0;
    if (!hret_kafka_watermark_finish(c->wm, topic, partition, offset, &store)) {
        return HRET_OK; /* an earlier job still holds the partition back */
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = store;
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(c->rk, l);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        e = l->elems[0].err;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return hret_err_set(err, hret_kafka_classify(e), "kafka offset store %s[%d]@%lld: %s",
                            topic, (int)partition, (long long)store, rd_kafka_err2str(e));
    }
    return HRET_OK;
}

enum hret_result hret_kafka_consumer_commit(struct hret_kafka_consumer *c, struct hret_err *err)
{
    rd_kafka_resp_err_t e = commit_within(c->rk, NULL, COMMIT_MS);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        return hret_err_set(err, hret_kafka_classify(e), "kafka commit: %s", rd_kafka_err2str(e));
    }
    return HRET_OK;
}

size_t hret_kafka_consumer_assigned(struct hret_kafka_consumer *c)
{
    return c->assigned;
}

size_t hret_kafka_consumer_lag(struct hret_kafka_consumer *c, struct hret_kafka_lag *out,
                               size_t cap)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return 0;
    }
    rd_kafka_position(c->rk, parts); /* local: the offset after the last message consumed */
    size_t n = 0;
    for (int i = 0; i < parts->cnt && n < cap; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        int64_t lo = 0, hi = 0;
        if (rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &lo, &hi) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0 || p->offset < 0) {
            continue; /* not fetched or not consumed from yet */
        }
        out[n] = (struct hret_kafka_lag){.partition = p->partition,
                                         .lag = hi > p->offset ? hi - p->offset : 0};
        snprintf(out[n].topic, sizeof out[n].topic, "%s", p->topic);
        n++;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return n;
}

rd_kafka_t *hret_kafka_consumer_handle(struct hret_kafka_consumer *c)
{
    return c->rk;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls (dropping messages: their offsets were never stored) until done(c) or the deadline. */
static void poll_until(struct hret_kafka_consumer *c, bool (*done)(struct hret_kafka_consumer *),
                       long long deadline)
{
    while (!done(c) && now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 100);
        if (m != NULL) {
            rd_kafka_message_destroy(m);
        }
    }
}

static bool rebalanced(struct hret_kafka_consumer *c)
{
    return c->rebalanced;
}

static bool unassigned(struct hret_kafka_consumer *c)
{
    return c->assigned == 0;
}

void hret_kafka_consumer_destroy(struct hret_kafka_consumer *c)
{
    if (c == NULL) {
        return;
    }
    if (c->subscribed) {
        /* 2.0.2: closing a cooperative consumer before its first rebalance can crash (fixed in
         * 2.3.0, #4381), and an assignment arriving during close can hang (2.4.0, #4528). So:
         * wait for the first rebalance, unsubscribe, wait until nothing is assigned (the revoke
         * callback commits stored offsets), then close. */
        long long deadline = now_ms() + CLOSE_WAIT_MS;
        poll_until(c, rebalanced, deadline);
        rd_kafka_unsubscribe(c->rk);
        poll_until(c, unassigned, deadline);
    } else if (c->assigned > 0) {
        rd_kafka_assign(c->rk, NULL);
    }
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->rk);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        hret_log_warn("kafka", rd_kafka_name(c->rk), "consumer close: %s", rd_kafka_err2str(e));
    }
    rd_kafka_destroy(c->rk);
    hret_kafka_watermark_destroy(c->wm);
    free(c);
}
