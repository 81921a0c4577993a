/* The Server-Sent Events stream of GET /v1/requests/{id}/events: it polls PostgreSQL (never
 * Kafka, so a stream costs the brokers nothing) and sends
 *
 *   event: progress                 data: the request's state (runs, samples done) when it changed
 *   id: N / event: CE_TYPE          data: each result event of the request (hret.run.completed.v1,
 *                                         hret.run.failed.v1, hret.comparison.completed.v1), in
 *                                         the order the outbox holds them
 *   event: end                      data: {"request_id", "status"} once the request is over
 *
 * and a ": keep-alive" comment every 15 s. It ends after "end", when api.events_max_s passed or
 * when the role stops. N is the event's position in the outbox: a reconnecting client sends it
 * back as Last-Event-ID and is not sent the result events it had again. */
#ifndef HRET_API_EVENTS_H
#define HRET_API_EVENTS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hret_api_db.h"

struct hret_api_stream;

struct hret_api_stream_options { /* all borrowed, alive as long as the stream */
    struct hret_api_db *db;
    const char *topic; /* kafka.results_topic */
    const char *request_id;
    const char *last_event_id; /* nullable: the Last-Event-ID header */
    long long max_s;           /* api.events_max_s */
    const atomic_bool *stopping;
};

/* Caller owns result (hret_api_stream_free, also MHD's free callback). */
struct hret_api_stream *hret_api_stream_new(const struct hret_api_stream_options *opt);
void hret_api_stream_free(void *stream);

/* libmicrohttpd's content reader: fills buf (max bytes) with the next part of the stream,
 * blocking (the connection has its own thread) until there is one; -1 at the end. */
ssize_t hret_api_stream_read(void *stream, uint64_t pos, char *buf, size_t max);

#endif
