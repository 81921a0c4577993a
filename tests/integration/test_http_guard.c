/* Inline endpoints are checked on the address actually connected to (common/hret_netguard.h
 * through the endpoint engine's socket callbacks), against the real fake-llm on loopback:
 *   - a guarded pool refuses 127.0.0.1, localhost (a name the machine resolves without DNS) and
 *     a connection another pool left open (reuse opens no socket: the pre-request check sees
 *     it), with a permanent error naming the class, in one attempt, and the server sees nothing;
 *   - allow_private_networks (HRET_NET_PRIVATE_OK) reaches loopback; operator pools are free;
 *   - names resolving to metadata addresses (libcurl's resolve override, here in the test only)
 *     reach the open-socket callback as the resolved address and are refused before connecting,
 *     with the same classifier the engine uses. */
#include "hret_test.h"

#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "hret_buf.h"
#include "hret_fake_proc.h"
#include "hret_http.h"
#include "hret_json.h"
#include "hret_netguard.h"

static struct hret_fake fake;

struct call {
    int done;
    enum hret_result code;
    int attempts;
    char error[400];
};

static enum hret_result on_done(void *user, const struct hret_http_result *r)
{
    struct call *c = user;
    c->done++;
    c->code = r->code;
    c->attempts = r->attempts;
    snprintf(c->error, sizeof c->error, "%s", r->error);
    return HRET_OK;
}

static int add_pool(struct hret_http *h, const char *name, enum hret_net_policy policy)
{
    struct hret_http_limits lim = {.name = name,
                                   .max_inflight = 4,
                                   .timeout_ms = 10000,
                                   .connect_timeout_ms = 5000,
                                   .max_retries = 3,
                                   .retry_after_cap_ms = 1000,
                                   .max_response_bytes = 1 << 20,
                                   .net_policy = policy};
    int pool = hret_http_add_pool(h, &lim, NULL);
    assert_true(pool >= 0);
    return pool;
}

static void submit(struct hret_http *h, int pool, const char *host, struct call *c)
{
    char url[160];
    snprintf(url, sizeof url, "http://%s:%d/v1/chat/completions", host, fake.port);
    const char *body =
        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"q\"}]}";
    struct hret_http_request req = {.url = url, .body = body, .body_len = strlen(body)};
    assert_int_equal(hret_http_submit(h, pool, &req, on_done, c, NULL), HRET_OK);
}

static void run_all(struct hret_http *h)
{
    while (hret_http_run(h, 200) > 0) {
    }
}

static size_t collect(char *data, size_t size, size_t n, void *userp)
{
    return hret_buf_append(userp, data, size * n, NULL) == HRET_OK ? size * n : 0;
}

/* fake-llm's count of chat requests, read with plain libcurl. */
static long chat_requests(void)
{
    CURL *e = curl_easy_init();
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/fake/stats", fake.port);
    struct hret_buf b;
    hret_buf_init(&b, 1 << 20);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    cJSON *doc = hret_json_parse(b.data, b.len, b.len, NULL);
    const cJSON *eps = cJSON_GetObjectItem(doc, "endpoints");
    long n = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(eps, "chat_completions"));
    cJSON_Delete(doc);
    hret_buf_fini(&b);
    return n;
}

static void assert_refused(const struct call *c, const char *what)
{
    assert_int_equal(c->done, 1);
    if (c->code != HRET_E_INVAL || c->attempts != 1) { /* permanent: not retried */
        fail_msg("code %d after %d attempts: %s", c->code, c->attempts, c->error);
    }
    if (strstr(c->error, "refused by the endpoint policy") == NULL ||
        strstr(c->error, what) == NULL) {
        fail_msg("error '%s' lacks the refusal and '%s'", c->error, what);
    }
}

static void test_loopback_refused_at_connect(void **state)
{
    (void)state;
    long before = chat_requests();
    struct hret_http *h = hret_http_new(NULL);
    int pool = add_pool(h, "inline", HRET_NET_PUBLIC);
    struct call numeric = {0}, name = {0};
    submit(h, pool, "127.0.0.1", &numeric);
    submit(h, pool, "localhost", &name);
    run_all(h);
    hret_http_destroy(h);
    assert_refused(&numeric, "loopback");
    assert_refused(&name, "loopback");
    assert_non_null(strstr(name.error, "allow_private_networks"));
    assert_int_equal(chat_requests(), before);
}

static void test_private_ok_and_operator_pools_connect(void **state)
{
    (void)state;
    struct hret_http *h = hret_http_new(NULL);
    int priv = add_pool(h, "inline-private", HRET_NET_PRIVATE_OK);
    int oper = add_pool(h, "configured", HRET_NET_ANY);
    struct call a = {0}, b = {0};
    submit(h, priv, "localhost", &a);
    submit(h, oper, "127.0.0.1", &b);
    run_all(h);
    hret_http_destroy(h);
    assert_int_equal(a.code, HRET_OK);
    assert_int_equal(b.code, HRET_OK);
}

/* An operator pool leaves a keep-alive connection to 127.0.0.1; a guarded pool asking for the
 * same host reuses it without opening a socket, and is still refused. */
static void test_reused_connection_refused(void **state)
{
    (void)state;
    struct hret_http *h = hret_http_new(NULL);
    int oper = add_pool(h, "configured", HRET_NET_ANY);
    int inl = add_pool(h, "inline", HRET_NET_PUBLIC);
    struct call first = {0}, second = {0};
    submit(h, oper, "127.0.0.1", &first);
    run_all(h);
    assert_int_equal(first.code, HRET_OK);
    long before = chat_requests();
    submit(h, inl, "127.0.0.1", &second);
    run_all(h);
    hret_http_destroy(h);
    assert_refused(&second, "loopback");
    assert_int_equal(chat_requests(), before);
}

/* ---- names that resolve to forbidden addresses (resolve override: tests only) ----------- */

struct seen {
    int calls;
    enum hret_net_class cls;
    const char *what;
};

static curl_socket_t guard_socket(void *userp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)purpose;
    struct seen *s = userp;
    s->calls++;
    s->cls = hret_net_classify(&addr->addr, &s->what);
    if (!hret_net_allowed(HRET_NET_PUBLIC, s->cls)) {
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static void test_names_resolving_to_metadata(void **state)
{
    (void)state;
    static const struct {
        const char *resolve, *url, *what;
    } cases[] = {
        {"meta.lab.example:80:169.254.169.254", "http://meta.lab.example/", "link-local"},
        {"v6.lab.example:80:[fd00:ec2::254]", "http://v6.lab.example/", "a cloud metadata"},
        {"mapped.lab.example:80:[::ffff:169.254.169.254]", "http://mapped.lab.example/",
         "link-local"},
        {"compat.lab.example:80:[::a9fe:a9fe]", "http://compat.lab.example/", "link-local"},
        {"lo.lab.example:80:127.0.0.1", "http://lo.lab.example/", "loopback"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct seen s = {0};
        struct curl_slist *resolve = curl_slist_append(NULL, cases[i].resolve);
        CURL *e = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_URL, cases[i].url);
        curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, guard_socket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &s);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
        curl_easy_setopt(e, CURLOPT_PROXY, ""); /* no proxy from the environment */
        CURLcode rc = curl_easy_perform(e);
        curl_easy_cleanup(e);
        curl_slist_free_all(resolve);
        assert_int_equal(rc, CURLE_COULDNT_CONNECT);
        assert_int_equal(s.calls, 1);
        if (s.cls == HRET_NET_CLASS_PUBLIC ||
            strncmp(s.what, cases[i].what, strlen(cases[i].what)) != 0) {
            fail_msg("%s: saw '%s', want '%s'", cases[i].resolve, s.what, cases[i].what);
        }
    }
}

static int setup(void **state)
{
    (void)state;
    return hret_fake_start(&fake, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return hret_fake_stop(&fake) == 0 ? 0 : -1;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_refused_at_connect),
        cmocka_unit_test(test_private_ok_and_operator_pools_connect),
        cmocka_unit_test(test_reused_connection_refused),
        cmocka_unit_test(test_names_resolving_to_metadata),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
