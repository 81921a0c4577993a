/* hret_h1 (the engine's own HTTP/1.1 client) driven directly against a scripted server in this
 * process: a thread on 127.0.0.1:0 that serves one connection at a time, reads each request
 * (head through the empty line, then Content-Length bytes) and answers what the test's script
 * says, byte for byte: keep-alive, chunks with extensions and trailers, a body until the close,
 * a close or a reset instead of an answer, garbage, silence. It injects the transport faults
 * fake-llm cannot, and counts the connections it accepted and the requests it read. */
#include "hret_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hret_buf.h"
#include "hret_clock.h"
#include "hret_h1.h"
#include "hret_mem.h"
#include "hret_script_server.h"

/* ---- scripts ------------------------------------------------------------------------------- */

static void reply(struct hret_buf *out, const char *headers, const char *body)
{
    hret_buf_appendf(out, NULL, "HTTP/1.1 200 OK\r\n%sContent-Length: %zu\r\n\r\n%s", headers,
                     strlen(body), body);
}

/* "c<conn> r<req>", kept alive. */
static enum act numbered(const struct ask *a, struct hret_buf *out)
{
    char body[32];
    snprintf(body, sizeof body, "c%d r%d", a->conn, a->req);
    reply(out, "", body);
    return KEEP;
}

static enum act chunked(const struct ask *a, struct hret_buf *out)
{
    (void)a;
    hret_buf_appendf(out, NULL,
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5;name=value\r\nhello\r\n7\r\n, world\r\n"
                     "0\r\nX-Trailer: t\r\n\r\n");
    return KEEP;
}

static enum act until_close(const struct ask *a, struct hret_buf *out)
{
    hret_buf_appendf(out, NULL, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil %d",
                     a->conn);
    return CLOSE;
}

/* Answers request 1 on the first connection and closes it without saying so. */
static enum act close_after_second(const struct ask *a, struct hret_buf *out)
{
    numbered(a, out);
    return a->conn == 0 && a->req == 1 ? CLOSE : KEEP;
}

/* Reads request 1 on the first connection and closes it without an answer. */
static enum act drop_second(const struct ask *a, struct hret_buf *out)
{
    return a->conn == 0 && a->req == 1 ? CLOSE : numbered(a, out);
}

/* Answers the first request only; closes every other connection after reading one. */
static enum act only_first(const struct ask *a, struct hret_buf *out)
{
    return a->conn == 0 && a->req == 0 ? numbered(a, out) : CLOSE;
}

/* Answers everything; resets the first connection after its first answer. */
static enum act reset_after_first(const struct ask *a, struct hret_buf *out)
{
    numbered(a, out);
    return a->conn == 0 ? RESET : KEEP;
}

/* Request 1 of a connection gets 10 bytes of a 100-byte body and a close. */
static enum act cut_short(const struct ask *a, struct hret_buf *out)
{
    if (a->req == 0) {
        return numbered(a, out);
    }
    hret_buf_appendf(out, NULL, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    return CLOSE;
}

static enum act garbage(const struct ask *a, struct hret_buf *out)
{
    (void)a;
    hret_buf_appendf(out, NULL, "hello\r\n\r\n");
    return KEEP;
}

/* A body of as many bytes as the request body's number says. */
static enum act sized(const struct ask *a, struct hret_buf *out)
{
    char n[16], body[64];
    snprintf(n, sizeof n, "%.*s", (int)a->body_len, a->body);
    snprintf(body, sizeof body, "%.*s", atoi(n), "0123456789abcdefghijklmnopqrstuvwxyz");
    reply(out, "", body);
    return KEEP;
}

/* Reads requests and never answers. */
static enum act silent(const struct ask *a, struct hret_buf *out)
{
    (void)a, (void)out;
    return KEEP;
}

static enum act first_then_silent(const struct ask *a, struct hret_buf *out)
{
    return a->conn == 0 && a->req == 0 ? numbered(a, out) : KEEP;
}

/* The request body back, kept alive. */
static enum act echo(const struct ask *a, struct hret_buf *out)
{
    hret_buf_appendf(out, NULL, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", a->body_len);
    hret_buf_append(out, a->body, a->body_len, NULL);
    return KEEP;
}

/* The request body back, and a close. */
static enum act echo_and_close(const struct ask *a, struct hret_buf *out)
{
    hret_buf_appendf(out, NULL,
                     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%.*s",
                     a->body_len, (int)a->body_len, a->body);
    return CLOSE;
}

/* ---- the client side --------------------------------------------------------------------------
 */

struct call {
    struct hret_h1_request req;
    char head[256];
    char body[64];
    struct hret_buf resp;
    /* what done reported */
    int calls;
    enum hret_h1_outcome outcome;
    int status;
    char error[160];
    bool error_null; /* the header promises "" at least */
    const char *refused;
    bool refused_private;
    double sent_ms, done_ms;
};

static int finished;     /* done calls since the test began */
static bool in_send;     /* hret_h1_send is running */
static int done_in_send; /* done calls made from inside hret_h1_send: must stay 0 */

static void on_done(void *user, const struct hret_h1_result *r)
{
    struct call *c = user;
    done_in_send += in_send;
    finished++;
    c->calls++;
    c->outcome = r->outcome;
    c->status = r->status;
    c->error_null = r->error == NULL;
    snprintf(c->error, sizeof c->error, "%s", r->error != NULL ? r->error : "");
    c->refused = r->refused;
    c->refused_private = r->refused_private;
    c->done_ms = hret_clock_now_ms();
}

static struct hret_h1 *client(void)
{
    finished = done_in_send = 0;
    struct hret_h1 *h = hret_h1_new(on_done, NULL);
    assert_non_null(h);
    return h;
}

static void call_init(struct call *c, const struct hret_h1_target *t, const char *body, size_t cap)
{
    memset(c, 0, sizeof *c);
    snprintf(c->body, sizeof c->body, "%s", body);
    snprintf(c->head, sizeof c->head,
             "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\n"
             "Content-Length: %zu\r\n\r\n",
             t->path, t->authority, strlen(c->body));
    hret_buf_init(&c->resp, cap);
    c->req = (struct hret_h1_request){.target = t,
                                      .head = c->head,
                                      .head_len = strlen(c->head),
                                      .body = c->body,
                                      .body_len = strlen(c->body),
                                      .resp = &c->resp,
                                      .timeout_ms = (long)WAIT_MS,
                                      .policy = HRET_NET_ANY,
                                      .user = c};
}

/* A body of len bytes at body (borrowed until done) instead of the copied one. */
static void set_body(struct call *c, const char *body, size_t len)
{
    snprintf(c->head, sizeof c->head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n\r\n",
             c->req.target->path, c->req.target->authority, len);
    c->req.head_len = strlen(c->head);
    c->req.body = body;
    c->req.body_len = len;
}

/* Sends c; done must not have been called by the time hret_h1_send returns. */
static void start(struct hret_h1 *h, struct call *c)
{
    c->sent_ms = hret_clock_now_ms();
    in_send = true;
    hret_h1_send(h, &c->req);
    in_send = false;
    assert_int_equal(c->calls, 0);
}

/* Drives h, waiting on its descriptor, until done was called `want` times in all. */
static void drive_until(struct hret_h1 *h, int want)
{
    double end = hret_clock_now_ms() + WAIT_MS;
    while (finished < want) {
        double now = hret_clock_now_ms();
        assert_true(now < end);
        double wait = fmin(hret_h1_next_ms(h), end) - now;
        struct pollfd p = {.fd = hret_h1_fd(h), .events = POLLIN};
        poll(&p, 1, wait > 0 ? (int)ceil(wait) : 0);
        hret_h1_drive(h);
    }
    assert_int_equal(finished, want);
}

/* One request to completion. */
static void round_trip(struct hret_h1 *h, struct call *c)
{
    start(h, c);
    drive_until(h, finished + 1);
    assert_int_equal(c->calls, 1);
}

static void assert_ok(const struct call *c, const char *body)
{
    assert_int_equal(c->outcome, HRET_H1_OK);
    assert_int_equal(c->status, 200);
    assert_int_equal(c->resp.len, strlen(body));
    assert_memory_equal(hret_buf_str(&c->resp), body, strlen(body));
}

static void assert_failed(const struct call *c, enum hret_h1_outcome outcome)
{
    assert_int_equal(c->outcome, outcome);
    assert_int_equal(c->status, 0);
    assert_false(c->error_null);
    assert_true(c->error[0] != '\0');
}

static void call_fini(struct call *c, int n)
{
    for (int i = 0; i < n; i++) {
        hret_buf_fini(&c[i].resp);
    }
}

/* ---- tests ------------------------------------------------------------------------------------
 */

enum { CALLS = 6 };

/* A scripted server, a client, and CALLS requests to the server (body "q", a 1 KB cap). */
struct fx {
    struct server s;
    struct hret_h1 *h;
    struct call c[CALLS];
};

static void fx_start(struct fx *f, answer_fn *answer)
{
    server_start(&f->s, answer);
    f->h = client();
    for (int i = 0; i < CALLS; i++) {
        call_init(&f->c[i], &f->s.target, "q", 1024);
    }
}

/* Ends the client, then the server: its counts are final, and are checked. */
static void fx_stop(struct fx *f, int accepted, int requests)
{
    hret_h1_destroy(f->h);
    server_stop(&f->s);
    call_fini(f->c, CALLS);
    assert_int_equal(f->s.accepted, accepted);
    assert_int_equal(f->s.requests, requests);
}

static void test_h1_keep_alive_reuses_one_connection(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, numbered);
    for (int i = 0; i < 5; i++) {
        char body[16], want[16];
        snprintf(body, sizeof body, "question %d", i);
        snprintf(want, sizeof want, "c0 r%d", i);
        call_init(&f.c[i], &f.s.target, body, 1024);
        round_trip(f.h, &f.c[i]);
        assert_ok(&f.c[i], want);
    }
    assert_int_equal(hret_h1_active(f.h), 0);
    fx_stop(&f, 1, 5);
    char sent[512];
    snprintf(sent, sizeof sent,
             "POST /v1/x HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\n"
             "Content-Length: 10\r\n\r\nquestion 0",
             f.s.target.authority);
    assert_string_equal(f.s.first, sent); /* head and body as given, byte for byte */
    assert_int_equal(f.c[0].req.head_len + f.c[0].req.body_len, strlen(sent));
}

static void test_h1_chunked_body_is_dechunked(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, chunked);
    for (int i = 0; i < 2; i++) {
        round_trip(f.h, &f.c[i]);
        assert_ok(&f.c[i], "hello, world");
    }
    fx_stop(&f, 1, 2); /* the trailer's empty line ended the response: the connection was kept */
}

static void test_h1_body_until_close(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, until_close);
    round_trip(f.h, &f.c[0]);
    assert_ok(&f.c[0], "until 0");
    round_trip(f.h, &f.c[1]);
    assert_ok(&f.c[1], "until 1"); /* on a new connection */
    fx_stop(&f, 2, 2);
}

/* The server answers on the kept connection and closes it; the client reads the answer, not yet
 * the close, when the next request goes out on it: that request is sent again on a new one. */
static void test_h1_stale_connection_resends(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, close_after_second);
    call_init(&f.c[2], &f.s.target, "third", 1024);
    round_trip(f.h, &f.c[0]);
    start(f.h, &f.c[1]);        /* on the kept connection: written by hret_h1_send itself */
    wait_count(&f.s.closed, 1); /* answered and closed before the client reads a byte */
    drive_until(f.h, 2);
    assert_ok(&f.c[1], "c0 r1");
    round_trip(f.h, &f.c[2]);
    assert_ok(&f.c[2], "c1 r0");
    fx_stop(&f, 2, 3);
    char sent[512];
    snprintf(sent, sizeof sent, "%s%s", f.c[2].head, f.c[2].body);
    assert_string_equal(f.s.last, sent);
}

/* The server reads the request on the kept connection and closes it without an answer. */
static void test_h1_closed_after_reading_resends_once(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, drop_second);
    call_init(&f.c[1], &f.s.target, "second", 1024);
    round_trip(f.h, &f.c[0]);
    round_trip(f.h, &f.c[1]);
    assert_ok(&f.c[1], "c1 r0"); /* answered by the new connection */
    fx_stop(&f, 2, 3);
    char sent[512];
    snprintf(sent, sizeof sent, "%s%s", f.c[1].head, f.c[1].body);
    assert_string_equal(f.s.last, sent);
}

static void test_h1_always_closed_fails_after_one_resend(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, only_first);
    round_trip(f.h, &f.c[0]);
    assert_ok(&f.c[0], "c0 r0");
    round_trip(f.h, &f.c[1]); /* kept, closed; sent again on a new one, closed again */
    assert_failed(&f.c[1], HRET_H1_E_CLOSED);
    assert_int_equal(f.s.accepted, 2);
    round_trip(f.h, &f.c[2]); /* a new connection closed without an answer: not sent again */
    assert_failed(&f.c[2], HRET_H1_E_CLOSED);
    fx_stop(&f, 3, 4);
}

/* A response cut short is never sent again, on a kept connection either. */
static void test_h1_response_cut_short(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, cut_short);
    round_trip(f.h, &f.c[0]);
    assert_ok(&f.c[0], "c0 r0");
    round_trip(f.h, &f.c[1]);
    assert_failed(&f.c[1], HRET_H1_E_CLOSED);
    fx_stop(&f, 1, 2);
}

/* A 3 MB request and its 3 MB echo: written as the socket takes them, read through the shared
 * 64 KB buffer; twice, on one connection. */
static void test_h1_large_bodies(void **state)
{
    (void)state;
    enum { LEN = 3 << 20 };
    char *big = hret_xmalloc(LEN);
    for (size_t i = 0; i < LEN; i++) {
        big[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    }
    struct fx f;
    fx_start(&f, echo);
    for (int i = 0; i < 2; i++) {
        call_init(&f.c[i], &f.s.target, "", LEN);
        set_body(&f.c[i], big, LEN);
        round_trip(f.h, &f.c[i]);
        assert_int_equal(f.c[i].outcome, HRET_H1_OK);
        assert_int_equal(f.c[i].resp.len, LEN);
        assert_memory_equal(f.c[i].resp.data, big, LEN);
    }
    fx_stop(&f, 1, 2);
    free(big);
}

static void test_h1_garbage_is_a_protocol_error(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, garbage);
    round_trip(f.h, &f.c[0]);
    assert_failed(&f.c[0], HRET_H1_E_PROTO);
    fx_stop(&f, 1, 1);
}

static void test_h1_body_cap(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, sized);
    call_init(&f.c[0], &f.s.target, "17", 16);
    call_init(&f.c[1], &f.s.target, "16", 16);
    round_trip(f.h, &f.c[0]);
    assert_failed(&f.c[0], HRET_H1_E_TOO_BIG);
    round_trip(f.h, &f.c[1]);
    assert_ok(&f.c[1], "0123456789abcdef");
    fx_stop(&f, 2, 2); /* the connection with the unread rest was not kept */
}

static void test_h1_timeout(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, silent);
    f.c[0].req.timeout_ms = 300;
    round_trip(f.h, &f.c[0]);
    assert_failed(&f.c[0], HRET_H1_E_TIMEOUT);
    double took = f.c[0].done_ms - f.c[0].sent_ms;
    if (took < 250 || took > 2000) {
        fail_msg("timed out after %.0f ms, not about 300", took);
    }
    assert_int_equal(hret_h1_active(f.h), 0);
    wait_count(&f.s.requests, 1); /* it was sent, and never answered */
    fx_stop(&f, 1, 1);
}

/* A loopback port with nothing listening on it. */
static void closed_port_target(struct hret_h1_target *t)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    static char url[64]; /* t->path points into it */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    assert_true(hret_h1_target(url, t));
}

static void test_h1_connect_refused(void **state)
{
    (void)state;
    struct hret_h1_target t;
    closed_port_target(&t);
    struct hret_h1 *h = client();
    struct call c;
    call_init(&c, &t, "q", 1024);
    round_trip(h, &c);
    assert_failed(&c, HRET_H1_E_CONNECT);
    assert_non_null(strstr(c.error, "refused"));
    hret_h1_destroy(h);
    call_fini(&c, 1);
}

static void test_h1_network_policy(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, numbered);
    f.c[0].req.policy = HRET_NET_PUBLIC;
    round_trip(f.h, &f.c[0]);
    assert_failed(&f.c[0], HRET_H1_E_REFUSED);
    assert_string_equal(f.c[0].refused, "loopback");
    assert_true(f.c[0].refused_private);
    f.c[1].req.policy = HRET_NET_PRIVATE_OK;
    round_trip(f.h, &f.c[1]);
    assert_ok(&f.c[1], "c0 r0");
    f.c[2].req.policy = HRET_NET_PUBLIC; /* a kept connection is checked too */
    round_trip(f.h, &f.c[2]);
    assert_failed(&f.c[2], HRET_H1_E_REFUSED);
    fx_stop(&f, 1, 1); /* the allowed request's connection only */
}

/* done comes from hret_h1_drive only: for a new connection, a kept one, a kept one the server
 * reset (written to and failed inside hret_h1_send, sent again), a refused address and a
 * refused connection. start() checks each right after hret_h1_send returns. */
static void test_h1_done_never_from_send(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, reset_after_first);
    struct hret_h1_target closed;
    closed_port_target(&closed);
    call_init(&f.c[4], &closed, "q", 1024);
    f.c[3].req.policy = HRET_NET_PUBLIC;
    round_trip(f.h, &f.c[0]);
    assert_ok(&f.c[0], "c0 r0");
    wait_count(&f.s.closed, 1); /* reset while kept, before the next request */
    round_trip(f.h, &f.c[1]);
    assert_ok(&f.c[1], "c1 r0");
    round_trip(f.h, &f.c[2]);
    assert_ok(&f.c[2], "c1 r1");
    round_trip(f.h, &f.c[3]);
    assert_failed(&f.c[3], HRET_H1_E_REFUSED);
    round_trip(f.h, &f.c[4]);
    assert_failed(&f.c[4], HRET_H1_E_CONNECT);
    assert_int_equal(done_in_send, 0);
    fx_stop(&f, 2, 3);
}

/* The same when the resend cannot even open a socket: a kept connection the server reset fails
 * when hret_h1_send writes to it, and no descriptor is left for the new connection (the limit is
 * lowered for the duration of the send). */
static void test_h1_done_never_from_send_when_resend_fails(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, reset_after_first);
    round_trip(f.h, &f.c[0]);
    assert_ok(&f.c[0], "c0 r0");
    wait_count(&f.s.closed, 1);
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    struct rlimit none = {.rlim_cur = 0, .rlim_max = old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
    in_send = true;
    hret_h1_send(f.h, &f.c[1].req);
    in_send = false;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    int early = f.c[1].calls;
    drive_until(f.h, 2);
    fx_stop(&f, 1, 1);
    if (early != 0) {
        fail_msg("done was called from inside hret_h1_send (%s)", f.c[1].error);
    }
    assert_int_equal(f.c[1].outcome, HRET_H1_E_CONNECT);
}

/* hret_h1.h: error is "" or a message, never NULL (a body by Content-Length, and until close). */
static void test_h1_ok_error_is_empty_string(void **state)
{
    (void)state;
    answer_fn *scripts[] = {numbered, until_close};
    const char *null_for = NULL;
    for (int i = 0; i < 2; i++) {
        struct fx f;
        fx_start(&f, scripts[i]);
        round_trip(f.h, &f.c[0]);
        assert_int_equal(f.c[0].outcome, HRET_H1_OK);
        if (f.c[0].error_null && null_for == NULL) {
            null_for = i == 0 ? "Content-Length" : "until close";
        }
        fx_stop(&f, 1, 1);
    }
    if (null_for != NULL) {
        fail_msg("HRET_H1_OK with error NULL (a body by %s)", null_for);
    }
}

static void test_h1_target_parsing(void **state)
{
    (void)state;
    struct hret_h1_target t;
    const struct sockaddr_in *v4 = (const void *)t.addr;
    const struct sockaddr_in6 *v6 = (const void *)t.addr;
    assert_true(hret_h1_target("http://127.0.0.1:8080/v1/x", &t));
    assert_string_equal(t.authority, "127.0.0.1:8080");
    assert_string_equal(t.path, "/v1/x");
    assert_int_equal(v4->sin_family, AF_INET);
    assert_int_equal(ntohs(v4->sin_port), 8080);
    assert_int_equal(ntohl(v4->sin_addr.s_addr), 0x7f000001);
    assert_true(hret_h1_target("http://10.0.0.1", &t));
    assert_string_equal(t.authority, "10.0.0.1");
    assert_string_equal(t.path, "/");
    assert_int_equal(ntohs(v4->sin_port), 80);
    assert_int_equal(t.addr_len, sizeof *v4);
    assert_true(hret_h1_target("http://[::1]:9/p", &t));
    assert_string_equal(t.authority, "[::1]:9");
    assert_string_equal(t.path, "/p");
    assert_int_equal(v6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(v6->sin6_port), 9);
    assert_int_equal(t.addr_len, sizeof *v6);
    static const char *const bad[] = {
        "https://127.0.0.1/",    "http://localhost:8000/",  "http://user@127.0.0.1/",
        "http://127.0.0.1:0/",   "http://127.0.0.1:99999/", "http://[::1/",
        "http://127.0.0.1:80x/", "http://127.0.0.1:/",      "http://[::1]x/",
        "http://127.0.0.1?q=1",  "http://999.0.0.1/",       "http://[127.0.0.1]/",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (hret_h1_target(bad[i], &t)) {
            fail_msg("accepted %s", bad[i]);
        }
    }
}

/* URLs libcurl refuses as malformed are not taken here either (the engine then hands them to
 * libcurl, which says so): a port that is not just digits (strtol's blanks and sign would reach
 * the Host header verbatim) and whitespace or control bytes in the path (the request line). */
static void test_h1_target_rejects_what_libcurl_rejects(void **state)
{
    (void)state;
    struct hret_h1_target t;
    static const char *const bad[] = {"http://127.0.0.1: 80/", "http://127.0.0.1:+80/",
                                      "http://127.0.0.1:\r\n80/", "http://127.0.0.1/v1 x",
                                      "http://127.0.0.1/v1\r\nX-Injected: 1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (hret_h1_target(bad[i], &t)) {
            fail_msg("accepted \"%s\" (authority \"%s\", path \"%s\")", bad[i], t.authority,
                     t.path);
        }
    }
}

static void test_h1_many_in_flight(void **state)
{
    (void)state;
    enum { N = 300 };
    struct server s;
    server_start(&s, echo_and_close);
    struct hret_h1 *h = client();
    struct call *c = hret_xcalloc(N, sizeof *c);
    for (int i = 0; i < N; i++) {
        char body[32];
        snprintf(body, sizeof body, "request %d", i);
        call_init(&c[i], &s.target, body, 1024);
        start(h, &c[i]);
    }
    assert_int_equal(hret_h1_active(h), N);
    drive_until(h, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_ok(&c[i], c[i].body);
    }
    assert_int_equal(hret_h1_active(h), 0);
    assert_true(isinf(hret_h1_next_ms(h)));
    hret_h1_destroy(h);
    server_stop(&s);
    assert_int_equal(s.accepted, N);
    assert_int_equal(s.requests, N);
    call_fini(c, N);
    free(c);
}

/* Requests out (one written and unanswered, one connecting, one refused and not yet reported)
 * and a kept connection to another server: destroy frees them all and reports none. */
static void test_h1_destroy_with_requests_out(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, first_then_silent);
    struct server kept;
    server_start(&kept, numbered);
    call_init(&f.c[4], &kept.target, "q", 1024);
    f.c[3].req.policy = HRET_NET_PUBLIC;
    round_trip(f.h, &f.c[0]);
    round_trip(f.h, &f.c[4]);
    assert_ok(&f.c[4], "c0 r0");
    start(f.h, &f.c[1]); /* the kept connection: read, never answered */
    start(f.h, &f.c[2]); /* a new connection the server never reads */
    start(f.h, &f.c[3]);
    wait_count(&f.s.requests, 2);
    assert_int_equal(hret_h1_active(f.h), 3);
    fx_stop(&f, 2, 2);
    assert_int_equal(finished, 2);
    assert_int_equal(f.c[1].calls + f.c[2].calls + f.c[3].calls, 0);
    server_stop(&kept);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h1_keep_alive_reuses_one_connection),
        cmocka_unit_test(test_h1_chunked_body_is_dechunked),
        cmocka_unit_test(test_h1_body_until_close),
        cmocka_unit_test(test_h1_stale_connection_resends),
        cmocka_unit_test(test_h1_closed_after_reading_resends_once),
        cmocka_unit_test(test_h1_always_closed_fails_after_one_resend),
        cmocka_unit_test(test_h1_response_cut_short),
        cmocka_unit_test(test_h1_large_bodies),
        cmocka_unit_test(test_h1_garbage_is_a_protocol_error),
        cmocka_unit_test(test_h1_body_cap),
        cmocka_unit_test(test_h1_timeout),
        cmocka_unit_test(test_h1_connect_refused),
        cmocka_unit_test(test_h1_network_policy),
        cmocka_unit_test(test_h1_done_never_from_send),
        cmocka_unit_test(test_h1_done_never_from_send_when_resend_fails),
        cmocka_unit_test(test_h1_ok_error_is_empty_string),
        cmocka_unit_test(test_h1_target_parsing),
        cmocka_unit_test(test_h1_target_rejects_what_libcurl_rejects),
        cmocka_unit_test(test_h1_many_in_flight),
        cmocka_unit_test(test_h1_destroy_with_requests_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
