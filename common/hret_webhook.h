/* The signed-webhook convention of every hret webhook (the bridge's webhook sink, the monitor's
 * webhook alert channel), so one receiver verifies both the same way:
 *
 *   X-Hret-Timestamp: <unix seconds>              when this attempt was signed
 *   X-Hret-Signature: sha256=<64 lowercase hex>   HMAC-SHA256 under the shared secret of
 *                                                 "<timestamp>.<delivery id>.<raw body>"
 *                                                 (absent when no secret is set)
 *   X-Hret-Delivery: <id>                         the same on every retry and redelivery of one
 *                                                 event to one receiver: receivers dedupe on it
 *   X-Hret-Event: <type>                          the CloudEvent type, "hret.run.completed.v1"
 *
 * A receiver recomputes the HMAC over the timestamp, the delivery id and the raw body it read
 * (before any JSON parsing), compares in constant time (Python: hmac.compare_digest) and refuses
 * a timestamp further than its tolerance (examples/webhook_receiver.py: 5 minutes) from its
 * clock; with the dedupe on the delivery id, a captured request cannot be replayed later or
 * under another id. It replaced a signature over the body alone. */
#ifndef HRET_WEBHOOK_H
#define HRET_WEBHOOK_H

#include <stddef.h>

#define HRET_WEBHOOK_SIGNATURE "X-Hret-Signature"
#define HRET_WEBHOOK_TIMESTAMP "X-Hret-Timestamp"
#define HRET_WEBHOOK_DELIVERY "X-Hret-Delivery"
#define HRET_WEBHOOK_EVENT "X-Hret-Event"

/* The two header lines of one signed attempt. */
struct hret_webhook_sig {
    char timestamp[sizeof HRET_WEBHOOK_TIMESTAMP ": " + 20]; /* "X-Hret-Timestamp: <s>" */
    char signature[sizeof HRET_WEBHOOK_SIGNATURE ": sha256=" + 64];
};

/* Signs len bytes of body for the delivery id at unix time now: fills out's timestamp line and,
 * when key is not NULL (key_len bytes), its signature line (else signature is ""). All borrowed. */
void hret_webhook_sign(const void *key, size_t key_len, long long now, const char *delivery,
                       const void *body, size_t len, struct hret_webhook_sig *out);

#endif
