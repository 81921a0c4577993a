/* Per-token rate limit of `hret api`: a token bucket per token name (api.rate_burst requests at
 * once, refilled at api.rate_per_minute), shared by the server's threads under one mutex. */
#ifndef HRET_API_LIMIT_H
#define HRET_API_LIMIT_H

#include <stdbool.h>

struct hret_api_limit;

/* per_minute 0 = unlimited. Caller owns result. */
struct hret_api_limit *hret_api_limit_new(long long per_minute, long long burst);
void hret_api_limit_destroy(struct hret_api_limit *l);

/* Takes one request from name's bucket (borrowed, copied) at now_s (a monotonic clock, seconds).
 * false when it is empty: *retry_after_s (>= 1) says when the next one fits. */
bool hret_api_limit_take(struct hret_api_limit *l, const char *name, double now_s,
                         long *retry_after_s);

#endif
