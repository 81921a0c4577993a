/* librdkafka, wrapped once (reference/infra.md §3): configuration from the `kafka` section with
 * its librdkafka passthrough, librdkafka's log routed to hret_log, every error code classified
 * here as retriable or permanent, an idempotent producer (acks=all) whose delivery reports settle
 * through a callback, CloudEvents binary-mode headers, a cooperative-sticky consumer that stores
 * offsets by watermark (jobs finish out of order), and a dead-letter helper. */
#ifndef HRET_KAFKA_H
#define HRET_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "hret_cfg.h"
#include "hret_cloudevents.h"
#include "hret_err.h"

/* What the `kafka` config section gives the clients; all borrowed. */
struct hret_kafka_conf {
    const char *brokers;                  /* bootstrap.servers */
    const char *group_id;                 /* consumers in a group; NULL for producers */
    const char *client_id;                /* NULL = "hret" */
    const struct hret_kvlist *properties; /* passthrough librdkafka properties, nullable */
    const char *sasl_password_env;        /* environment variable holding sasl.password */
};

/* The one classification of librdkafka's codes: HRET_E_TIMEOUT / HRET_E_UNAVAILABLE are
 * retriable; HRET_E_CONFIG (unknown topic, authorization, bad settings), HRET_E_INVAL (message
 * too large, corrupt), HRET_E_CONFLICT (partition no longer assigned) and HRET_E_FATAL (fenced,
 * idempotence broken: recreate the client) are not. */
enum hret_result hret_kafka_classify(rd_kafka_resp_err_t code);

/* A librdkafka configuration from conf (borrowed) plus the wrapper's fixed settings; refuses
 * secrets in the passthrough (sasl.password, ssl.key.password, ...) and an unset password
 * variable. Caller owns result. Exposed for the mock-cluster tests. */
rd_kafka_conf_t *hret_kafka_conf_new(const struct hret_kafka_conf *conf, struct hret_err *err);

/* ---- producer ------------------------------------------------------------------------------- */

struct hret_kafka_producer;

/* Settled once per message when its delivery report arrives (from poll or flush). */
struct hret_kafka_delivery {
    bool done;
    enum hret_result result; /* HRET_OK, or the classified error */
    char reason[256];
    int32_t partition;
    int64_t offset;
    void (*cb)(struct hret_kafka_delivery *d, void *user); /* nullable, called when settled */
    void *user;
};

struct hret_kafka_message { /* all borrowed; payloads are copied */
    const char *topic;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const struct hret_cloudevent *event;  /* nullable: adds the ce_* headers */
    rd_kafka_headers_t *headers;          /* nullable: more headers; ownership always taken */
    struct hret_kafka_delivery *delivery; /* nullable; must live until it is settled */
};

/* Idempotent producer: enable.idempotence=true (acks=all, ordered retries). Caller owns *out. */
enum hret_result hret_kafka_producer_new(const struct hret_kafka_conf *conf,
                                         struct hret_kafka_producer **out, struct hret_err *err);
/* Enqueues m; HRET_AGAIN when the local queue is full (poll, then retry). */
enum hret_result hret_kafka_produce(struct hret_kafka_producer *p,
                                    const struct hret_kafka_message *m, struct hret_err *err);
/* Serves delivery reports for up to timeout_ms; returns how many were served. */
int hret_kafka_producer_poll(struct hret_kafka_producer *p, int timeout_ms);
/* Waits until every queued message is settled; HRET_E_TIMEOUT if some are not. */
enum hret_result hret_kafka_producer_flush(struct hret_kafka_producer *p, int timeout_ms,
                                           struct hret_err *err);
/* Produces m and waits up to timeout_ms for its delivery report; the result is the report's. */
enum hret_result hret_kafka_produce_wait(struct hret_kafka_producer *p,
                                         const struct hret_kafka_message *m, int timeout_ms,
                                         struct hret_kafka_delivery *out, struct hret_err *err);
/* Asks for topic's (borrowed) partitions and leaders now, in the background, and keeps them
 * known for p's life: the first message to a topic otherwise waits for that metadata round trip
 * (0.8 s measured: the slow mode of e2e_overhead_ms_p50). For the topics a role produces to. */
void hret_kafka_producer_know(struct hret_kafka_producer *p, const char *topic);
/* Flushes for up to 10 s, purges what is left, destroys. NULL is a no-op. */
void hret_kafka_producer_destroy(struct hret_kafka_producer *p);
rd_kafka_t *hret_kafka_producer_handle(struct hret_kafka_producer *p); /* borrowed */

/* Dead-letter: produces orig's key, value and headers (orig borrowed) to dlq_topic (NULL:
 * "<orig's topic>.dlq") with
 * hret_dlq_reason, hret_dlq_path (the JSON path, may be ""), hret_dlq_class, hret_dlq_topic,
 * hret_dlq_partition, hret_dlq_offset and hret_dlq_time headers (strings), and waits for the
 * delivery report. path and error_class borrowed, nullable. */
enum hret_result hret_kafka_dlq_send(struct hret_kafka_producer *p, const rd_kafka_message_t *orig,
                                     const char *dlq_topic, const char *reason, const char *path,
                                     const char *error_class, int timeout_ms, struct hret_err *err);

/* ---- consumer ------------------------------------------------------------------------------- */

struct hret_kafka_consumer;

enum hret_kafka_start {
    HRET_KAFKA_START_EARLIEST, /* a work queue: a new group starts at the beginning */
    HRET_KAFKA_START_LATEST,
};

/* A consumer: partition.assignment.strategy=cooperative-sticky, enable.auto.offset.store=false
 * (offsets are stored only through hret_kafka_consumer_done), auto commit of stored offsets.
 * conf->group_id is required. Caller owns *out. */
enum hret_result hret_kafka_consumer_new(const struct hret_kafka_conf *conf,
                                         enum hret_kafka_start start,
                                         struct hret_kafka_consumer **out, struct hret_err *err);
/* Joins the group for topics (count names, borrowed). */
enum hret_result hret_kafka_consumer_subscribe(struct hret_kafka_consumer *c,
                                               const char *const *topics, size_t count,
                                               struct hret_err *err);
/* No group: assigns every partition of topic at its current end ("what comes after now"). */
enum hret_result hret_kafka_consumer_assign_latest(struct hret_kafka_consumer *c, const char *topic,
                                                   int timeout_ms, struct hret_err *err);
/* The next message: HRET_OK with *msg (caller owns: rd_kafka_message_destroy), its offset now
 * in flight; HRET_AGAIN when none came within timeout_ms; else the classified error. */
enum hret_result hret_kafka_consumer_poll(struct hret_kafka_consumer *c, int timeout_ms,
                                          rd_kafka_message_t **msg, struct hret_err *err);
/* The job of (topic, partition, offset) is finished (its effects are durable): stores the
 * partition's watermark when it advanced. HRET_E_CONFLICT if the partition was revoked. */
enum hret_result hret_kafka_consumer_done(struct hret_kafka_consumer *c, const char *topic,
                                          int32_t partition, int64_t offset, struct hret_err *err);
/* Commits the stored offsets now (synchronously). */
enum hret_result hret_kafka_consumer_commit(struct hret_kafka_consumer *c, struct hret_err *err);
/* Partitions currently assigned. */
size_t hret_kafka_consumer_assigned(struct hret_kafka_consumer *c);
/* Lag of up to cap assigned partitions, from librdkafka's cached state (no network call): the
 * high watermark of the last fetch minus the position; partitions with neither known yet are
 * left out. Returns how many were written. */
struct hret_kafka_lag {
    char topic[256];
    int32_t partition;
    int64_t lag;
};
size_t hret_kafka_consumer_lag(struct hret_kafka_consumer *c, struct hret_kafka_lag *out,
                               size_t cap);
/* Closes (commits stored offsets, leaves the group) and destroys. NULL is a no-op. */
void hret_kafka_consumer_destroy(struct hret_kafka_consumer *c);
rd_kafka_t *hret_kafka_consumer_handle(struct hret_kafka_consumer *c); /* borrowed */

/* Shared by the producer and consumer files: error and log callbacks on conf. */
void hret_kafka_conf_callbacks(rd_kafka_conf_t *conf);
/* True when conf's passthrough properties (borrowed) set key: hret's own default yields. */
bool hret_kafka_conf_has(const struct hret_kafka_conf *conf, const char *key);

#endif
