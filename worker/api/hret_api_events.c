/* The event stream of a request (see hret_api_events.h). */
#include "hret_api_events.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "hret_buf.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"

#define POLL_MS 250
#define KEEPALIVE_S 15
#define EVENTS_PER_POLL 64
#define DB_WAIT_MS 5000

struct hret_api_stream {
    struct hret_api_stream_options opt; /* borrowed strings copied below */
    char *topic, *request_id;
    long long after;     /* the last result event sent (outbox id) */
    char *progress;      /* the last progress data sent */
    struct hret_buf out; /* what is ready to send */
    size_t sent;         /* bytes of out already handed to MHD */
    double started_s, last_write_s;
    bool over; /* "end" is in out: finish once it is sent */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct hret_api_stream *hret_api_stream_new(const struct hret_api_stream_options *opt)
{
    struct hret_api_stream *s = hret_xcalloc(1, sizeof *s);
    s->opt = *opt;
    s->topic = hret_xstrdup(opt->topic);
    s->request_id = hret_xstrdup(opt->request_id);
    s->opt.topic = s->topic;
    s->opt.request_id = s->request_id;
    s->opt.last_event_id = NULL;
    if (opt->last_event_id != NULL) {
        char *end = NULL;
        long long v = strtoll(opt->last_event_id, &end, 10);
        s->after = *opt->last_event_id && *end == '\0' && v > 0 ? v : 0;
    }
    hret_buf_init(&s->out, (size_t)16 << 20);
    s->started_s = s->last_write_s = now_s();
    return s;
}

void hret_api_stream_free(void *stream)
{
    struct hret_api_stream *s = stream;
    if (s != NULL) {
        hret_buf_fini(&s->out);
        free(s->topic);
        free(s->request_id);
        free(s->progress);
        free(s);
    }
}

static void put(struct hret_api_stream *s, const char *id, const char *event, const char *data)
{
    if (id != NULL) {
        hret_buf_appendf(&s->out, NULL, "id: %s\n", id);
    }
    hret_buf_appendf(&s->out, NULL, "event: %s\ndata: %s\n\n", event, data);
}

/* The progress data of a request's state: its status and each run's counts (no metrics). */
static char *progress_of(const cJSON *req)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "request_id",
                          cJSON_Duplicate(cJSON_GetObjectItem(req, "request_id"), true));
    cJSON_AddItemToObject(p, "status", cJSON_Duplicate(cJSON_GetObjectItem(req, "status"), true));
    cJSON *runs = cJSON_AddArrayToObject(p, "runs");
    const cJSON *r = NULL;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(req, "runs"))
    {
        cJSON *o = cJSON_CreateObject();
        const char *keys[] = {"run_id",          "model",        "dataset",      "status",
                              "planned_samples", "done_samples", "error_samples"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            cJSON_AddItemToObject(o, keys[k],
                                  cJSON_Duplicate(cJSON_GetObjectItem(r, keys[k]), true));
        }
        cJSON_AddItemToArray(runs, o);
    }
    char *text = hret_json_print(p);
    cJSON_Delete(p);
    return text;
}

/* One look at the database: new progress, new result events, the end. false when the
 * database could not be asked (the stream tries again at the next poll). */
static bool poll_once(struct hret_api_stream *s)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_store *st = hret_api_db_take(s->opt.db, DB_WAIT_MS, &err);
    if (st == NULL) {
        hret_log_warn("api", s->request_id, "event stream: %s", err.msg);
        return false;
    }
    cJSON *req = NULL;
    struct hret_api_event *ev = NULL;
    size_t n = 0;
    /* the state first: the events read after it include every event of a finished request */
    if (hret_api_db_request(st, s->request_id, &req, &err) == HRET_OK && req != NULL) {
        char *progress = progress_of(req);
        if (s->progress == NULL || strcmp(progress, s->progress) != 0) {
            put(s, NULL, "progress", progress);
            free(s->progress);
            s->progress = progress;
        } else {
            free(progress);
        }
        bool over = hret_api_db_request_over(req);
        do {
            hret_api_events_free(ev, n);
            if (hret_api_db_events(st, s->topic, s->request_id, s->after, EVENTS_PER_POLL, &ev, &n,
                                   &err) != HRET_OK) {
                over = false;
                break;
            }
            for (size_t i = 0; i < n; i++) {
                char id[32];
                snprintf(id, sizeof id, "%lld", ev[i].seq);
                put(s, id, ev[i].type, ev[i].data);
                s->after = ev[i].seq;
            }
        } while (n == EVENTS_PER_POLL);
        if (over) {
            char *end = hret_xasprintf("{\"request_id\":\"%s\",\"status\":\"%s\"}", s->request_id,
                                       cJSON_GetStringValue(cJSON_GetObjectItem(req, "status")));
            put(s, NULL, "end", end);
            free(end);
            s->over = true;
        }
    }
    hret_api_events_free(ev, n);
    cJSON_Delete(req);
    hret_api_db_give(s->opt.db, st);
    return err.code == HRET_OK;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

ssize_t hret_api_stream_read(void *stream, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct hret_api_stream *s = stream;
    while (s->sent == s->out.len) {
        hret_buf_reset(&s->out);
        s->sent = 0;
        double now = now_s();
        if (s->over || atomic_load(s->opt.stopping) || now - s->started_s > (double)s->opt.max_s) {
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (!poll_once(s) || s->out.len == 0) {
            if (now - s->last_write_s >= KEEPALIVE_S) {
                hret_buf_appendf(&s->out, NULL, ": keep-alive\n\n");
            } else {
                sleep_ms(POLL_MS);
            }
        }
    }
    size_t n = s->out.len - s->sent < max ? s->out.len - s->sent : max;
    memcpy(buf, s->out.data + s->sent, n);
    s->sent += n;
    s->last_write_s = now_s();
    return (ssize_t)n;
}
