/* The signed-webhook convention of every hret webhook (the bridge's webhook sink, the monitor's
 * webhook alert channel), so one receiver verifies both the same way:
 *
 *   X-Hret-Signature: sha256=<64 lowercase hex>   HMAC-SHA256 of the exact request body under
 *                                                 the shared secret (absent when none is set)
 *   X-Hret-Delivery: <id>                         the same on every retry and redelivery of one
 *                                                 event to one receiver: receivers dedupe on it
 *   X-Hret-Event: <type>                          the CloudEvent type, "hret.run.completed.v1"
 *
 * A receiver recomputes the HMAC over the raw body it read (before any JSON parsing) and
 * compares in constant time (Python: hmac.compare_digest). */
#ifndef HRET_WEBHOOK_H
#define HRET_WEBHOOK_H

#include <stddef.h>

#define HRET_WEBHOOK_SIGNATURE "X-Hret-Signature"
#define HRET_WEBHOOK_DELIVERY "X-Hret-Delivery"
#define HRET_WEBHOOK_EVENT "X-Hret-Event"

/* Room for the header line hret_webhook_signature_line writes, NUL included. */
#define HRET_WEBHOOK_SIGNATURE_LINE (sizeof HRET_WEBHOOK_SIGNATURE ": sha256=" + 64)

/* Writes "X-Hret-Signature: sha256=<hex>" for len bytes of body under the secret (key_len
 * bytes); all borrowed. */
void hret_webhook_signature_line(const void *key, size_t key_len, const void *body, size_t len,
                                 char out[HRET_WEBHOOK_SIGNATURE_LINE]);

#endif
