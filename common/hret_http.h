/* The endpoint engine: every HTTP request of a run, on one epoll loop (hret_http_mux.h): plain
 * http to an IP address through hret's own HTTP/1.1 client (hret_h1.h), everything else through
 * libcurl multi handles. Requests go to pools (one per model) that own the limits:
 * requests in flight, requests and tokens per minute, retry budget, timeouts and body cap.
 *
 * - Retries on 408, 409, 429, 5xx, timeouts and connection errors, with exponential backoff
 *   and full jitter; `retry-after-ms` / `Retry-After` (seconds or HTTP date) are honoured up to
 *   a cap. A waiting retry holds no in-flight slot. A 429 pauses the whole pool and halves its
 *   in-flight limit, which then grows back by one per success.
 * - 400, 401, 403, 404, 422, other 4xx and 429 `insufficient_quota` are permanent.
 * - Timeouts count from when a request is sent, never from when it was queued.
 * - The Authorization header (Bearer, or Basic with a user; or the provider's own key header)
 *   and the secret headers_env are built from the pool's secret references at send time and
 *   freed (zeroed) when the transfer ends; they never reach logs or errors. A reference that
 *   does not resolve fails the request before anything is sent.
 *
 * Single-threaded: the caller drives it with hret_http_run. Completions are called from there. */
#ifndef HRET_HTTP_H
#define HRET_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "hret_cfg.h"
#include "hret_clock.h"
#include "hret_err.h"
#include "hret_netguard.h"

struct hret_http;

/* A budget shared beyond one pool (the other runs of a process, the fleet), asked before each
 * attempt is sent, after the pool's own limits. Called from the thread that drives the engine;
 * a gate shared between engines must be thread-safe. Copied by hret_http_add_pool. */
struct hret_http_gate {
    /* 0: one attempt of est_tokens may be sent now and is counted; else ms to wait first */
    double (*acquire)(void *user, long est_tokens);
    /* an attempt acquire let through is over; busy_until_ms > now (hret_clock_now_ms): it was
     * abandoned while the server may still be working on it, so it counts until then */
    void (*release)(void *user, double busy_until_ms);
    void (*adjust)(void *user, long delta); /* tokens: actual - estimated */
    void *user;                             /* borrowed for the engine's life */
};

struct hret_http_limits {
    const char *name;  /* for logs and errors; copied */
    long max_inflight; /* >= 1 */
    long rpm;          /* requests per minute, 0 = unlimited */
    long tpm;          /* tokens per minute, 0 = unlimited */
    long timeout_ms;   /* per attempt, from send */
    long connect_timeout_ms;
    int max_retries;                   /* retry budget per request */
    long retry_after_cap_ms;           /* longer Retry-After values fall back to backoff */
    size_t max_response_bytes;         /* body cap */
    const char *api_key_env;           /* secret reference: environment variable name, or NULL */
    const char *api_key_file;          /* secret reference: file path, or NULL */
    const char *api_key_user;          /* NULL: "Bearer <key>"; else "Basic base64(<user>:<key>)" */
    const char *api_key_header;        /* NULL: Authorization as above; else "<this>: <key>" */
    const char *const *fixed_headers;  /* "Name: value" lines, NULL-terminated; may be NULL */
    const struct hret_kvlist *headers; /* name -> value, sent as is; may be NULL */
    const struct hret_kvlist *headers_env; /* name -> environment variable, read at send time
                                              like api_key_env (never logged); may be NULL */
    const struct hret_http_gate *gate;     /* may be NULL */
    /* HRET_NET_ANY: unchecked. Else every address connected to (new or reused connection) must
     * be allowed (hret_netguard.h); a refusal is a permanent error naming the address class. */
    enum hret_net_policy net_policy;
};

/* A request as a backend prepared it. Strings are borrowed for the duration of submit. */
struct hret_http_request {
    const char *url;
    const char *body; /* POST body (JSON); NULL for GET */
    size_t body_len;
    long est_tokens;            /* tokens charged against tpm before the call */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
    const char *method;         /* NULL: POST with a body, GET without; else e.g. "PUT" */
    const char *content_type;   /* NULL: application/json */
};

struct hret_http_timing {
    double queued_ms; /* submit -> last attempt sent (includes retry waits) */
    double ttfb_ms;   /* last attempt sent -> first response byte */
    double total_ms;  /* last attempt sent -> done */
};

/* What a completion receives. Everything is borrowed for the duration of the callback. */
struct hret_http_result {
    enum hret_result code; /* HRET_OK for 2xx; otherwise the error class */
    long status;           /* HTTP status of the last attempt, 0 if none */
    const char *body;      /* response body of the last attempt ("" when none), NUL-terminated */
    size_t body_len;
    const char *error; /* "" on success; never contains secrets */
    int attempts;
    struct hret_http_timing timing;
};

/* Called with the outcome. On a 2xx the callback may return HRET_AGAIN to say the body is
 * unusable (malformed JSON, truncated): the engine then retries within the request's budget
 * and, once it is spent, calls again with code HRET_E_PROTO. Any other return accepts. */
typedef enum hret_result hret_http_done_fn(void *user, const struct hret_http_result *result);

struct hret_http_stats {
    uint64_t requests;  /* attempts sent */
    uint64_t completed; /* requests finished (any outcome) */
    uint64_t retries;
    uint64_t status_2xx, status_4xx, status_5xx, status_429;
    uint64_t timeouts, conn_errors;
    long inflight;
    long limit; /* current in-flight limit (lowered after 429s) */
};

struct hret_http *hret_http_new(struct hret_err *err); /* caller owns result */
void hret_http_destroy(struct hret_http *h);           /* abandons unfinished requests */

/* Adds a pool; returns its id (>= 0) or -1 with err set. limits is copied. */
int hret_http_add_pool(struct hret_http *h, const struct hret_http_limits *limits,
                       struct hret_err *err);

/* Queues a request; done is called from hret_http_run (never from submit): once, or more than
 * once only when it answered HRET_AGAIN to a 2xx. */
enum hret_result hret_http_submit(struct hret_http *h, int pool,
                                  const struct hret_http_request *req, hret_http_done_fn *done,
                                  void *user, struct hret_err *err);

/* Starts what the limits allow, waits up to timeout_ms for progress and calls completions.
 * Returns the number of requests not yet completed. */
size_t hret_http_run(struct hret_http *h, int timeout_ms);

/* Corrects the pool's token bucket once the real usage is known (actual - estimated). */
void hret_http_adjust_tokens(struct hret_http *h, int pool, long delta);

void hret_http_stats(const struct hret_http *h, int pool, struct hret_http_stats *out);

#endif
