#include "hret_h1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hret_clock.h"
#include "hret_h1_parse.h"
#include "hret_mem.h"

#define READ_BYTES 65536
#define SPARE_CONNS 1024 /* freed connection structs kept for reuse */
#define EVENTS_PER_WAIT 256

enum conn_state { C_CONNECTING, C_SENDING, C_RECEIVING, C_IDLE, C_FAILED };

struct origin {
    unsigned char addr[sizeof((struct hret_h1_target *)0)->addr];
    unsigned addr_len;
    enum hret_net_class cls;
    const char *what;
    struct conn *idle; /* kept-alive connections, doubly linked */
};

struct conn {
    struct conn *next, *prev; /* the active list, an origin's idle list, or the spare list */
    int fd;                   /* -1 for a request that failed before it had one */
    enum conn_state state;
    size_t origin;
    struct hret_h1_request req; /* the request being served (C_IDLE: none) */
    size_t sent;                /* bytes of head and body written */
    struct hret_h1_parser parser;
    double sent_ms, connect_by_ms, deadline_ms, first_byte_ms;
    bool reused;                /* a kept-alive connection, not yet resent on a new one */
    bool peer_closed;           /* the server closed its side with or after the reply */
    struct hret_h1_result fail; /* C_FAILED: what the deferred completion reports */
    char msg[128];
};

struct hret_h1 {
    int epfd;
    hret_h1_done_fn *done;
    struct origin *origins;
    size_t norigins;
    struct conn *active; /* requests out */
    struct conn *failed; /* requests that failed before they were out, for the next drive */
    size_t nactive;      /* on either list */
    struct conn *spare;
    size_t nspare;
    double next_tick;
    char rbuf[READ_BYTES];
};

/* ---- URLs ------------------------------------------------------------------------------------ */

bool hret_h1_target(const char *url, struct hret_h1_target *t)
{
    static const char scheme[] = "http://";
    if (strncmp(url, scheme, sizeof scheme - 1) != 0) {
        return false;
    }
    for (const char *u = url; *u != '\0'; u++) {
        if ((unsigned char)*u <= ' ' || *u == 0x7f) {
            return false; /* never into a request line or Host header: libcurl says why */
        }
    }
    const char *host = url + sizeof scheme - 1;
    const char *end = host + strcspn(host, "/?#");
    t->path = *end == '/' ? end : "/";
    if (*end == '?' || *end == '#' || memchr(host, '@', (size_t)(end - host)) != NULL ||
        (size_t)(end - host) >= sizeof t->authority) {
        return false;
    }
    char text[sizeof t->authority];
    const char *port = NULL;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (close == NULL) {
            return false;
        }
        snprintf(text, sizeof text, "%.*s", (int)(close - host - 1), host + 1);
        port = close + 1 < end ? close + 1 : NULL;
        if (port != NULL && *port != ':') {
            return false;
        }
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        snprintf(text, sizeof text, "%.*s", (int)((colon ? colon : end) - host), host);
        port = colon;
    }
    long portnum = 80;
    if (port != NULL) {
        const char *d = port + 1;
        portnum = 0;
        for (; d < end && *d >= '0' && *d <= '9' && portnum <= 65535; d++) {
            portnum = portnum * 10 + (*d - '0');
        }
        if (d != end || d == port + 1 || portnum < 1 || portnum > 65535) {
            return false;
        }
    }
    memset(t->addr, 0, sizeof t->addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)t->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)t->addr;
    if (*host != '[' && inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)portnum);
        t->addr_len = sizeof *v4;
    } else if (*host == '[' && inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)portnum);
        t->addr_len = sizeof *v6;
    } else {
        return false; /* a host name: libcurl resolves those */
    }
    snprintf(t->authority, sizeof t->authority, "%.*s", (int)(end - host), host);
    return true;
}

/* ---- connections ----------------------------------------------------------------------------- */

struct hret_h1 *hret_h1_new(hret_h1_done_fn *done, struct hret_err *err)
{
    struct hret_h1 *h = hret_xcalloc(1, sizeof *h);
    h->done = done;
    h->next_tick = INFINITY;
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (h->epfd < 0) {
        hret_err_set(err, HRET_E_FATAL, "cannot create the HTTP engine (epoll): %s",
                     strerror(errno));
        free(h);
        return NULL;
    }
    return h;
}

static void unlink_conn(struct conn **head, struct conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        *head = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->next = c->prev = NULL;
}

static void push_conn(struct conn **head, struct conn *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head != NULL) {
        (*head)->prev = c;
    }
    *head = c;
}

static void free_list(struct conn *c)
{
    for (struct conn *next; c != NULL; c = next) {
        next = c->next;
        if (c->fd >= 0) {
            close(c->fd);
        }
        free(c);
    }
}

void hret_h1_destroy(struct hret_h1 *h)
{
    if (h == NULL) {
        return;
    }
    free_list(h->active);
    free_list(h->failed);
    for (size_t i = 0; i < h->norigins; i++) {
        free_list(h->origins[i].idle);
    }
    free_list(h->spare);
    free(h->origins);
    close(h->epfd);
    free(h);
}

int hret_h1_fd(const struct hret_h1 *h)
{
    return h->epfd;
}

size_t hret_h1_active(const struct hret_h1 *h)
{
    return h->nactive;
}

double hret_h1_next_ms(const struct hret_h1 *h)
{
    return h->failed != NULL ? 0 : h->nactive > 0 ? h->next_tick : INFINITY;
}

static size_t origin_of(struct hret_h1 *h, const struct hret_h1_target *t)
{
    for (size_t i = 0; i < h->norigins; i++) {
        struct origin *o = &h->origins[i];
        if (o->addr_len == t->addr_len && memcmp(o->addr, t->addr, t->addr_len) == 0) {
            return i;
        }
    }
    h->origins = hret_xrealloc(h->origins, (h->norigins + 1) * sizeof *h->origins);
    struct origin *o = &h->origins[h->norigins];
    memset(o, 0, sizeof *o);
    memcpy(o->addr, t->addr, t->addr_len);
    o->addr_len = t->addr_len;
    o->cls = hret_net_classify((const struct sockaddr *)(const void *)o->addr, &o->what);
    return h->norigins++;
}

static struct conn *conn_new(struct hret_h1 *h)
{
    struct conn *c = h->spare;
    if (c != NULL) {
        unlink_conn(&h->spare, c);
        h->nspare--;
    } else {
        c = hret_xmalloc(sizeof *c);
    }
    memset(c, 0, offsetof(struct conn, parser));
    c->fd = -1;
    return c;
}

/* Closes c's socket and keeps the struct for a later connection (c is on no list). */
static void conn_close(struct hret_h1 *h, struct conn *c)
{
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    if (h->nspare < SPARE_CONNS) {
        push_conn(&h->spare, c);
        h->nspare++;
    } else {
        free(c);
    }
}

/* Opens a non-blocking connection to c's origin; false with c->fail set when none. */
static bool conn_open(struct hret_h1 *h, struct conn *c)
{
    const struct origin *o = &h->origins[c->origin];
    const struct sockaddr *sa = (const struct sockaddr *)(const void *)o->addr;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(c->msg, sizeof c->msg, "cannot open a socket: %s", strerror(errno));
        c->fail = (struct hret_h1_result){.outcome = HRET_H1_E_CONNECT, .error = c->msg};
        return false;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 ||
        (connect(fd, sa, o->addr_len) != 0 && errno != EINPROGRESS)) {
        char ip[INET6_ADDRSTRLEN] = "";
        const void *a =
            sa->sa_family == AF_INET
                ? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
                : (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        inet_ntop(sa->sa_family, a, ip, sizeof ip);
        snprintf(c->msg, sizeof c->msg, "cannot connect to %s: %s", ip, strerror(errno));
        c->fail = (struct hret_h1_result){.outcome = HRET_H1_E_CONNECT, .error = c->msg};
        close(fd);
        return false;
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    c->reused = false;
    return true;
}

/* ---- one request ----------------------------------------------------------------------------- */

/* The request is over: c leaves the active list, goes back to its origin's idle list when it
 * may carry another request (else it is closed), and done is called. */
static void complete(struct hret_h1 *h, struct conn *c, const struct hret_h1_result *r)
{
    unlink_conn(c->state == C_FAILED ? &h->failed : &h->active, c);
    h->nactive--;
    struct hret_h1_result out = *r;
    out.ttfb_ms = c->first_byte_ms > 0 ? c->first_byte_ms - c->sent_ms : 0;
    void *user = c->req.user;
    if (r->outcome == HRET_H1_OK && c->parser.keep_alive && !c->peer_closed) {
        c->state = C_IDLE;
        c->req = (struct hret_h1_request){0};
        push_conn(&h->origins[c->origin].idle, c);
    } else {
        conn_close(h, c);
    }
    h->done(user, &out);
}

/* A whole response came. */
static void answered(struct hret_h1 *h, struct conn *c)
{
    complete(h, c,
             &(struct hret_h1_result){.status = c->parser.status,
                                      .retry_after_ms = c->parser.retry_after_ms,
                                      .error = ""});
}

static void fail(struct hret_h1 *h, struct conn *c, enum hret_h1_outcome outcome, const char *msg)
{
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    complete(h, c, &(struct hret_h1_result){.outcome = outcome, .error = c->msg});
}

static void fail_errno(struct hret_h1 *h, struct conn *c, enum hret_h1_outcome outcome,
                       const char *what, int e)
{
    char msg[128];
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
    fail(h, c, outcome, msg);
}

static void flush(struct hret_h1 *h, struct conn *c);

/* A reused connection the server closed before answering: the request again on a new one. */
static bool resend(struct hret_h1 *h, struct conn *c)
{
    if (!c->reused || hret_h1_parse_started(&c->parser)) { /* conn_open clears reused */
        return false;
    }
    close(c->fd);
    c->fd = -1;
    c->sent = 0;
    hret_buf_reset(c->req.resp);
    hret_h1_parse_init(&c->parser, c->req.resp, c->req.head_only);
    if (!conn_open(h, c)) { /* reported by the next drive: never from inside hret_h1_send */
        unlink_conn(&h->active, c);
        c->state = C_FAILED;
        push_conn(&h->failed, c);
    }
    return true;
}

static void closed_early(struct hret_h1 *h, struct conn *c, int e)
{
    if (resend(h, c)) {
        return;
    }
    if (e != 0) {
        fail_errno(h, c, HRET_H1_E_CLOSED, "connection lost", e);
    } else {
        fail(h, c, HRET_H1_E_CLOSED, hret_h1_parse_error(&c->parser));
    }
}

static void receive(struct hret_h1 *h, struct conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, h->rbuf, sizeof h->rbuf, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n < 0) {
            closed_early(h, c, errno);
            return;
        }
        if (n == 0) {
            if (hret_h1_parse_eof(&c->parser) == HRET_H1_DONE) {
                c->parser.keep_alive = false;
                answered(h, c);
            } else {
                closed_early(h, c, 0);
            }
            return;
        }
        if (c->first_byte_ms <= 0) {
            c->first_byte_ms = hret_clock_now_ms();
        }
        size_t used = 0;
        enum hret_h1_status s = hret_h1_parse(&c->parser, h->rbuf, (size_t)n, &used);
        if (s == HRET_H1_DONE) {
            if (used < (size_t)n) {
                c->parser.keep_alive = false; /* bytes nobody asked for: not reused */
            }
            answered(h, c);
            return;
        }
        if (s == HRET_H1_TOO_BIG) {
            fail(h, c, HRET_H1_E_TOO_BIG, "response body exceeds the cap");
            return;
        }
        if (s == HRET_H1_BAD) {
            fail(h, c, HRET_H1_E_PROTO, hret_h1_parse_error(&c->parser));
            return;
        }
    }
}

/* Writes what is left of the request; the response is read once it is all out. */
static void flush(struct hret_h1 *h, struct conn *c)
{
    const struct hret_h1_request *r = &c->req;
    while (c->sent < r->head_len + r->body_len) {
        struct iovec iov[2];
        int n = 0;
        if (c->sent < r->head_len) {
            iov[n++] =
                (struct iovec){(void *)(uintptr_t)(r->head + c->sent), r->head_len - c->sent};
        }
        if (r->body_len > 0) {
            size_t off = c->sent > r->head_len ? c->sent - r->head_len : 0;
            iov[n++] = (struct iovec){(void *)(uintptr_t)(r->body + off), r->body_len - off};
        }
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->state = C_SENDING;
            return;
        }
        if (w < 0) {
            closed_early(h, c, errno);
            return;
        }
        c->sent += (size_t)w;
    }
    c->state = C_RECEIVING;
}

/* The socket of c is ready: what that means depends on where the request is. */
static void on_event(struct hret_h1 *h, struct conn *c, uint32_t events)
{
    if (c->state == C_IDLE) { /* a kept-alive connection spoke: the server closed it */
        unlink_conn(&h->origins[c->origin].idle, c);
        conn_close(h, c);
        return;
    }
    if (c->state == C_CONNECTING) {
        int e = 0;
        socklen_t len = sizeof e;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) {
            e = errno;
        }
        if (e != 0) {
            fail_errno(h, c, HRET_H1_E_CONNECT, "cannot connect", e);
            return;
        }
        if (!(events & EPOLLOUT)) {
            return;
        }
        c->state = C_SENDING;
    }
    if (c->state == C_SENDING) {
        flush(h, c);
    }
    if (c->state == C_RECEIVING && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        /* the server's close came with the reply: edge-triggered, it would not be told again
         * while the connection is idle */
        c->peer_closed = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        receive(h, c);
    }
}

void hret_h1_send(struct hret_h1 *h, const struct hret_h1_request *req)
{
    size_t oi = origin_of(h, req->target);
    struct origin *o = &h->origins[oi];
    struct conn *c = o->idle;
    double now = hret_clock_now_ms();
    if (c != NULL) {
        unlink_conn(&o->idle, c);
    } else {
        c = conn_new(h);
        c->origin = oi;
    }
    c->req = *req;
    c->sent = 0;
    c->reused = c->fd >= 0;
    c->peer_closed = false;
    c->first_byte_ms = 0;
    c->sent_ms = now;
    c->deadline_ms = now + (double)req->timeout_ms;
    c->connect_by_ms =
        now + (double)(req->connect_timeout_ms > 0 ? req->connect_timeout_ms : req->timeout_ms);
    hret_buf_reset(req->resp);
    hret_h1_parse_init(&c->parser, req->resp, req->head_only);
    h->nactive++;
    if (h->nactive == 1) {
        h->next_tick = now + HRET_H1_TICK_MS;
    }
    if (!hret_net_allowed(req->policy, o->cls)) {
        c->fail = (struct hret_h1_result){.outcome = HRET_H1_E_REFUSED,
                                          .error = "refused by the network policy",
                                          .refused = o->what,
                                          .refused_private = o->cls == HRET_NET_CLASS_PRIVATE};
        c->state = C_FAILED; /* reported by the next drive; a kept connection is closed then */
        push_conn(&h->failed, c);
        return;
    }
    if (c->fd < 0 && !conn_open(h, c)) {
        c->state = C_FAILED;
        push_conn(&h->failed, c);
        return;
    }
    push_conn(&h->active, c);
    if (c->reused) {
        c->state = C_SENDING;
        flush(h, c); /* a failure here is only ever a resend or a deferred completion */
    }
}

/* Completes the requests past their time. */
static void expire(struct hret_h1 *h, double now)
{
    for (struct conn *c = h->active, *next; c != NULL; c = next) {
        next = c->next;
        if (c->state == C_CONNECTING && now >= c->connect_by_ms) {
            snprintf(c->msg, sizeof c->msg, "connect timed out after %ld ms",
                     c->req.connect_timeout_ms > 0 ? c->req.connect_timeout_ms : c->req.timeout_ms);
            complete(h, c, &(struct hret_h1_result){.outcome = HRET_H1_E_CONNECT, .error = c->msg});
        } else if (now >= c->deadline_ms) {
            fail(h, c, HRET_H1_E_TIMEOUT, "timed out");
        }
    }
}

void hret_h1_drive(struct hret_h1 *h)
{
    while (h->failed != NULL) {
        complete(h, h->failed, &h->failed->fail);
    }
    struct epoll_event events[EVENTS_PER_WAIT];
    int n;
    do {
        n = epoll_wait(h->epfd, events, EVENTS_PER_WAIT, 0);
        for (int i = 0; i < n; i++) {
            on_event(h, events[i].data.ptr, events[i].events);
        }
    } while (n == EVENTS_PER_WAIT);
    double now = hret_clock_now_ms();
    if (now >= h->next_tick) {
        expire(h, now);
        h->next_tick = now + HRET_H1_TICK_MS;
    }
}
