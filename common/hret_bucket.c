#include "hret_bucket.h"

#include <math.h>

void hret_bucket_init(struct hret_bucket *b, double per_minute, double capacity, bool full,
                      double now_ms)
{
    b->capacity = per_minute > 0 ? fmax(capacity, 1.0) : 0;
    b->tokens = full ? b->capacity : 0;
    b->per_ms = per_minute / 60000.0;
    b->last_ms = now_ms;
}

void hret_bucket_refill(struct hret_bucket *b, double now_ms)
{
    if (b->capacity > 0) {
        b->tokens = fmin(b->capacity, b->tokens + (now_ms - b->last_ms) * b->per_ms);
    }
    b->last_ms = now_ms;
}

double hret_bucket_wait(const struct hret_bucket *b, double n)
{
    if (b->capacity <= 0) {
        return 0;
    }
    double need = fmin(n, b->capacity);
    return b->tokens >= need ? 0 : (need - b->tokens) / b->per_ms;
}

void hret_bucket_take(struct hret_bucket *b, double n)
{
    if (b->capacity > 0) {
        b->tokens = fmin(b->capacity, b->tokens - n);
    }
}
