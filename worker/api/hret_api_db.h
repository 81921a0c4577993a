/* The database side of `hret api`: a small pool of store connections shared by the HTTP
 * threads (one connection is one thread's at a time), and the API's own statements: accepting a
 * request (its api_requests row and its outbox event in one transaction, deduplicated by
 * Idempotency-Key), a request's state with its runs, and the events of a request for its
 * Server-Sent Events stream. All SQL is parameterized. */
#ifndef HRET_API_DB_H
#define HRET_API_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"
#include "hret_store.h"

struct hret_api_db;

/* conninfo and password_env borrowed (copied); size connections, opened when first needed.
 * Caller owns *out. */
enum hret_result hret_api_db_new(const char *conninfo, const char *password_env, size_t size,
                                 struct hret_api_db **out, struct hret_err *err);
void hret_api_db_destroy(struct hret_api_db *db);

/* A connection for this thread, waiting up to wait_ms for a free one (HRET_E_UNAVAILABLE when
 * none came, or the database cannot be reached). Give it back with hret_api_db_give. */
struct hret_store *hret_api_db_take(struct hret_api_db *db, long wait_ms, struct hret_err *err);
void hret_api_db_give(struct hret_api_db *db, struct hret_store *s);

struct hret_api_submit {         /* all borrowed */
    const char *request_id;      /* the id to use when the request is new */
    const char *token_name;      /* who submits */
    const char *idempotency_key; /* nullable */
    const char *body_hash;       /* SHA-256 hex of the normalised request without its id */
    const char *topic;           /* kafka.requests_topic */
    const cJSON *spec;           /* the normalised request (with request_id) */
};

/* Accepts s: a new request is written with its outbox event (published by the relay, so it
 * survives a Kafka outage). A request with the same Idempotency-Key (same token) or the same
 * request id and the same body_hash is the same request: *replayed is set and accepted_id (37+
 * bytes, cap) names it. HRET_E_CONFLICT when the key or the id names a different request. */
enum hret_result hret_api_db_submit(struct hret_store *s, const struct hret_api_submit *sub,
                                    char *accepted_id, size_t cap, bool *replayed,
                                    struct hret_err *err);

/* The request's state: {"request_id", "status", "error", "created_at", "finished_at", "runs":
 * [{"run_id", "model", "dataset", "status", "planned_samples", "done_samples",
 * "error_samples", "metrics", "error"}]}; status "accepted" while no worker has consumed it.
 * *out NULL when there is no such request. Caller owns *out. */
enum hret_result hret_api_db_request(struct hret_store *s, const char *request_id, cJSON **out,
                                     struct hret_err *err);

/* true when status (of the request JSON above) is final: completed, failed or cancelled. */
bool hret_api_db_request_over(const cJSON *request);

struct hret_api_event { /* owned strings */
    long long seq;      /* the outbox row id: events come in this order */
    char *event_id, *type, *data;
};

/* The result events (results topic) of request_id after seq after, oldest first, at most max.
 * Caller owns *events (hret_api_events_free). */
enum hret_result hret_api_db_events(struct hret_store *s, const char *topic, const char *request_id,
                                    long long after, size_t max, struct hret_api_event **events,
                                    size_t *n, struct hret_err *err);
void hret_api_events_free(struct hret_api_event *events, size_t n);

#endif
