#include "hret_test.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "hret_h1_parse.h"

/* What parsing one input gave. */
struct run {
    enum hret_h1_status st;
    int status;
    bool keep_alive, started;
    double retry_after_ms;
    size_t used;
    char body[256];
    size_t body_len;
    const char *error;
};

/* Feeds text in pieces of step bytes (0: all at once) until the parser stops asking for more;
 * then, if eof, tells it the server closed. */
static struct run feed(const char *text, size_t len, size_t step, bool head_only, size_t cap,
                       bool eof)
{
    struct run r = {.st = HRET_H1_MORE};
    struct hret_buf body;
    hret_buf_init(&body, cap);
    struct hret_h1_parser p;
    hret_h1_parse_init(&p, &body, head_only);
    assert_false(hret_h1_parse_started(&p));
    while (r.st == HRET_H1_MORE && r.used < len) {
        size_t n = step == 0 || len - r.used < step ? len - r.used : step;
        size_t used = n + 1;
        r.st = hret_h1_parse(&p, text + r.used, n, &used);
        assert_true(used <= n);
        assert_true(r.st != HRET_H1_MORE || used == n);
        r.used += used;
    }
    if (eof && r.st == HRET_H1_MORE) {
        r.st = hret_h1_parse_eof(&p);
    }
    r.status = p.status;
    r.keep_alive = p.keep_alive;
    r.started = hret_h1_parse_started(&p);
    r.retry_after_ms = p.retry_after_ms;
    r.error = r.st == HRET_H1_BAD || r.st == HRET_H1_TOO_BIG ? hret_h1_parse_error(&p) : NULL;
    assert_true(body.len < sizeof r.body);
    memcpy(r.body, hret_buf_str(&body), body.len);
    r.body_len = body.len;
    hret_buf_fini(&body);
    return r;
}

/* The result of parsing text whole, checked to be the same fed 1, 2, 3 and 7 bytes at a time. */
static struct run parse_cap(const char *text, bool head_only, size_t cap, bool eof)
{
    size_t len = strlen(text);
    struct run whole = feed(text, len, 0, head_only, cap, eof);
    static const size_t steps[] = {1, 2, 3, 7};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct run r = feed(text, len, steps[i], head_only, cap, eof);
        assert_int_equal(r.st, whole.st);
        assert_int_equal(r.status, whole.status);
        assert_int_equal(r.keep_alive, whole.keep_alive);
        assert_int_equal(r.started, whole.started);
        assert_true(fabs(r.retry_after_ms - whole.retry_after_ms) <= 1000); /* a date vs now */
        assert_int_equal(r.used, whole.used);
        assert_int_equal(r.body_len, whole.body_len);
        assert_memory_equal(r.body, whole.body, r.body_len);
        assert_ptr_equal(r.error, whole.error);
    }
    return whole;
}

static struct run parse(const char *text, bool eof)
{
    return parse_cap(text, false, 200, eof);
}

static void assert_body(const struct run *r, const char *body)
{
    assert_int_equal(r->body_len, strlen(body));
    assert_memory_equal(r->body, body, r->body_len);
}

static void test_h1_content_length(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length:  5 \r\n\r\n"
                       "helloHTTP/1.1";
    struct run r = parse(text, false);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_int_equal(r.status, 200);
    assert_true(r.keep_alive);
    assert_body(&r, "hello");
    assert_int_equal(r.used, strlen(text) - strlen("HTTP/1.1"));
    assert_true(r.retry_after_ms < 0);
    /* bare LF line ends, an empty reason, a zero-length body, the same value twice */
    r = parse("HTTP/1.1 404 \nContent-Length: 0\nContent-Length: 0\n\n", false);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body_len, 0);
    r = parse("HTTP/1.1 500\r\nContent-Length: 2\r\n\r\nok", false);
    assert_int_equal(r.status, 500);
    assert_body(&r, "ok");
}

static void test_h1_chunked(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                       "5;name=value\r\nhello\r\nA ; x=\"y\"\r\n world and\r\n1\nx\n"
                       "0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\nNEXT";
    struct run r = parse(text, false);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_body(&r, "hello world andx");
    assert_true(r.keep_alive);
    assert_int_equal(r.used, strlen(text) - 4);
    /* chunked wins over Content-Length, and the connection is not reused (RFC 9112 6.3) */
    r = parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
              "4\r\nabcd\r\n0\r\n\r\n",
              false);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_body(&r, "abcd");
    assert_false(r.keep_alive);
    r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_int_equal(r.body_len, 0);
}

static void test_h1_body_until_close(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome body";
    struct run r = parse(text, false);
    assert_int_equal(r.st, HRET_H1_MORE);
    assert_int_equal(r.used, strlen(text));
    r = parse(text, true);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_body(&r, "some body");
    assert_false(r.keep_alive);
    r = parse("HTTP/1.1 200 OK\r\n\r\n", true);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_int_equal(r.body_len, 0);
}

static void test_h1_interim_responses_skipped(void **state)
{
    (void)state;
    struct run r = parse("HTTP/1.1 100 Continue\r\nContent-Length: 9\r\nretry-after-ms: 5\r\n\r\n"
                         "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                         false);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_int_equal(r.status, 200);
    assert_body(&r, "ok");
    assert_true(r.retry_after_ms < 0);
    r = parse("HTTP/1.1 100 Continue\r\n\r\n", true);
    assert_int_equal(r.st, HRET_H1_BAD);
    assert_string_equal(r.error, "connection closed before the response was complete");
}

static void test_h1_no_body(void **state)
{
    (void)state;
    const char *heads[] = {
        "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (size_t i = 0; i < 2; i++) {
        char text[256];
        snprintf(text, sizeof text, "%shello", heads[i]);
        struct run r = parse(text, false);
        assert_int_equal(r.st, HRET_H1_DONE);
        assert_int_equal(r.used, strlen(heads[i]));
        assert_int_equal(r.body_len, 0);
    }
    const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    struct run r = parse_cap(text, true, 200, false);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_int_equal(r.used, strlen(text));
    assert_true(r.keep_alive);
    r = parse_cap("HTTP/1.1 200 OK\r\n\r\n", true, 200, false);
    assert_int_equal(r.st, HRET_H1_DONE);
}

static void test_h1_keep_alive(void **state)
{
    (void)state;
    static const struct {
        const char *head;
        bool keep_alive;
    } cases[] = {
        {"HTTP/1.0 200 OK\r\n", false},
        {"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n", true},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n", false},
        {"HTTP/1.1 200 OK\r\n", true},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\n", false},
        {"HTTP/1.1 200 OK\r\nConnection: Upgrade,  CLOSE \r\n", false},
        {"HTTP/1.1 200 OK\r\nConnection: closed\r\n", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "%sContent-Length: 2\r\n\r\nok", cases[i].head);
        struct run r = parse(text, false);
        assert_int_equal(r.st, HRET_H1_DONE);
        assert_body(&r, "ok");
        assert_int_equal(r.keep_alive, cases[i].keep_alive);
    }
}

static double retry_after(const char *headers)
{
    char text[512];
    snprintf(text, sizeof text, "HTTP/1.1 429 Too Many Requests\r\n%sContent-Length: 0\r\n\r\n",
             headers);
    struct run r = parse(text, false);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_int_equal(r.status, 429);
    return r.retry_after_ms;
}

static void test_h1_retry_after(void **state)
{
    (void)state;
    assert_true(retry_after("retry-after-ms: 1500.5\r\n") == 1500.5);
    assert_true(retry_after("Retry-After: 7\r\n") == 7000);
    assert_true(retry_after("Retry-After: 7\r\nRetry-After-Ms: 250\r\n") == 250);
    assert_true(retry_after("retry-after-ms: 250\r\nRetry-After: 7\r\n") == 250);
    assert_true(retry_after("retry-after-ms: -5\r\nRetry-After: 7\r\n") == 7000);
    assert_true(retry_after("retry-after-ms: 1e3\r\n") < 0);
    assert_true(retry_after("retry-after-ms: 1.\r\n") < 0);
    assert_true(retry_after("Retry-After: soon\r\n") < 0);
    assert_true(retry_after("Retry-After: 5s\r\n") < 0);
    assert_true(retry_after("Retry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n") == 0);
    char line[128];
    time_t at = time(NULL) + 30;
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(line, sizeof line, "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    double ms = retry_after(line);
    assert_true(ms >= 25000 && ms <= 31000);
}

static void test_h1_bad(void **state)
{
    (void)state;
    char huge[HRET_H1_HEAD_MAX + 64], trailer[HRET_H1_HEAD_MAX + 128], long_cl[512];
    snprintf(huge, sizeof huge, "HTTP/1.1 200 OK\r\nX: %0*d\r\n", HRET_H1_HEAD_MAX - 20, 0);
    snprintf(trailer, sizeof trailer,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: %0*d\r\n",
             HRET_H1_HEAD_MAX - 40, 0);
    snprintf(long_cl, sizeof long_cl, "HTTP/1.1 200 OK\r\nContent-Length: %0300d\r\n", 2);
    const struct {
        const char *text, *error;
    } cases[] = {
        {"HTTP/2 200 OK\r\n", "malformed status line"},
        {"HTTP/1.1 20 OK\r\n", "malformed status line"},
        {"HTTP/1.1 2000 OK\r\n", "malformed status line"},
        {"http/1.1 200 OK\r\n", "malformed status line"},
        {"HTTP/1.1 099 Low\r\n", "status code out of range"},
        {"HTTP/1.1 600 High\r\n", "status code out of range"},
        {"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101 Switching Protocols"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n", "malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n", "malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length:\r\n", "malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n", "malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n", "malformed Content-Length"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n",
         "conflicting Content-Length"},
        {long_cl, "header too long"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "other than chunked"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "other than chunked"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
         "other than chunked"},
        {"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n", "obsolete header line folding"},
        {"HTTP/1.1 200 OK\r\nNoColon\r\n", "without a name and ':'"},
        {"HTTP/1.1 200 OK\r\n: empty name\r\n", "without a name and ':'"},
        {"HTTP/1.1 200 OK\r\nBad Name: x\r\n", "malformed header name"},
        {"HTTP/1.1 200 OK\r\nX: a\rb\r\n", "bare CR"},
        {"HTTP/1.1 200 OK\r\r\n", "bare CR"},
        {huge, "response headers too large"},
        {trailer, "response headers too large"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\n", "malformed chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "malformed chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4000000000000001\r\n",
         "malformed chunk size"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "1;xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
         "chunk size line too long"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n",
         "chunk data not followed by CRLF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r = parse(cases[i].text, false);
        if (r.st != HRET_H1_BAD || strstr(r.error, cases[i].error) == NULL) {
            fail_msg("case %zu: status %d, error %s", i, r.st, r.error ? r.error : "none");
        }
    }
    /* a NUL byte cannot go through the strings above */
    static const char nul[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n";
    struct run r = feed(nul, sizeof nul - 1, 0, false, 200, false);
    assert_int_equal(r.st, HRET_H1_BAD);
    assert_non_null(strstr(r.error, "NUL"));
}

static void test_h1_long_header_lines(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof text, "HTTP/1.1 200 OK\r\nX-Long: %01000d\r\nContent-Length: 2\r\n\r\nok",
             7);
    struct run r = parse(text, false);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_body(&r, "ok");
    snprintf(text, sizeof text, "HTTP/1.1 200 %01000d\r\nretry-after-ms: %0400d\r\n\r\n", 1, 1);
    r = parse(text, true);
    assert_int_equal(r.st, HRET_H1_DONE);
    assert_true(r.retry_after_ms < 0); /* too long to read: ignored */
}

static void test_h1_body_cap(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum hret_h1_status st;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", HRET_H1_DONE},
        {"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n0123456789a", HRET_H1_TOO_BIG},
        {"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n0123456789a", HRET_H1_TOO_BIG},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: "
         "chunked\r\n\r\n6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n",
         HRET_H1_DONE},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n6789a\r\n",
         HRET_H1_TOO_BIG},
        {"HTTP/1.1 200 OK\r\n\r\n0123456789", HRET_H1_DONE},
        {"HTTP/1.1 200 OK\r\n\r\n0123456789a", HRET_H1_TOO_BIG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r = parse_cap(cases[i].text, false, 10, true);
        assert_int_equal(r.st, cases[i].st);
        assert_body(&r, "0123456789"); /* filled up to the cap */
        if (r.st == HRET_H1_TOO_BIG) {
            assert_string_equal(r.error, "response body larger than its cap");
        }
    }
}

static void test_h1_back_to_back(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n0\r\n\r\n"
                       "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\ntwo";
    struct run first = parse(text, false);
    assert_int_equal(first.st, HRET_H1_DONE);
    assert_body(&first, "one");
    assert_int_equal(first.used, strstr(text, "HTTP/1.1 201") - text);
    struct run second = parse(text + first.used, false);
    assert_int_equal(second.st, HRET_H1_DONE);
    assert_int_equal(second.status, 201);
    assert_body(&second, "two");
    assert_int_equal(first.used + second.used, strlen(text));
}

static void test_h1_eof(void **state)
{
    (void)state;
    static const char *cut[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Len",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        "H",
    };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        struct run r = parse(cut[i], true);
        assert_int_equal(r.st, HRET_H1_BAD);
        assert_true(r.started);
        assert_string_equal(r.error, "connection closed before the response was complete");
    }
    struct run r = parse("", true);
    assert_int_equal(r.st, HRET_H1_BAD);
    assert_false(r.started);
    assert_string_equal(r.error, "connection closed before any response");
}

static void test_h1_after_the_end(void **state)
{
    (void)state;
    struct hret_buf body;
    hret_buf_init(&body, 100);
    struct hret_h1_parser p;
    hret_h1_parse_init(&p, &body, false);
    size_t used = 99;
    assert_int_equal(hret_h1_parse(&p, "HTTP/1.1 204 No\r\n\r\n", 19, &used), HRET_H1_DONE);
    assert_int_equal(used, 19);
    assert_int_equal(hret_h1_parse(&p, "HTTP", 4, &used), HRET_H1_DONE);
    assert_int_equal(used, 0);
    assert_int_equal(hret_h1_parse_eof(&p), HRET_H1_DONE);
    hret_h1_parse_init(&p, &body, false);
    assert_int_equal(hret_h1_parse(&p, "XTTP/1.1 200 OK\r\n", 17, &used), HRET_H1_BAD);
    assert_int_equal(hret_h1_parse(&p, "more", 4, &used), HRET_H1_BAD);
    assert_int_equal(used, 0);
    assert_int_equal(hret_h1_parse_eof(&p), HRET_H1_BAD);
    assert_string_equal(hret_h1_parse_error(&p), "malformed status line");
    hret_buf_fini(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h1_content_length),
        cmocka_unit_test(test_h1_chunked),
        cmocka_unit_test(test_h1_body_until_close),
        cmocka_unit_test(test_h1_interim_responses_skipped),
        cmocka_unit_test(test_h1_no_body),
        cmocka_unit_test(test_h1_keep_alive),
        cmocka_unit_test(test_h1_retry_after),
        cmocka_unit_test(test_h1_bad),
        cmocka_unit_test(test_h1_long_header_lines),
        cmocka_unit_test(test_h1_body_cap),
        cmocka_unit_test(test_h1_back_to_back),
        cmocka_unit_test(test_h1_eof),
        cmocka_unit_test(test_h1_after_the_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
