/* hret_ops: the HTTP server on a free port answers GET /healthz, /readyz and /metrics, 404 and
 * 405 otherwise; readiness follows what the main loop reports (postgres, kafka, stopping); the
 * model handles count into the exposition; http.listen is validated. */
#include "hret_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hret_ops.h"

struct got {
    long status;
    char body[65536];
    size_t len;
    char type[128];
};

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    struct got *g = user;
    size_t k = size * n;
    if (k > sizeof g->body - 1 - g->len) {
        return 0; /* the test's cap: fail the transfer */
    }
    memcpy(g->body + g->len, p, k);
    g->len += k;
    g->body[g->len] = '\0';
    return k;
}

static struct got *fetch(const char *method, const char *path)
{
    static struct got g;
    memset(&g, 0, sizeof g);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", hret_ops_port(), path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g.status);
    char *type = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    snprintf(g.type, sizeof g.type, "%s", type ? type : "");
    curl_easy_cleanup(c);
    return &g;
}

static void listen_addresses_are_checked(void **state)
{
    (void)state;
    char msg[256];
    const char *good[] = {"",           "127.0.0.1:9464", ":0",
                          "[::1]:9464", "localhost:80",   "0.0.0.0:65535"};
    const char *bad[] = {"9464",     "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                         "::1:9464", "[::1]9464", "host:12ab"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_true(hret_ops_listen_valid(good[i], msg, sizeof msg));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(hret_ops_listen_valid(bad[i], msg, sizeof msg));
        assert_non_null(strstr(msg, "HOST:PORT"));
    }
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_ops_start("nonsense", 0, "test", &err), HRET_E_CONFIG);
    assert_int_equal(hret_ops_port(), 0);
    assert_int_equal(hret_ops_start("", 0, "test", &err), HRET_OK); /* "" serves nothing */
    assert_int_equal(hret_ops_port(), 0);

    /* a port another socket holds: cannot listen, and the message says what to do */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    char taken[32];
    snprintf(taken, sizeof taken, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    hret_err_clear(&err);
    assert_int_equal(hret_ops_start(taken, 0, "test", &err), HRET_E_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "http.listen"));
    assert_int_equal(hret_ops_port(), 0);
    close(fd);
}

static void endpoints_answer(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_ops_start("127.0.0.1:0", 0, "test", &err), HRET_OK);
    unsigned port = hret_ops_port();
    assert_true(port > 0);
    assert_int_equal(hret_ops_start("127.0.0.1:0", 0, "test", &err), HRET_E_CONFLICT);
    assert_int_equal(hret_ops_port(), port); /* the first one still serves */

    struct got *g = fetch("GET", "/healthz");
    assert_int_equal(g->status, 200);
    assert_string_equal(g->body, "ok\n");

    /* nothing reported yet: neither part is known to be reachable */
    g = fetch("GET", "/readyz");
    assert_int_equal(g->status, 503);
    assert_string_equal(g->body, "not ready: postgres unreachable; kafka unreachable\n");
    hret_ops_pg(true);
    g = fetch("GET", "/readyz");
    assert_int_equal(g->status, 503);
    assert_string_equal(g->body, "not ready: kafka unreachable\n");
    hret_ops_kafka(true);
    g = fetch("GET", "/readyz");
    assert_int_equal(g->status, 200);
    assert_string_equal(g->body, "ready\n");
    hret_ops_pg(false);
    g = fetch("GET", "/readyz");
    assert_int_equal(g->status, 503);
    assert_string_equal(g->body, "not ready: postgres unreachable\n");
    hret_ops_pg(true);

    assert_int_equal(fetch("GET", "/nope")->status, 404);
    assert_int_equal(fetch("GET", "/metrics/x")->status, 404);
    g = fetch("POST", "/metrics");
    assert_int_equal(g->status, 405);
    assert_int_equal(fetch("DELETE", "/readyz")->status, 405);

    struct hret_ops_model *a = hret_ops_model("model-a");
    assert_ptr_equal(a, hret_ops_model("model-a"));
    hret_ops_endpoint_inflight(a, 1);
    hret_ops_endpoint_request(a, 200, 0.3);
    hret_ops_endpoint_inflight(a, 1);
    hret_ops_endpoint_inflight(a, -1);
    hret_ops_endpoint_request(a, 503, 0.01);
    hret_ops_endpoint_request(a, 0, 30);
    hret_ops_endpoint_tokens(a, 100, 7, 0.5);
    hret_ops_samples_scored(a, 3);
    hret_ops_request_rejected("schema");
    hret_ops_bridge_delivered("webhook", false);
    g = fetch("GET", "/metrics");
    assert_int_equal(g->status, 200);
    assert_string_equal(g->type, "text/plain; version=0.0.4; charset=utf-8");
    const char *want[] = {
        "# TYPE hret_endpoint_requests_total counter\n",
        "hret_endpoint_requests_total{model=\"model-a\",status=\"2xx\"} 1\n",
        "hret_endpoint_requests_total{model=\"model-a\",status=\"5xx\"} 1\n",
        "hret_endpoint_requests_total{model=\"model-a\",status=\"none\"} 1\n",
        "hret_endpoint_inflight_requests{model=\"model-a\"} 1\n",
        "hret_endpoint_latency_seconds_bucket{model=\"model-a\",le=\"0.05\"} 1\n",
        "hret_endpoint_latency_seconds_bucket{model=\"model-a\",le=\"0.5\"} 2\n",
        "hret_endpoint_latency_seconds_bucket{model=\"model-a\",le=\"+Inf\"} 3\n",
        "hret_endpoint_latency_seconds_count{model=\"model-a\"} 3\n",
        "hret_endpoint_tokens_total{model=\"model-a\",direction=\"input\"} 100\n",
        "hret_endpoint_tokens_total{model=\"model-a\",direction=\"output\"} 7\n",
        "hret_endpoint_cost_usd_total{model=\"model-a\"} 0.5\n",
        "hret_samples_scored_total{model=\"model-a\"} 3\n",
        "hret_requests_rejected_total{reason=\"schema\"} 1\n",
        "hret_bridge_deliveries_total{sink=\"webhook\",outcome=\"failed\"} 1\n",
        "hret_build_info{version=\"" HRET_VERSION "\"} 1\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (strstr(g->body, want[i]) == NULL) {
            fail_msg("/metrics lacks %s", want[i]);
        }
    }
    assert_int_equal(g->body[g->len - 1], '\n');

    hret_ops_stopping();
    g = fetch("GET", "/readyz");
    assert_int_equal(g->status, 503);
    assert_string_equal(g->body, "not ready: stopping\n");
    assert_int_equal(fetch("GET", "/healthz")->status, 200); /* alive while it stops */

    hret_ops_stop();
    assert_int_equal(hret_ops_port(), 0);
    CURL *c = curl_easy_init();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/healthz", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &(struct got){0});
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    assert_int_equal(curl_easy_perform(c), CURLE_COULDNT_CONNECT); /* the port is closed */
    curl_easy_cleanup(c);
    hret_ops_stop(); /* twice is fine */
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listen_addresses_are_checked),
        cmocka_unit_test(endpoints_answer),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
