/* CloudEvents 1.0 in the Kafka protocol binding, binary mode: the attributes travel as headers
 * (ce_specversion, ce_id, ce_source, ce_type, ce_time, content-type) and the value is the data.
 * Consumers dedupe on ce_id. */
#ifndef HRET_CLOUDEVENTS_H
#define HRET_CLOUDEVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "hret_err.h"

#define HRET_CE_SPECVERSION "1.0"
#define HRET_CE_CONTENT_TYPE "application/json"

struct hret_cloudevent {
    char id[64];      /* ce_id: a UUIDv4 unless the producer has a natural id */
    char source[256]; /* ce_source: a URI reference naming the producer, e.g. "/hret/submit" */
    char type[128];   /* ce_type: "hret.eval.requested.v1", ... */
    char time[40];    /* ce_time: RFC 3339 UTC with milliseconds */
};

/* A random (version 4) UUID from /dev/urandom into out ("xxxxxxxx-xxxx-4xxx-yxxx-..."). */
enum hret_result hret_uuid4(char out[37], struct hret_err *err);

/* The current time as RFC 3339 UTC with milliseconds ("2026-11-28T08:00:00.123Z"). */
void hret_cloudevent_now(char out[40]);

/* Parses an RFC 3339 UTC time ("2026-11-28T10:04:19.123Z"; "+00:00" accepted, other offsets
 * refused) into Unix seconds. False when text (nullable) is not one. */
bool hret_cloudevent_parse_time(const char *text, double *out);

/* Fills ev with a new id, the current time and type/source (borrowed, copied). */
enum hret_result hret_cloudevent_init(struct hret_cloudevent *ev, const char *type,
                                      const char *source, struct hret_err *err);

/* The binary-mode headers of ev (borrowed). Caller owns result (rd_kafka_headers_destroy, or
 * hand it to hret_kafka_produce). */
rd_kafka_headers_t *hret_cloudevent_headers(const struct hret_cloudevent *ev);

/* Reads the attributes back from a message's headers (borrowed). HRET_E_PROTO naming the first
 * missing or oversized attribute, or a specversion other than 1.0. */
enum hret_result hret_cloudevent_from_headers(const rd_kafka_headers_t *hdrs,
                                              struct hret_cloudevent *ev, struct hret_err *err);

/* The value of header name (borrowed) as a NUL-terminated copy into buf (cap bytes); false when
 * absent or too long. */
bool hret_cloudevent_header(const rd_kafka_headers_t *hdrs, const char *name, char *buf,
                            size_t cap);

#endif
