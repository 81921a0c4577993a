/* Per-token rate limit (see hret_api_limit.h). Buckets live in a small array searched linearly:
 * a deployment has tens of tokens, not thousands; a full table forgets the longest-idle bucket,
 * which can only make a limit kinder. */
#include "hret_api_limit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_api_token.h"
#include "hret_mem.h"

#define MAX_BUCKETS 1024

struct bucket {
    char name[HRET_API_NAME_MAX + 1];
    double tokens, last_s;
};

struct hret_api_limit {
    pthread_mutex_t mu;
    double rate_s, burst; /* refill per second; capacity */
    struct bucket *buckets;
    size_t count;
};

struct hret_api_limit *hret_api_limit_new(long long per_minute, long long burst)
{
    struct hret_api_limit *l = hret_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->rate_s = (double)per_minute / 60.0;
    l->burst = burst > 0 ? (double)burst : 1.0;
    l->buckets = hret_xcalloc(MAX_BUCKETS, sizeof *l->buckets);
    return l;
}

void hret_api_limit_destroy(struct hret_api_limit *l)
{
    if (l != NULL) {
        pthread_mutex_destroy(&l->mu);
        free(l->buckets);
        free(l);
    }
}

static struct bucket *find(struct hret_api_limit *l, const char *name, double now_s)
{
    size_t idle = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->buckets[i].name, name) == 0) {
            return &l->buckets[i];
        }
        idle = l->buckets[i].last_s < l->buckets[idle].last_s ? i : idle;
    }
    struct bucket *b = l->count < MAX_BUCKETS ? &l->buckets[l->count++] : &l->buckets[idle];
    snprintf(b->name, sizeof b->name, "%s", name);
    b->tokens = l->burst;
    b->last_s = now_s;
    return b;
}

bool hret_api_limit_take(struct hret_api_limit *l, const char *name, double now_s,
                         long *retry_after_s)
{
    if (l->rate_s <= 0) {
        return true;
    }
    pthread_mutex_lock(&l->mu);
    struct bucket *b = find(l, name, now_s);
    b->tokens = fmin(l->burst, b->tokens + (now_s - b->last_s) * l->rate_s);
    b->last_s = now_s;
    bool ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else {
        *retry_after_s = (long)ceil((1.0 - b->tokens) / l->rate_s);
        *retry_after_s = *retry_after_s < 1 ? 1 : *retry_after_s;
    }
    pthread_mutex_unlock(&l->mu);
    return ok;
}
