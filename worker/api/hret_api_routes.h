/* The routes of `hret api` under /v1: what each answers, apart from HTTP (hret_api.c reads the
 * request, authenticates, limits and audits; a route gets the call and fills the reply).
 *
 *   POST /v1/requests                 submit   202 {"request_id", "status": "accepted"}
 *   GET  /v1/requests/{id}            read     the request and its runs with their metrics
 *   GET  /v1/requests/{id}/events     read     Server-Sent Events: progress, result events, end
 *   GET  /v1/runs                     read     runs newest first
 * (?model=&dataset=&status=&since=&limit=) GET  /v1/runs/{id}                read     HRET's
 * results JSON, samples paged (?offset=&limit=) GET  /v1/metrics/history          read     a metric
 * over runs (?metric=&model=&dataset=&subset=) GET  /v1/compare                  read     the
 * paired comparison of two runs (?a=RUN&b=RUN) GET  /v1/openapi.json             -
 * schemas/openapi.yaml as JSON
 *
 * Errors are JSON {"error": code, "message": text} (and "path" for a refused request). */
#ifndef HRET_API_ROUTES_H
#define HRET_API_ROUTES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_api_db.h"
#include "hret_api_events.h"
#include "hret_config.h"

#define HRET_API_ID_MAX 128

/* What the routes share; all borrowed, alive while the server runs. */
struct hret_api_ctx {
    const struct hret_config *cfg;
    struct hret_api_db *db;
    const char *openapi_json; /* the spec, served as is */
    size_t openapi_len;
    const atomic_bool *stopping; /* set when the role stops: streams end */
};

/* One HTTP request as the routes see it; all borrowed. */
struct hret_api_call {
    const char *method, *path;                       /* path without the query string */
    const char *(*arg)(void *conn, const char *key); /* a query argument or NULL */
    void *conn;
    const char *body;
    size_t body_len;
    const char *token_name;       /* the authenticated token's name */
    const char *idempotency_key;  /* the header, or NULL */
    const char *last_event_id;    /* the header, or NULL */
    char id[HRET_API_ID_MAX + 1]; /* the {id} of the path, filled by the matcher */
};

struct hret_api_reply {
    unsigned status;
    cJSON *json;                /* owned body, or NULL */
    const char *raw, *raw_type; /* or a body and its type: borrowed, or owned below */
    char *owned;                /* raw when the reply owns it (freed after sending) */
    size_t raw_len;
    struct hret_api_stream *stream; /* or an event stream (owned) */
    bool replayed;                  /* the Idempotency-Key found an earlier request */
    char note[160];                 /* for the audit line: the request or run concerned */
};

struct hret_api_route;

/* The route for method and path (borrowed); call->id gets the path's {id}. NULL when none:
 * *status says 404 (no such path) or 405 (path known, other method). */
const struct hret_api_route *hret_api_route_find(const char *method, const char *path,
                                                 struct hret_api_call *call, unsigned *status);
/* The scope the route needs (enum hret_api_scope), 0 = public. */
unsigned hret_api_route_scope(const struct hret_api_route *route);
/* The methods the path's routes take, for 405's Allow header. */
const char *hret_api_route_allow(const char *path);

/* Answers call into reply (zeroed by the caller). */
void hret_api_route_run(const struct hret_api_route *route, const struct hret_api_ctx *ctx,
                        struct hret_api_call *call, struct hret_api_reply *reply);

/* reply = {"error": code, "message": message} with status. */
void hret_api_reply_error(struct hret_api_reply *reply, unsigned status, const char *code,
                          const char *message);

#endif
