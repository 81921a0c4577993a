/* A scripted HTTP server in a thread, for the transport tests (integration.h1): it accepts
 * connections on 127.0.0.1:0 one at a time, reads each request (head and Content-Length body)
 * and lets the test's answer function say what to write and whether to keep, close or reset the
 * connection; it counts what it accepted and read. A fault injector for the edge cases fake-llm
 * cannot produce. Header-only: static functions for one test file. */
#ifndef HRET_SCRIPT_SERVER_H
#define HRET_SCRIPT_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hret_buf.h"
#include "hret_clock.h"
#include "hret_h1.h"

#ifndef WAIT_MS
#define WAIT_MS 10000.0 /* the bound on every wait for an event; a test fails past it */
#endif

enum act { KEEP, CLOSE, RESET }; /* after writing the answer: read the next request, or not */

/* A request as the script sees it: req (0-based) on connection conn (0-based, accept order). */
struct ask {
    int conn, req;
    const char *body;
    size_t body_len;
};

/* Writes the answer (if any) to out. */
typedef enum act answer_fn(const struct ask *a, struct hret_buf *out);

struct server {
    int lfd, stop[2];
    answer_fn *answer;
    pthread_t thread;
    atomic_int accepted, requests, closed;
    char first[1024], last[1024]; /* the first and the last request read, NUL-terminated */
    char url[64];
    struct hret_h1_target target; /* borrows url */
};

/* A connection's unread bytes. */
struct peer {
    int fd;
    size_t len;
    char buf[4 << 20]; /* a request of up to 4 MB */
};

/* Waits until fd is readable; false when the server is told to stop. */
static bool wait_readable(struct server *s, int fd)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
    while (poll(p, 2, -1) < 0 && errno == EINTR) {
    }
    return p[1].revents == 0;
}

static size_t content_length(const char *head)
{
    for (const char *l = strstr(head, "\r\n"); l != NULL; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "content-length:", 15) == 0) {
            return (size_t)strtoul(l + 17, NULL, 10);
        }
    }
    return 0;
}

/* Reads one request to the start of p->buf: its length (head and body), 0 when the client
 * closed or the server stops. *head_len: the head's, through the empty line. */
static size_t read_request(struct server *s, struct peer *p, size_t *head_len)
{
    for (;;) {
        p->buf[p->len] = '\0';
        const char *end = strstr(p->buf, "\r\n\r\n");
        if (end != NULL) {
            *head_len = (size_t)(end + 4 - p->buf);
            size_t total = *head_len + content_length(p->buf);
            if (p->len >= total) {
                return total;
            }
        }
        if (p->len + 1 >= sizeof p->buf || !wait_readable(s, p->fd)) {
            return 0;
        }
        ssize_t n = recv(p->fd, p->buf + p->len, sizeof p->buf - 1 - p->len, 0);
        if (n <= 0) {
            return 0;
        }
        p->len += (size_t)n;
    }
}

static void serve(struct server *s, int conn, struct peer *p)
{
    enum act a = KEEP;
    for (int req = 0; a == KEEP; req++) {
        size_t head_len = 0;
        size_t n = read_request(s, p, &head_len);
        if (n == 0) {
            break;
        }
        if (atomic_fetch_add(&s->requests, 1) == 0) {
            snprintf(s->first, sizeof s->first, "%.*s", (int)n, p->buf);
        }
        snprintf(s->last, sizeof s->last, "%.*s", (int)n, p->buf);
        struct hret_buf out;
        hret_buf_init(&out, sizeof p->buf + 256);
        struct ask ask = {conn, req, p->buf + head_len, n - head_len};
        a = s->answer(&ask, &out);
        if (out.len > 0 && send(p->fd, out.data, out.len, MSG_NOSIGNAL) != (ssize_t)out.len) {
            a = CLOSE; /* the client is gone (or a test failed) */
        }
        hret_buf_fini(&out);
        memmove(p->buf, p->buf + n, p->len - n);
        p->len -= n;
    }
    if (a == RESET) { /* close with an RST instead of a FIN */
        struct linger now = {.l_onoff = 1, .l_linger = 0};
        setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    }
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    struct peer *p = hret_xmalloc(sizeof *p);
    while (wait_readable(s, s->lfd)) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        int conn = atomic_fetch_add(&s->accepted, 1);
        p->fd = fd;
        p->len = 0;
        serve(s, conn, p);
        close(fd);
        atomic_fetch_add(&s->closed, 1);
    }
    free(p);
    return NULL;
}

static void server_start(struct server *s, answer_fn *answer)
{
    memset(s, 0, sizeof *s);
    s->answer = answer;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 1024), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/v1/x", ntohs(a.sin_port));
    assert_true(hret_h1_target(s->url, &s->target));
    assert_int_equal(pipe(s->stop), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

/* Stops the thread; connections still waiting in the backlog count as accepted. */
static void server_stop(struct server *s)
{
    assert_int_equal(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    for (int fd; (fd = accept(s->lfd, NULL, NULL)) >= 0;) {
        atomic_fetch_add(&s->accepted, 1);
        close(fd);
    }
    close(s->lfd);
    close(s->stop[0]);
    close(s->stop[1]);
}

/* Polls (a condition in the server thread) until *v reaches want; fails past WAIT_MS. */
static void wait_count(atomic_int *v, int want)
{
    double end = hret_clock_now_ms() + WAIT_MS;
    while (atomic_load(v) < want) {
        assert_true(hret_clock_now_ms() < end);
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

#endif
