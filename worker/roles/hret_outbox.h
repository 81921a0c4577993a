/* The transactional outbox (DESIGN.md §3): events are rows of `outbox` written in the transaction
 * that changes the state they describe; a relay in every role that writes them publishes
 * unpublished rows in id order with the idempotent producer, CloudEvents binary-mode headers and
 * the row's key, and marks them published once their delivery report is in.
 *
 * The relay never waits for Kafka inside a transaction, nor for long at all: a turn claims a
 * batch (outbox.claimed_until: 15 s, renewed every 5 s while the rows are in flight, so relays
 * of several processes never publish a row at once, and a relay that died frees its rows within
 * 15 s), produces it and returns; later turns serve the
 * delivery reports that are in, mark the confirmed rows published and release the failed ones
 * (attempts and last_error recorded) for a later batch. While the brokers are away the batch
 * stays in flight and the caller's loop goes on. A row whose delivery was confirmed is marked
 * before anything new is claimed, and never produced again by this relay, even when the marking
 * waits for the database. A crash between a delivery and its mark (or a claim that lapses
 * while the database is away) publishes the row again with the same ce_id, which consumers
 * dedupe. */
#ifndef HRET_OUTBOX_H
#define HRET_OUTBOX_H

#include <stdbool.h>
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

/* A relay publishing through p (borrowed; must outlive the relay). Caller owns the result. */
struct hret_outbox_relay;
struct hret_outbox_relay *hret_outbox_relay_new(struct hret_kafka_producer *p);
/* Releases the claims of the rows still in flight (a report that comes later only means the row
 * is published again by the next relay: same ce_id) and frees. pg borrowed; NULL is a no-op. */
void hret_outbox_relay_destroy(struct hret_outbox_relay *r, struct hret_pg *pg);

/* One turn, bounded (it waits for Kafka at most a few tens of milliseconds): serves the delivery
 * reports that are in, marks the confirmed rows published and releases the failed ones; with
 * nothing left in flight, claims and produces the next batches while they settle at once.
 * *published (nullable) = rows marked published. Retried on the next turn after an error. */
enum hret_result hret_outbox_relay_step(struct hret_outbox_relay *r, struct hret_pg *pg,
                                        size_t *published, struct hret_err *err);
/* True while rows are in flight or waiting to be marked, or the last claim was a full batch:
 * the caller should turn again soon. */
bool hret_outbox_relay_busy(const struct hret_outbox_relay *r);

/* Turns until nothing is left to publish or in flight, a turn fails (logged) or timeout_ms
 * passes: for a role that is stopping (what is still in flight then is released by destroy). */
void hret_outbox_drain(struct hret_outbox_relay *r, struct hret_pg *pg, int timeout_ms);

#endif
