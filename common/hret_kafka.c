/* Configuration, classification, logging, the producer and the dead-letter helper. The consumer
 * is in hret_kafka_consumer.c. */
#include "hret_kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_log.h"
#include "hret_mem.h"

enum hret_result hret_kafka_classify(rd_kafka_resp_err_t code)
{
    switch (code) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return HRET_OK;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        return HRET_E_TIMEOUT;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED: /* left the group; it rejoins by itself */
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
        return HRET_E_UNAVAILABLE;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
        return HRET_E_CONFIG;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
        return HRET_E_INVAL;
    case RD_KAFKA_RESP_ERR__STATE:
        return HRET_E_CONFLICT;
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID:
        return HRET_E_FATAL;
    default:
        return HRET_E_PROTO; /* unexpected: permanent until someone classifies it */
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels: 0-3 error, 4 warning, 5-6 notice/info, 7 debug. Connection failures
     * ("FAIL") are retried by librdkafka and reach on_error too: a warning here. */
    if (level <= 3 && strcmp(fac, "FAIL") == 0) {
        level = 4;
    }
    enum hret_log_level l = level <= 3   ? HRET_LOG_ERROR
                            : level == 4 ? HRET_LOG_WARN
                            : level <= 6 ? HRET_LOG_INFO
                                         : HRET_LOG_DEBUG;
    HRET_LOG_AT(l, "kafka", rd_kafka_name(rk), "librdkafka %s: %s", fac, buf);
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    (void)opaque;
    rd_kafka_resp_err_t e = (rd_kafka_resp_err_t)code;
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk, why, sizeof why);
        hret_log_error("kafka", rd_kafka_name(rk), "fatal client error: %s", why);
        return;
    }
    enum hret_result r = hret_kafka_classify(e);
    HRET_LOG_AT(hret_result_is_retriable(r) ? HRET_LOG_WARN : HRET_LOG_ERROR, "kafka",
                rd_kafka_name(rk), "%s (%s): %s", rd_kafka_err2name(e), hret_result_name(r),
                reason);
}

void hret_kafka_conf_callbacks(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
}

bool hret_kafka_conf_has(const struct hret_kafka_conf *conf, const char *key)
{
    const struct hret_kvlist *kv = conf->properties;
    for (size_t i = 0; kv != NULL && i < kv->count; i++) {
        if (strcmp(kv->keys[i], key) == 0) {
            return true;
        }
    }
    return false;
}

/* Passthrough keys that would put a secret in the config file. */
static bool secret_property(const char *key)
{
    return strstr(key, "password") != NULL || strstr(key, "secret") != NULL ||
           strcmp(key, "ssl.key.pem") == 0 || strcmp(key, "sasl.oauthbearer.config") == 0;
}

static enum hret_result set(rd_kafka_conf_t *c, const char *key, const char *value,
                            const char *label, struct hret_err *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(c, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        return hret_err_set(err, HRET_E_CONFIG, "%s: %s", label, errstr);
    }
    return HRET_OK;
}

rd_kafka_conf_t *hret_kafka_conf_new(const struct hret_kafka_conf *conf, struct hret_err *err)
{
    if (conf->brokers == NULL || conf->brokers[0] == '\0') {
        hret_err_set(err, HRET_E_CONFIG, "kafka.brokers is empty (set it or HRET_KAFKA)");
        return NULL;
    }
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    hret_kafka_conf_callbacks(c);
    enum hret_result r = set(c, "bootstrap.servers", conf->brokers, "kafka.brokers", err);
    if (r == HRET_OK) {
        r = set(c, "client.id", conf->client_id ? conf->client_id : "hret", "client.id", err);
    }
    if (r == HRET_OK) { /* idle disconnects by the broker are routine, not errors */
        r = set(c, "log.connection.close", "false", "log.connection.close", err);
    }
    const struct hret_kvlist *kv = conf->properties;
    for (size_t i = 0; r == HRET_OK && kv != NULL && i < kv->count; i++) {
        char label[300];
        snprintf(label, sizeof label, "kafka.properties.%s", kv->keys[i]);
        if (secret_property(kv->keys[i])) {
            r = hret_err_set(err, HRET_E_CONFIG,
                             "%s: secrets are never read from the config file; name the "
                             "variable holding the password in kafka.sasl_password_env or use a "
                             "file setting (ssl.key.location)",
                             label);
        } else {
            r = set(c, kv->keys[i], kv->values[i], label, err);
        }
    }
    if (r == HRET_OK && conf->sasl_password_env != NULL && conf->sasl_password_env[0] != '\0') {
        const char *pw = getenv(conf->sasl_password_env);
        if (pw == NULL || pw[0] == '\0') {
            r = hret_err_set(err, HRET_E_CONFIG,
                             "kafka.sasl_password_env: environment variable %s is not set",
                             conf->sasl_password_env);
        } else {
            r = set(c, "sasl.password", pw, "kafka.sasl_password_env", err);
        }
    }
    if (r != HRET_OK) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    return c;
}

/* ---- producer ------------------------------------------------------------------------------ */

struct hret_kafka_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t **known; /* hret_kafka_producer_know's topics, held until destroy */
    size_t known_count;
};

/* The per-message opaque: settles d; frees itself unless a waiter owns it (d == &own). */
struct ticket {
    struct hret_kafka_delivery *d;
    bool abandoned; /* the waiter timed out: free on settlement */
    struct hret_kafka_delivery own;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)opaque;
    struct ticket *t = m->_private;
    enum hret_result r = hret_kafka_classify(m->err);
    if (r != HRET_OK) {
        hret_log_warn("kafka", rd_kafka_name(rk), "delivery to %s failed: %s",
                      m->rkt ? rd_kafka_topic_name(m->rkt) : "?", rd_kafka_err2str(m->err));
    }
    if (t == NULL) {
        return;
    }
    struct hret_kafka_delivery *d = t->d;
    d->result = r;
    snprintf(d->reason, sizeof d->reason, "%s", r == HRET_OK ? "" : rd_kafka_err2str(m->err));
    d->partition = m->partition;
    d->offset = m->offset;
    d->done = true;
    if (d->cb != NULL) {
        d->cb(d, d->user);
    }
    if (t->d != &t->own || t->abandoned) {
        free(t);
    }
}

enum hret_result hret_kafka_producer_new(const struct hret_kafka_conf *conf,
                                         struct hret_kafka_producer **out, struct hret_err *err)
{
    *out = NULL;
    rd_kafka_conf_t *c = hret_kafka_conf_new(conf, err);
    if (c == NULL) {
        return HRET_E_CONFIG;
    }
    /* Events are few and each waits on the path of a request (a plan's tasks, a run's result):
     * librdkafka's 5 ms linger was spent twice per request. A burst (a relay batch of 100)
     * still goes out in few requests, as it queues faster than 1 ms. */
    bool linger = !hret_kafka_conf_has(conf, "linger.ms") &&
                  !hret_kafka_conf_has(conf, "queue.buffering.max.ms");
    if (set(c, "enable.idempotence", "true", "enable.idempotence", err) != HRET_OK ||
        set(c, "acks", "all", "acks", err) != HRET_OK ||
        (linger && set(c, "linger.ms", "1", "linger.ms", err) != HRET_OK)) {
        rd_kafka_conf_destroy(c);
        return HRET_E_CONFIG;
    }
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    if (rk == NULL) { /* conf is still ours on failure */
        rd_kafka_conf_destroy(c);
        return hret_err_set(err, HRET_E_CONFIG, "kafka producer: %s", errstr);
    }
    *out = hret_xcalloc(1, sizeof **out);
    (*out)->rk = rk;
    return HRET_OK;
}

static enum hret_result fatal_check(rd_kafka_t *rk, struct hret_err *err)
{
    char why[512];
    if (rd_kafka_fatal_error(rk, why, sizeof why) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return hret_err_set(err, HRET_E_FATAL, "kafka client failed for good: %s", why);
    }
    return HRET_OK;
}

static enum hret_result produce(struct hret_kafka_producer *p, const struct hret_kafka_message *m,
                                struct ticket *t, struct hret_err *err)
{
    if (fatal_check(p->rk, err) != HRET_OK) {
        if (m->headers != NULL) {
            rd_kafka_headers_destroy(m->headers);
        }
        return HRET_E_FATAL;
    }
    rd_kafka_headers_t *h = m->event ? hret_cloudevent_headers(m->event) : rd_kafka_headers_new(8);
    const char *name;
    const void *val;
    size_t len;
    for (size_t i = 0; m->headers && rd_kafka_header_get_all(m->headers, i, &name, &val, &len) == 0;
         i++) {
        rd_kafka_header_add(h, name, -1, val, (ssize_t)len);
    }
    rd_kafka_resp_err_t e =
        rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(m->topic), RD_KAFKA_V_KEY(m->key, m->key_len),
                          RD_KAFKA_V_VALUE((void *)(uintptr_t)m->value, m->value_len),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                          RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
    if (m->headers != NULL) {
        rd_kafka_headers_destroy(m->headers); /* ours, and copied into h */
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(h);
        enum hret_result r =
            e == RD_KAFKA_RESP_ERR__QUEUE_FULL ? HRET_AGAIN : hret_kafka_classify(e);
        return hret_err_set(err, r, "producing to %s: %s", m->topic, rd_kafka_err2str(e));
    }
    return HRET_OK;
}

enum hret_result hret_kafka_produce(struct hret_kafka_producer *p,
                                    const struct hret_kafka_message *m, struct hret_err *err)
{
    struct ticket *t = NULL;
    if (m->delivery != NULL) {
        t = hret_xcalloc(1, sizeof *t);
        t->d = m->delivery;
        m->delivery->done = false;
    }
    enum hret_result r = produce(p, m, t, err);
    if (r != HRET_OK) {
        free(t);
    }
    return r;
}

int hret_kafka_producer_poll(struct hret_kafka_producer *p, int timeout_ms)
{
    return rd_kafka_poll(p->rk, timeout_ms);
}

enum hret_result hret_kafka_producer_flush(struct hret_kafka_producer *p, int timeout_ms,
                                           struct hret_err *err)
{
    if (rd_kafka_flush(p->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return hret_err_set(err, HRET_E_TIMEOUT, "kafka: %d message(s) not delivered in %d ms",
                            rd_kafka_outq_len(p->rk), timeout_ms);
    }
    return HRET_OK;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum hret_result hret_kafka_produce_wait(struct hret_kafka_producer *p,
                                         const struct hret_kafka_message *m, int timeout_ms,
                                         struct hret_kafka_delivery *out, struct hret_err *err)
{
    struct ticket *t = hret_xcalloc(1, sizeof *t);
    t->d = &t->own;
    struct hret_kafka_message copy = *m;
    copy.delivery = NULL;
    enum hret_result r = produce(p, &copy, t, err);
    if (r != HRET_OK) {
        free(t);
        return r;
    }
    long long deadline = now_ms() + timeout_ms;
    while (!t->own.done && now_ms() < deadline) {
        rd_kafka_poll(p->rk, 50);
    }
    if (!t->own.done) {
        t->abandoned = true; /* freed by on_delivery, at the latest when destroy purges */
        return hret_err_set(err, HRET_E_TIMEOUT, "kafka: no delivery report for %s in %d ms",
                            m->topic, timeout_ms);
    }
    if (out != NULL) {
        *out = t->own;
    }
    r = t->own.result;
    if (r != HRET_OK) {
        hret_err_set(err, r, "delivering to %s: %s", m->topic, t->own.reason);
    }
    free(t);
    return r;
}

void hret_kafka_producer_know(struct hret_kafka_producer *p, const char *topic)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(p->rk, topic, NULL); /* asks for its metadata */
    if (t == NULL) {
        hret_log_warn("kafka", rd_kafka_name(p->rk), "topic %s: %s", topic,
                      rd_kafka_err2str(rd_kafka_last_error()));
        return;
    }
    p->known = hret_xrealloc(p->known, (p->known_count + 1) * sizeof *p->known);
    p->known[p->known_count++] = t;
}

void hret_kafka_producer_destroy(struct hret_kafka_producer *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->known_count; i++) {
        rd_kafka_topic_destroy(p->known[i]);
    }
    free(p->known);
    if (rd_kafka_flush(p->rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        hret_log_warn("kafka", rd_kafka_name(p->rk), "dropping %d undelivered message(s)",
                      rd_kafka_outq_len(p->rk));
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(p->rk, 1000); /* serves the purged reports: tickets are freed */
    }
    rd_kafka_destroy(p->rk);
    free(p);
}

rd_kafka_t *hret_kafka_producer_handle(struct hret_kafka_producer *p)
{
    return p->rk;
}

enum hret_result hret_kafka_dlq_send(struct hret_kafka_producer *p, const rd_kafka_message_t *orig,
                                     const char *dlq_topic, const char *reason, const char *path,
                                     const char *error_class, int timeout_ms, struct hret_err *err)
{
    const char *src = rd_kafka_topic_name(orig->rkt);
    char topic[512], part[16], off[32], now[40];
    snprintf(topic, sizeof topic, "%s", dlq_topic ? dlq_topic : src);
    if (dlq_topic == NULL) {
        strncat(topic, ".dlq", sizeof topic - strlen(topic) - 1);
    }
    snprintf(part, sizeof part, "%d", (int)orig->partition);
    snprintf(off, sizeof off, "%lld", (long long)orig->offset);
    hret_cloudevent_now(now);
    rd_kafka_headers_t *orig_h = NULL;
    rd_kafka_headers_t *h = rd_kafka_message_headers(orig, &orig_h) == RD_KAFKA_RESP_ERR_NO_ERROR
                                ? rd_kafka_headers_copy(orig_h)
                                : rd_kafka_headers_new(8);
    rd_kafka_header_add(h, "hret_dlq_reason", -1, reason, -1);
    rd_kafka_header_add(h, "hret_dlq_path", -1, path ? path : "", -1);
    rd_kafka_header_add(h, "hret_dlq_class", -1, error_class ? error_class : "invalid", -1);
    rd_kafka_header_add(h, "hret_dlq_topic", -1, src, -1);
    rd_kafka_header_add(h, "hret_dlq_partition", -1, part, -1);
    rd_kafka_header_add(h, "hret_dlq_offset", -1, off, -1);
    rd_kafka_header_add(h, "hret_dlq_time", -1, now, -1);
    struct hret_kafka_message m = {
        .topic = topic,
        .key = orig->key,
        .key_len = orig->key_len,
        .value = orig->payload,
        .value_len = orig->len,
        .headers = h,
    };
    return hret_kafka_produce_wait(p, &m, timeout_ms, NULL, err);
}
