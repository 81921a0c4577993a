#include "hret_fake_stats.h"

#include <stdio.h>
#include <string.h>

static const char *const endpoint_names[HRET_FAKE_EP_COUNT] = {
    "chat_completions",
    "completions",
    "messages",
    "azure_chat_completions",
    "models",
    "health",
    "not_found",
    "bad_method",
    "stats",
    "reset",
};

static const char *const event_names[HRET_FAKE_EV_COUNT] = {
    "sent_429",
    "hangs",
    "malformed",
    "truncated",
};

static void zero(atomic_ullong *counters, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        atomic_store(&counters[i], 0);
    }
}

void hret_fake_stats_init(struct hret_fake_stats *s)
{
    pthread_mutex_init(&s->minute_lock, NULL);
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->max_in_flight, 0);
    hret_fake_stats_reset(s);
}

void hret_fake_stats_begin(struct hret_fake_stats *s, enum hret_fake_endpoint ep)
{
    atomic_fetch_add(&s->requests, 1);
    atomic_fetch_add(&s->endpoints[ep], 1);
    long long now = atomic_fetch_add(&s->in_flight, 1) + 1;
    long long max = atomic_load(&s->max_in_flight);
    while (now > max && !atomic_compare_exchange_weak(&s->max_in_flight, &max, now)) {
    }
}

void hret_fake_stats_end(struct hret_fake_stats *s)
{
    atomic_fetch_sub(&s->in_flight, 1);
}

void hret_fake_stats_status(struct hret_fake_stats *s, unsigned status)
{
    if (status < HRET_FAKE_MAX_STATUS) {
        atomic_fetch_add(&s->status[status], 1);
    }
    if (status == 429) {
        hret_fake_stats_event(s, HRET_FAKE_EV_429);
    }
}

void hret_fake_stats_event(struct hret_fake_stats *s, enum hret_fake_event ev)
{
    atomic_fetch_add(&s->events[ev], 1);
}

unsigned long long hret_fake_stats_minute(struct hret_fake_stats *s, long long minute)
{
    size_t slot = (size_t)(minute % HRET_FAKE_MINUTES);
    pthread_mutex_lock(&s->minute_lock);
    if (s->minute_of[slot] != minute) {
        s->minute_of[slot] = minute;
        s->per_minute[slot] = 0;
    }
    unsigned long long n = ++s->per_minute[slot];
    pthread_mutex_unlock(&s->minute_lock);
    return n;
}

void hret_fake_stats_reset(struct hret_fake_stats *s)
{
    pthread_mutex_lock(&s->minute_lock);
    memset(s->minute_of, 0, sizeof s->minute_of);
    memset(s->per_minute, 0, sizeof s->per_minute);
    pthread_mutex_unlock(&s->minute_lock);
    atomic_store(&s->requests, 0);
    zero(s->endpoints, HRET_FAKE_EP_COUNT);
    zero(s->status, HRET_FAKE_MAX_STATUS);
    zero(s->events, HRET_FAKE_EV_COUNT);
    atomic_store(&s->max_in_flight, atomic_load(&s->in_flight));
}

cJSON *hret_fake_stats_json(struct hret_fake_stats *s)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "requests_total", (double)atomic_load(&s->requests));
    cJSON *eps = cJSON_AddObjectToObject(doc, "endpoints");
    for (int i = 0; i < HRET_FAKE_EP_STATS; i++) {
        cJSON_AddNumberToObject(eps, endpoint_names[i], (double)atomic_load(&s->endpoints[i]));
    }
    cJSON *status = cJSON_AddObjectToObject(doc, "status");
    for (unsigned code = 0; code < HRET_FAKE_MAX_STATUS; code++) {
        unsigned long long n = atomic_load(&s->status[code]);
        if (n > 0) {
            char key[8];
            snprintf(key, sizeof key, "%u", code);
            cJSON_AddNumberToObject(status, key, (double)n);
        }
    }
    for (int i = 0; i < HRET_FAKE_EV_COUNT; i++) {
        cJSON_AddNumberToObject(doc, event_names[i], (double)atomic_load(&s->events[i]));
    }
    cJSON *minutes = cJSON_AddObjectToObject(doc, "per_minute");
    pthread_mutex_lock(&s->minute_lock);
    for (size_t i = 0; i < HRET_FAKE_MINUTES; i++) {
        if (s->per_minute[i] > 0) {
            char key[24];
            snprintf(key, sizeof key, "%lld", s->minute_of[i]);
            cJSON_AddNumberToObject(minutes, key, (double)s->per_minute[i]);
        }
    }
    pthread_mutex_unlock(&s->minute_lock);
    cJSON_AddNumberToObject(doc, "in_flight", (double)atomic_load(&s->in_flight));
    cJSON_AddNumberToObject(doc, "max_in_flight", (double)atomic_load(&s->max_in_flight));
    return doc;
}
