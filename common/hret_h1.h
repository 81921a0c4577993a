/* The engine's own HTTP/1.1 client, for endpoints reached over plain http:// at an IP address
 * (a model server on the same host or network, as fleets and benchmarks run them); everything
 * else (https, host names, proxies) stays on libcurl (hret_http_mux.h).
 *
 * Why: at thousands of requests in flight libcurl costs, per transfer, a 5 KB easy handle, a
 * receive buffer and its connection state (about 9.5 KB at the least, 95 MB at 10,000 in flight)
 * and a fifth of the engine's CPU in its per-transfer setup. Here a connection is one small
 * struct; replies are read through one shared buffer straight into the request's capped body
 * buffer; a socket is registered with epoll once, edge-triggered, for its whole life.
 *
 * Connections are kept alive per address and reused; a reused one the server closed before
 * answering gets the request again on a new connection, once (as libcurl does). Every
 * connection to an address is checked against the request's network policy (hret_netguard.h),
 * new or reused. Timeouts are checked every HRET_H1_TICK_MS.
 *
 * Single-threaded, like the engine that owns it. */
#ifndef HRET_H1_H
#define HRET_H1_H

#include <stdbool.h>
#include <stddef.h>

#include "hret_buf.h"
#include "hret_clock.h"
#include "hret_err.h"
#include "hret_netguard.h"

#define HRET_H1_TICK_MS 50.0

struct hret_h1;

/* Where a plain-http URL goes: filled by hret_h1_target. */
struct hret_h1_target {
    char authority[64];     /* the Host header: "127.0.0.1:8000", "[::1]:8000" */
    const char *path;       /* into the URL: "/v1/chat/completions" (never empty: "/" at least) */
    unsigned char addr[28]; /* struct sockaddr_in or sockaddr_in6 */
    unsigned addr_len;
};

/* True when url is http://<IPv4 or [IPv6]>[:port][/path...] without user info: the URLs this
 * client takes. */
bool hret_h1_target(const char *url, struct hret_h1_target *t);

enum hret_h1_outcome {
    HRET_H1_OK,        /* a whole response: status set */
    HRET_H1_E_TIMEOUT, /* no whole response within timeout_ms of the send */
    HRET_H1_E_CONNECT, /* no connection (refused, unreachable, connect timeout) */
    HRET_H1_E_CLOSED,  /* the connection failed or closed before the response was whole */
    HRET_H1_E_TOO_BIG, /* the body passed the buffer's cap */
    HRET_H1_E_PROTO,   /* not a valid HTTP/1.1 response */
    HRET_H1_E_REFUSED, /* the address is not allowed by the request's policy */
};

struct hret_h1_result {
    enum hret_h1_outcome outcome;
    int status;            /* HTTP status when outcome is HRET_H1_OK, else 0 */
    double retry_after_ms; /* the server's retry delay, < 0 when none */
    double ttfb_ms;        /* send -> first response byte, 0 when none */
    const char *error;     /* "" or a static or formatted message without secrets; borrowed */
    const char *refused;   /* for HRET_H1_E_REFUSED: the address class word (hret_netguard.h) */
    bool refused_private;  /* ... which a private-network policy would allow */
};

/* Called once per request, from hret_h1_drive (never from hret_h1_send). */
typedef void hret_h1_done_fn(void *user, const struct hret_h1_result *result);

struct hret_h1_request {
    const struct hret_h1_target *target; /* borrowed until done */
    const char *head; /* request line and headers, through the empty line; borrowed until done */
    size_t head_len;
    const char *body; /* NULL or body_len bytes; borrowed until done */
    size_t body_len;
    bool head_only;          /* a HEAD request: no body in the response */
    struct hret_buf *resp;   /* the body goes here (reset, capped); borrowed until done */
    long timeout_ms;         /* from the send to the whole response */
    long connect_timeout_ms; /* 0: timeout_ms */
    enum hret_net_policy policy;
    void *user;
};

struct hret_h1 *hret_h1_new(hret_h1_done_fn *done, struct hret_err *err);
/* Closes every connection; requests not finished are dropped without a call to done. */
void hret_h1_destroy(struct hret_h1 *h);

/* The epoll descriptor to wait on (readable when hret_h1_drive has sockets to serve). */
int hret_h1_fd(const struct hret_h1 *h);

/* Starts a request; its outcome comes through done from a later hret_h1_drive. */
void hret_h1_send(struct hret_h1 *h, const struct hret_h1_request *req);

/* Serves ready sockets and due timeouts, calling done for what finished; never waits. */
void hret_h1_drive(struct hret_h1 *h);

/* When hret_h1_drive should run next at the latest (hret_clock_now_ms clock), INFINITY when no
 * request is out. */
double hret_h1_next_ms(const struct hret_h1 *h);

/* Requests out (sent or connecting). */
size_t hret_h1_active(const struct hret_h1 *h);

#endif
