/* hret_call against a real HTTP server over loopback (tests/support/hret_echo_server.py): the
 * method, body, content type and Authorization header arrive as sent; 5xx are retried and then
 * given up as a retriable class, 4xx are permanent after one attempt, the body cap and the
 * timeout give their classes, and the secret never reaches an error. */
#include "hret_test.h"

#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hret_call.h"
#include "hret_json.h"

static pid_t server_pid;
static char base[64]; /* http://127.0.0.1:PORT */

static int setup(void **state)
{
    (void)state;
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    server_pid = fork();
    if (server_pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        char script[4096];
        snprintf(script, sizeof script, "%s", hret_test_path("tests/support/hret_echo_server.py"));
        execlp("python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *out = fdopen(fds[0], "r");
    char line[128] = "";
    char *got = fgets(line, sizeof line, out);
    fclose(out);
    const char *colon = got ? strrchr(line, ':') : NULL;
    if (colon == NULL || strncmp(line, "listening on ", 13) != 0) {
        return -1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", atoi(colon + 1));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    return 0;
}

static struct hret_call_limits limits(void)
{
    return (struct hret_call_limits){.name = "test",
                                     .timeout_ms = 10000,
                                     .connect_timeout_ms = 2000,
                                     .max_retries = 2,
                                     .max_response_bytes = 1 << 16};
}

struct got {
    enum hret_result code;
    struct hret_call_response resp;
    struct hret_err err;
    cJSON *echo; /* the parsed echo of a 2xx, else NULL */
};

/* One request on an open call (its engine and connections may be reused). */
static struct got call_on(struct hret_call *c, const char *method, const char *path,
                          const char *body, const char *content_type)
{
    struct got g = {.err = HRET_ERR_INIT};
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    const char *headers[] = {"X-Extra: yes", NULL};
    struct hret_call_request req = {.method = method,
                                    .url = url,
                                    .content_type = content_type,
                                    .body = body,
                                    .body_len = body ? strlen(body) : 0,
                                    .headers = headers};
    g.code = hret_call_do(c, &req, &g.resp, &g.err);
    assert_non_null(g.resp.body);
    if (g.code == HRET_OK) {
        g.echo = hret_json_parse(g.resp.body, g.resp.body_len, 1 << 20, NULL);
    }
    return g;
}

static struct got call(struct hret_call_limits lim, const char *method, const char *path,
                       const char *body, const char *content_type)
{
    struct hret_call c;
    assert_int_equal(hret_call_open(&c, &lim, NULL), HRET_OK);
    struct got g = call_on(&c, method, path, body, content_type);
    hret_call_close(&c);
    return g;
}

static void got_fini(struct got *g)
{
    cJSON_Delete(g->echo);
    hret_call_response_fini(&g->resp);
}

static const char *echo_str(const cJSON *echo, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(echo, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *echo_header(const cJSON *echo, const char *name)
{
    return echo_str(cJSON_GetObjectItem(echo, "headers"), name);
}

/* How many requests the server saw on path. */
static int hits(const char *path)
{
    char p[128];
    snprintf(p, sizeof p, "/hits%s", path);
    struct got g = call(limits(), "GET", p, NULL, NULL);
    assert_int_equal(g.code, HRET_OK);
    int n = cJSON_GetObjectItem(g.echo, "hits")->valueint;
    got_fini(&g);
    return n;
}

static void test_call_post_json(void **state)
{
    (void)state;
    struct got g = call(limits(), "POST", "/api/post", "{\"a\":1}", NULL);
    assert_int_equal(g.code, HRET_OK);
    assert_int_equal(g.resp.status, 200);
    assert_int_equal(g.resp.attempts, 1);
    assert_string_equal(echo_str(g.echo, "method"), "POST");
    assert_string_equal(echo_str(g.echo, "body"), "{\"a\":1}");
    assert_string_equal(echo_header(g.echo, "content-type"), "application/json");
    assert_string_equal(echo_header(g.echo, "x-extra"), "yes");
    assert_string_equal(echo_header(g.echo, "authorization"), "");
    got_fini(&g);
}

static void test_call_get_and_put(void **state)
{
    (void)state;
    struct hret_call_limits lim = limits();
    struct hret_call c;
    assert_int_equal(hret_call_open(&c, &lim, NULL), HRET_OK);
    struct got g =
        call_on(&c, "PUT", "/artifacts/a.json", "raw bytes\n", "application/octet-stream");
    assert_int_equal(g.code, HRET_OK);
    assert_string_equal(echo_str(g.echo, "method"), "PUT");
    assert_string_equal(echo_str(g.echo, "body"), "raw bytes\n");
    assert_string_equal(echo_header(g.echo, "content-type"), "application/octet-stream");
    got_fini(&g);
    /* the same engine reuses its curl handle: the PUT and its content type must not stick */
    g = call_on(&c, NULL, "/api/get?x=1", NULL, NULL);
    assert_int_equal(g.code, HRET_OK);
    assert_string_equal(echo_str(g.echo, "method"), "GET");
    assert_string_equal(echo_str(g.echo, "path"), "/api/get?x=1");
    got_fini(&g);
    g = call_on(&c, "POST", "/api/post", "{}", NULL);
    assert_string_equal(echo_str(g.echo, "method"), "POST");
    assert_string_equal(echo_header(g.echo, "content-type"), "application/json");
    got_fini(&g);
    hret_call_close(&c);
    struct got bad = call(limits(), "GET", "/x", "body", NULL);
    assert_int_equal(bad.code, HRET_E_INVAL);
    got_fini(&bad);
}

static void test_call_auth_headers(void **state)
{
    (void)state;
    setenv("HRET_TEST_CALL_KEY", "s3cret\n", 1);
    struct hret_call_limits lim = limits();
    lim.auth = HRET_CALL_AUTH_BASIC;
    lim.basic_user = "api";
    lim.secret_env = "HRET_TEST_CALL_KEY";
    struct got g = call(lim, "POST", "/graphql", "{}", NULL);
    assert_int_equal(g.code, HRET_OK);
    /* base64("api:s3cret"), the trailing newline of the secret dropped */
    assert_string_equal(echo_header(g.echo, "authorization"), "Basic YXBpOnMzY3JldA==");
    got_fini(&g);

    lim.auth = HRET_CALL_AUTH_BEARER;
    g = call(lim, "POST", "/api/2.0/mlflow/runs/create", "{}", NULL);
    assert_int_equal(g.code, HRET_OK);
    assert_string_equal(echo_header(g.echo, "authorization"), "Bearer s3cret");
    got_fini(&g);

    /* a rejected call: the error names the class, never the secret */
    g = call(lim, "POST", "/status/401", "{}", NULL);
    assert_int_equal(g.code, HRET_E_INVAL);
    assert_null(strstr(g.err.msg, "s3cret"));
    got_fini(&g);

    /* a missing secret is a configuration error naming the variable */
    unsetenv("HRET_TEST_CALL_KEY");
    g = call(lim, "POST", "/api/unset", "{}", NULL);
    assert_int_equal(g.code, HRET_E_CONFIG);
    assert_non_null(strstr(g.err.msg, "HRET_TEST_CALL_KEY"));
    assert_false(hret_call_retriable(g.code));
    got_fini(&g);
    assert_int_equal(hits("/api/unset"), 0);

    struct hret_call c;
    struct hret_err err = HRET_ERR_INIT;
    lim.secret_env = NULL;
    assert_int_equal(hret_call_open(&c, &lim, &err), HRET_E_CONFIG);
    assert_null(c.http);
}

static void test_call_5xx_retried_then_given_up(void **state)
{
    (void)state;
    struct got g = call(limits(), "POST", "/status/503", "{}", NULL);
    assert_int_equal(g.code, HRET_E_UNAVAILABLE);
    assert_true(hret_call_retriable(g.code));
    assert_int_equal(g.resp.status, 503);
    assert_int_equal(g.resp.attempts, 3); /* max_retries 2 */
    assert_non_null(strstr(g.resp.body, "TEST_ERROR"));
    assert_non_null(strstr(g.err.msg, "gave up after 3 attempts"));
    assert_non_null(strstr(g.err.msg, "test: POST"));
    got_fini(&g);
    assert_int_equal(hits("/status/503"), 3);

    g = call(limits(), "GET", "/status/429", NULL, NULL);
    assert_true(hret_call_retriable(g.code));
    got_fini(&g);
}

static void test_call_4xx_permanent(void **state)
{
    (void)state;
    static const char *const paths[] = {"/status/400", "/status/404", "/status/403"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct got g = call(limits(), "POST", paths[i], "{}", NULL);
        assert_int_equal(g.code, HRET_E_INVAL);
        assert_false(hret_call_retriable(g.code));
        assert_int_equal(g.resp.attempts, 1);
        assert_int_equal(g.resp.status, atol(paths[i] + 8));
        /* the caller reads the service's error from the body */
        assert_non_null(strstr(g.resp.body, "\"error_code\": \"TEST_ERROR\""));
        got_fini(&g);
        assert_int_equal(hits(paths[i]), 1);
    }
}

static void test_call_body_cap_and_timeout(void **state)
{
    (void)state;
    struct hret_call_limits lim = limits();
    lim.max_response_bytes = 4096;
    struct got g = call(lim, "GET", "/big", NULL, NULL);
    assert_int_equal(g.code, HRET_E_PROTO);
    assert_false(hret_call_retriable(g.code));
    assert_non_null(strstr(g.err.msg, "4096-byte cap"));
    got_fini(&g);

    lim = limits();
    lim.timeout_ms = 300;
    lim.max_retries = 1;
    g = call(lim, "GET", "/slow", NULL, NULL);
    assert_int_equal(g.code, HRET_E_TIMEOUT);
    assert_true(hret_call_retriable(g.code));
    assert_int_equal(g.resp.attempts, 2);
    got_fini(&g);
}

static void test_call_connection_refused_is_retriable(void **state)
{
    (void)state;
    struct hret_call_limits lim = limits();
    lim.max_retries = 0;
    struct hret_call c;
    assert_int_equal(hret_call_open(&c, &lim, NULL), HRET_OK);
    struct hret_call_request req = {.url = "http://127.0.0.1:1/nothing"};
    struct hret_call_response resp;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_call_do(&c, &req, &resp, &err), HRET_E_UNAVAILABLE);
    assert_int_equal(resp.status, 0);
    assert_string_equal(resp.body, "");
    hret_call_response_fini(&resp);
    hret_call_close(&c);
    hret_call_close(&c); /* closing twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_post_json),
        cmocka_unit_test(test_call_get_and_put),
        cmocka_unit_test(test_call_auth_headers),
        cmocka_unit_test(test_call_5xx_retried_then_given_up),
        cmocka_unit_test(test_call_4xx_permanent),
        cmocka_unit_test(test_call_body_cap_and_timeout),
        cmocka_unit_test(test_call_connection_refused_is_retriable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
