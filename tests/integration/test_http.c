/* The endpoint engine against the real fake-llm server over loopback: answers map to their
 * prompts at 1,000 in flight, retries only for retriable errors, Retry-After honoured (lower
 * bounds only), body cap and timeouts give the right class, a slow pool does not starve a fast
 * one, secrets by reference. */
#include "hret_clock.h"
#include "hret_test.h"

#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "hret_fake_proc.h"
#include "hret_hash.h"
#include "hret_http.h"
#include "hret_json.h"
#include "hret_mem.h"

static struct hret_fake fake;
/* The engine takes plain http to an IP address itself (hret_h1.h) and leaves host names to
 * libcurl: every test runs through each, against the same fake-llm. */
static char base_url[96];
static bool by_name;

struct call {
    int done;
    enum hret_result code;
    long status;
    int attempts;
    char *content;
    char error[256];
    double finished_ms;
    int again; /* answer HRET_AGAIN to malformed 2xx bodies */
};

static enum hret_result on_done(void *user, const struct hret_http_result *r)
{
    struct call *c = user;
    cJSON *body = r->code == HRET_OK ? hret_json_parse(r->body, r->body_len, 1 << 24, NULL) : NULL;
    if (r->code == HRET_OK && body == NULL && c->again) {
        return HRET_AGAIN;
    }
    c->done++;
    c->code = r->code;
    c->status = r->status;
    c->attempts = r->attempts;
    c->finished_ms = hret_clock_now_ms();
    snprintf(c->error, sizeof c->error, "%s", r->error);
    const cJSON *choices = cJSON_GetObjectItem(body, "choices");
    const cJSON *msg = cJSON_GetObjectItem(cJSON_GetArrayItem(choices, 0), "message");
    const cJSON *content = cJSON_GetObjectItem(msg, "content");
    if (cJSON_IsString(content)) {
        c->content = hret_xstrdup(content->valuestring);
    }
    cJSON_Delete(body);
    return HRET_OK;
}

static struct hret_http_limits limits(const char *name, long inflight)
{
    return (struct hret_http_limits){.name = name,
                                     .max_inflight = inflight,
                                     .timeout_ms = 10000,
                                     .connect_timeout_ms = 5000,
                                     .max_retries = 3,
                                     .retry_after_cap_ms = 5000,
                                     .max_response_bytes = 1 << 20};
}

static char *chat_body(const char *prompt)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "model", "fake-model");
    cJSON *msgs = cJSON_AddArrayToObject(b, "messages");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", prompt);
    cJSON_AddItemToArray(msgs, m);
    char *s = hret_json_print(b);
    cJSON_Delete(b);
    return s;
}

static void submit_chat(struct hret_http *h, int pool, const char *base, const char *prompt,
                        const char *const *headers, struct call *c)
{
    char url[128];
    snprintf(url, sizeof url, "%s/chat/completions", base);
    char *body = chat_body(prompt);
    struct hret_http_request req = {
        .url = url, .body = body, .body_len = strlen(body), .est_tokens = 10, .headers = headers};
    assert_int_equal(hret_http_submit(h, pool, &req, on_done, c, NULL), HRET_OK);
    free(body);
}

static void run_all(struct hret_http *h)
{
    while (hret_http_run(h, 200) > 0) {
    }
}

/* A single request with per-request fake-llm headers; returns its call record. */
static struct call one(struct hret_http_limits lim, const char *const *headers, int again)
{
    struct hret_http *h = hret_http_new(NULL);
    int pool = hret_http_add_pool(h, &lim, NULL);
    struct call c = {.again = again};
    submit_chat(h, pool, base_url, "질문", headers, &c);
    run_all(h);
    hret_http_destroy(h);
    assert_int_equal(c.done, 1);
    return c;
}

static int setup(void **state)
{
    (void)state;
    char key_path[] = "/tmp/hret_http_key_XXXXXX";
    int fd = mkstemp(key_path);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < 1000; i++) {
        char prompt[64], hex[17];
        snprintf(prompt, sizeof prompt, "문제 %d 번", i);
        hret_hash_hex64(hret_hash_fnv1a64(prompt, strlen(prompt)), hex);
        fprintf(f, "%s\tANS-%d\n", hex, i);
    }
    fclose(f);
    const char *args[] = {"--answer-key", key_path, "--jitter-ms", "20", NULL};
    int rc = hret_fake_start(&fake, args);
    unlink(key_path);
    if (by_name) {
        snprintf(base_url, sizeof base_url, "http://localhost:%d/v1", fake.port);
    } else {
        snprintf(base_url, sizeof base_url, "%s", fake.base_url);
    }
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    return hret_fake_stop(&fake) == 0 ? 0 : -1;
}

static void test_http_answers_map_to_prompts_at_1000_inflight(void **state)
{
    (void)state;
    struct hret_http *h = hret_http_new(NULL);
    struct hret_http_limits lim = limits("fake", 1000);
    int pool = hret_http_add_pool(h, &lim, NULL);
    struct call *calls = hret_xcalloc(1000, sizeof *calls);
    for (int i = 0; i < 1000; i++) {
        char prompt[64];
        snprintf(prompt, sizeof prompt, "문제 %d 번", i);
        submit_chat(h, pool, base_url, prompt, NULL, &calls[i]);
    }
    run_all(h);
    struct hret_http_stats st;
    hret_http_stats(h, pool, &st);
    hret_http_destroy(h);
    for (int i = 0; i < 1000; i++) {
        char want[32];
        snprintf(want, sizeof want, "ANS-%d", i);
        assert_int_equal(calls[i].done, 1);
        assert_int_equal(calls[i].code, HRET_OK);
        assert_non_null(calls[i].content);
        assert_string_equal(calls[i].content, want);
        free(calls[i].content);
    }
    free(calls);
    assert_int_equal(st.completed, 1000);
    assert_int_equal(st.status_2xx, 1000);
    assert_int_equal(st.inflight, 0);
}

static void test_http_permanent_errors_are_not_retried(void **state)
{
    (void)state;
    static const char *const codes[] = {"400", "401", "403", "404", "422"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char header[64];
        snprintf(header, sizeof header, "x-fake-status: %s", codes[i]);
        const char *headers[] = {header, NULL};
        struct call c = one(limits("perm", 4), headers, 0);
        assert_int_equal(c.code, HRET_E_INVAL);
        assert_int_equal(c.attempts, 1);
        assert_int_equal(c.status, atol(codes[i]));
        assert_non_null(strstr(c.error, "not retried"));
    }
    const char *quota[] = {"x-fake-quota: 1", NULL};
    struct call c = one(limits("quota", 4), quota, 0);
    assert_int_equal(c.status, 429);
    assert_int_equal(c.attempts, 1);
    assert_non_null(strstr(c.error, "insufficient_quota"));
}

static void test_http_retriable_errors_are_retried_within_budget(void **state)
{
    (void)state;
    static const char *const codes[] = {"500", "502", "503", "408", "409"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char header[64];
        snprintf(header, sizeof header, "x-fake-status: %s", codes[i]);
        const char *headers[] = {header, NULL};
        struct hret_http_limits lim = limits("retry", 4);
        lim.max_retries = 2;
        struct call c = one(lim, headers, 0);
        assert_int_equal(c.attempts, 3);
        assert_true(c.code == HRET_E_UNAVAILABLE || c.code == HRET_E_TIMEOUT);
        assert_non_null(strstr(c.error, "gave up after 3 attempts"));
    }
    /* flaky server: every request eventually succeeds, at more in flight than one lane of the
     * engine's event loop holds (HRET_MUX_LANE_TRANSFERS), so retries change lanes */
    struct hret_http *h = hret_http_new(NULL);
    struct hret_http_limits lim = limits("flaky", 600);
    lim.max_retries = 20;
    int pool = hret_http_add_pool(h, &lim, NULL);
    enum { N = 1500 };
    struct call *calls = hret_xcalloc(N, sizeof *calls);
    const char *headers[] = {"x-fake-rate-500: 0.3", "x-fake-rate-503: 0.1", NULL};
    for (int i = 0; i < N; i++) {
        char prompt[64];
        snprintf(prompt, sizeof prompt, "문제 %d 번", i % 1000);
        submit_chat(h, pool, base_url, prompt, headers, &calls[i]);
    }
    run_all(h);
    struct hret_http_stats st;
    hret_http_stats(h, pool, &st);
    hret_http_destroy(h);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "ANS-%d", i % 1000);
        assert_int_equal(calls[i].done, 1);
        assert_int_equal(calls[i].code, HRET_OK);
        assert_non_null(calls[i].content);
        assert_string_equal(calls[i].content, want);
        free(calls[i].content);
    }
    free(calls);
    assert_true(st.retries > 150);
    assert_int_equal(st.requests, N + st.retries);
    assert_int_equal(st.inflight, 0);
}

static void test_http_retry_after_is_honoured(void **state)
{
    (void)state;
    const char *headers[] = {"x-fake-status: 429", "x-fake-retry-after: 1", NULL};
    struct hret_http_limits lim = limits("ra", 4);
    lim.max_retries = 1;
    double t0 = hret_clock_now_ms();
    struct call c = one(lim, headers, 0);
    assert_int_equal(c.attempts, 2);
    assert_int_equal(c.status, 429);
    assert_true(c.finished_ms - t0 >= 1000.0); /* lower bound only */

    /* above the cap: exponential backoff instead (well under the 100 s asked) */
    const char *long_ra[] = {"x-fake-status: 429", "x-fake-retry-after: 100", NULL};
    lim.retry_after_cap_ms = 2000;
    t0 = hret_clock_now_ms();
    c = one(lim, long_ra, 0);
    assert_int_equal(c.attempts, 2);
    assert_true(c.finished_ms - t0 < 60000.0);
}

static void test_http_429_slows_the_whole_pool(void **state)
{
    (void)state;
    struct hret_http *h = hret_http_new(NULL);
    struct hret_http_limits lim = limits("pace", 16);
    lim.max_retries = 1;
    int pool = hret_http_add_pool(h, &lim, NULL);
    struct call limited = {0}, others[8] = {{0}};
    const char *h429[] = {"x-fake-status: 429", "x-fake-retry-after: 1", NULL};
    submit_chat(h, pool, base_url, "a", h429, &limited);
    struct hret_http_stats st;
    do {
        hret_http_run(h, 50);
        hret_http_stats(h, pool, &st);
    } while (st.status_429 == 0);
    assert_int_equal(st.limit, 8); /* halved at once */
    double t0 = hret_clock_now_ms();
    for (int i = 0; i < 8; i++) {
        submit_chat(h, pool, base_url, "b", NULL, &others[i]);
    }
    run_all(h);
    hret_http_stats(h, pool, &st);
    hret_http_destroy(h);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(others[i].code, HRET_OK);
        assert_true(others[i].finished_ms - t0 >= 500.0); /* held back by the pause */
        free(others[i].content);
    }
    assert_int_equal(st.limit, 16); /* grown back by one per success */
}

static void test_http_body_cap_and_timeouts(void **state)
{
    (void)state;
    const char *big[] = {"x-fake-body-bytes: 200000", NULL};
    struct hret_http_limits lim = limits("cap", 4);
    lim.max_response_bytes = 10000;
    struct call c = one(lim, big, 0);
    assert_int_equal(c.code, HRET_E_PROTO);
    assert_int_equal(c.attempts, 1);
    assert_non_null(strstr(c.error, "10000-byte cap"));

    const char *hang[] = {"x-fake-rate-hang: 1", "x-fake-hang-ms: 5000", NULL};
    lim = limits("hang", 4);
    lim.timeout_ms = 300;
    lim.max_retries = 1;
    c = one(lim, hang, 0);
    assert_int_equal(c.code, HRET_E_TIMEOUT);
    assert_int_equal(c.attempts, 2);
    assert_non_null(strstr(c.error, "timed out after 300 ms"));

    /* the timeout counts from send: 6 requests of 200 ms through one slot all succeed */
    struct hret_http *h = hret_http_new(NULL);
    lim = limits("queue", 1);
    lim.timeout_ms = 1500;
    lim.max_retries = 0;
    int pool = hret_http_add_pool(h, &lim, NULL);
    struct call calls[6] = {{0}};
    const char *slow[] = {"x-fake-latency-ms: 200", NULL};
    for (int i = 0; i < 6; i++) {
        submit_chat(h, pool, base_url, "q", slow, &calls[i]);
    }
    run_all(h);
    hret_http_destroy(h);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(calls[i].code, HRET_OK);
        free(calls[i].content);
    }
}

static void test_http_malformed_bodies_are_retried_then_reported(void **state)
{
    (void)state;
    const char *bad[] = {"x-fake-rate-malformed: 1", NULL};
    struct hret_http_limits lim = limits("malformed", 4);
    lim.max_retries = 2;
    struct call c = one(lim, bad, 1);
    assert_int_equal(c.code, HRET_E_PROTO);
    assert_int_equal(c.attempts, 3);
    assert_non_null(strstr(c.error, "malformed response body"));
}

static void test_http_slow_pool_does_not_starve_fast_pool(void **state)
{
    (void)state;
    struct hret_http *h = hret_http_new(NULL);
    struct hret_http_limits slow_lim = limits("slow", 4), fast_lim = limits("fast", 4);
    int slow = hret_http_add_pool(h, &slow_lim, NULL);
    int fast = hret_http_add_pool(h, &fast_lim, NULL);
    struct call slow_calls[8] = {{0}}, fast_calls[40] = {{0}};
    const char *latency[] = {"x-fake-latency-ms: 1500", NULL};
    double t0 = hret_clock_now_ms();
    for (int i = 0; i < 8; i++) {
        submit_chat(h, slow, base_url, "slow", latency, &slow_calls[i]);
    }
    for (int i = 0; i < 40; i++) {
        submit_chat(h, fast, base_url, "fast", NULL, &fast_calls[i]);
    }
    run_all(h);
    hret_http_destroy(h);
    double fast_last = 0;
    for (int i = 0; i < 40; i++) {
        assert_int_equal(fast_calls[i].code, HRET_OK);
        fast_last = fast_calls[i].finished_ms > fast_last ? fast_calls[i].finished_ms : fast_last;
        free(fast_calls[i].content);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(slow_calls[i].code, HRET_OK);
        assert_true(slow_calls[i].finished_ms > fast_last);
        free(slow_calls[i].content);
    }
    assert_true(fast_last - t0 < 1500.0);
}

static void test_http_secret_by_reference(void **state)
{
    (void)state;
    struct hret_http_limits lim = limits("secret", 4);
    lim.api_key_env = "HRET_TEST_KEY_THAT_IS_NOT_SET";
    unsetenv(lim.api_key_env);
    struct call c = one(lim, NULL, 0);
    assert_int_equal(c.code, HRET_E_CONFIG);
    assert_int_equal(c.attempts, 0);
    assert_non_null(strstr(c.error, "HRET_TEST_KEY_THAT_IS_NOT_SET"));
    setenv("HRET_TEST_KEY", "sk-test-SECRETVALUE", 1);
    lim.api_key_env = "HRET_TEST_KEY";
    c = one(lim, NULL, 0);
    assert_int_equal(c.code, HRET_OK);
    assert_null(strstr(c.error, "SECRETVALUE"));
    free(c.content);
    lim.api_key_env = NULL;
    lim.api_key_file = "/nonexistent/key";
    c = one(lim, NULL, 0);
    assert_int_equal(c.code, HRET_E_CONFIG);
    assert_non_null(strstr(c.error, "/nonexistent/key"));
}

static void test_http_rpm_paces_requests(void **state)
{
    (void)state;
    struct hret_http *h = hret_http_new(NULL);
    struct hret_http_limits lim = limits("rpm", 64);
    lim.rpm = 600; /* a full bucket of 600, then 10 per second */
    int pool = hret_http_add_pool(h, &lim, NULL);
    struct call calls[620] = {{0}};
    double t0 = hret_clock_now_ms();
    for (int i = 0; i < 620; i++) {
        submit_chat(h, pool, base_url, "r", NULL, &calls[i]);
    }
    run_all(h);
    hret_http_destroy(h);
    double last = 0;
    for (int i = 0; i < 620; i++) {
        assert_int_equal(calls[i].code, HRET_OK);
        last = calls[i].finished_ms > last ? calls[i].finished_ms : last;
        free(calls[i].content);
    }
    assert_true(last - t0 >= 1500.0); /* 20 beyond the bucket at 10/s: at least ~2 s */
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_answers_map_to_prompts_at_1000_inflight),
        cmocka_unit_test(test_http_permanent_errors_are_not_retried),
        cmocka_unit_test(test_http_retriable_errors_are_retried_within_budget),
        cmocka_unit_test(test_http_retry_after_is_honoured),
        cmocka_unit_test(test_http_429_slows_the_whole_pool),
        cmocka_unit_test(test_http_body_cap_and_timeouts),
        cmocka_unit_test(test_http_malformed_bodies_are_retried_then_reported),
        cmocka_unit_test(test_http_slow_pool_does_not_starve_fast_pool),
        cmocka_unit_test(test_http_secret_by_reference),
        cmocka_unit_test(test_http_rpm_paces_requests),
    };
    int rc = cmocka_run_group_tests_name("own HTTP/1.1 client (127.0.0.1)", tests, setup, teardown);
    by_name = true;
    rc |= cmocka_run_group_tests_name("libcurl (localhost)", tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
