/* The transactional outbox (DESIGN.md §3): events are rows of `outbox` written in the transaction
 * that changes the state they describe; a relay in every worker publishes unpublished rows in id
 * order (FOR UPDATE SKIP LOCKED, so relays of several workers never publish the same row at
 * once) with the idempotent producer, CloudEvents binary-mode headers and the row's key, and
 * marks them published once the delivery report is in. A crash between the commit and the
 * publication only delays the event; a crash between the publication and the mark publishes it
 * again with the same ce_id, which consumers dedupe. */
#ifndef HRET_OUTBOX_H
#define HRET_OUTBOX_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"
#include "hret_kafka.h"
#include "hret_pg.h"

#define HRET_OUTBOX_SOURCE "/hret/worker"

struct hret_outbox_event { /* all borrowed */
    const char *event_id;  /* ce_id; NULL = a new UUID. A repeated id adds nothing */
    const char *topic;
    const char *key;   /* Kafka key (run id or request id), nullable */
    const char *type;  /* ce_type */
    const cJSON *data; /* the event's data */
};

/* Adds ev inside the caller's transaction on pg (borrowed). */
enum hret_result hret_outbox_add(struct hret_pg *pg, const struct hret_outbox_event *ev,
                                 struct hret_err *err);

/* Publishes up to one batch of unpublished rows through p (borrowed) and marks the delivered
 * ones; *published (nullable) = rows marked. One transaction, not retried (the next call
 * retries); HRET_OK also when some deliveries failed (their attempts and last_error are
 * recorded and they stay pending). */
enum hret_result hret_outbox_relay(struct hret_pg *pg, struct hret_kafka_producer *p,
                                   size_t *published, struct hret_err *err);

/* Relays batches until none is left, the role is asked to stop or a relay fails (logged). */
void hret_outbox_drain(struct hret_pg *pg, struct hret_kafka_producer *p);

#endif
