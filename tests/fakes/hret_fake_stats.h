/* Counters of the fake model server, lock-free (C11 atomics), read by GET /fake/stats and zeroed
 * by POST /fake/reset so tests can assert that retries, hangs and the like happened. The
 * /fake/... control requests themselves are not counted. */
#ifndef HRET_FAKE_STATS_H
#define HRET_FAKE_STATS_H

#include <pthread.h>
#include <stdatomic.h>

#include <cjson/cJSON.h>

enum hret_fake_endpoint {
    HRET_FAKE_EP_CHAT,
    HRET_FAKE_EP_COMPLETIONS,
    HRET_FAKE_EP_MESSAGES,   /* Anthropic */
    HRET_FAKE_EP_AZURE_CHAT, /* Azure OpenAI's deployment route */
    HRET_FAKE_EP_MODELS,
    HRET_FAKE_EP_HEALTH,
    HRET_FAKE_EP_NOT_FOUND,
    HRET_FAKE_EP_BAD_METHOD,
    HRET_FAKE_EP_STATS, /* control endpoints from here on: not counted */
    HRET_FAKE_EP_RESET,
    HRET_FAKE_EP_COUNT,
};

enum hret_fake_event {
    HRET_FAKE_EV_429,
    HRET_FAKE_EV_HANG,
    HRET_FAKE_EV_MALFORMED,
    HRET_FAKE_EV_TRUNCATED,
    HRET_FAKE_EV_COUNT,
};

#define HRET_FAKE_MAX_STATUS 600
#define HRET_FAKE_MINUTES 64 /* model calls per wall-clock minute, the last this many minutes */

struct hret_fake_stats {
    atomic_ullong requests;
    atomic_ullong endpoints[HRET_FAKE_EP_COUNT];
    atomic_ullong status[HRET_FAKE_MAX_STATUS];
    atomic_ullong events[HRET_FAKE_EV_COUNT];
    atomic_llong in_flight;
    atomic_llong max_in_flight;
    pthread_mutex_t minute_lock;
    long long minute_of[HRET_FAKE_MINUTES]; /* unix minute of each ring slot */
    unsigned long long per_minute[HRET_FAKE_MINUTES];
};

void hret_fake_stats_init(struct hret_fake_stats *s);
/* A counted request arrives (requests, endpoint, in flight) / finishes (in flight). */
void hret_fake_stats_begin(struct hret_fake_stats *s, enum hret_fake_endpoint ep);
void hret_fake_stats_end(struct hret_fake_stats *s);
void hret_fake_stats_status(struct hret_fake_stats *s, unsigned status);
void hret_fake_stats_event(struct hret_fake_stats *s, enum hret_fake_event ev);
/* Counts a model call in the current wall-clock minute (unix time / 60); returns the calls of
 * that minute so far, this one included. */
unsigned long long hret_fake_stats_minute(struct hret_fake_stats *s, long long minute);
/* Zeroes every counter; in_flight stays and max_in_flight restarts from it. */
void hret_fake_stats_reset(struct hret_fake_stats *s);
/* The counters as a JSON object; caller owns result. */
cJSON *hret_fake_stats_json(struct hret_fake_stats *s);

#endif
