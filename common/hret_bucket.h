/* A token bucket for "per minute" limits (requests, tokens): refills continuously at
 * per_minute / 60000 per millisecond up to its capacity. Not thread-safe; callers lock. */
#ifndef HRET_BUCKET_H
#define HRET_BUCKET_H

#include <stdbool.h>

struct hret_bucket {
    double tokens, capacity, per_ms, last_ms; /* capacity 0 = unlimited */
};

/* per_minute 0 = unlimited. capacity: the largest burst (per_minute for a full minute's worth);
 * full: start with capacity tokens, else with none. */
void hret_bucket_init(struct hret_bucket *b, double per_minute, double capacity, bool full,
                      double now_ms);
void hret_bucket_refill(struct hret_bucket *b, double now_ms);
/* Milliseconds until n tokens are available (0 = now). A request larger than the whole bucket
 * waits for a full bucket and then overdraws, so it is slowed, never blocked forever. */
double hret_bucket_wait(const struct hret_bucket *b, double n);
/* Takes n tokens (may go negative: an overdraw or a correction); a no-op when unlimited. */
void hret_bucket_take(struct hret_bucket *b, double n);

#endif
