/* Reading echoed prompt log-probabilities, from the recorded and hand-made response bodies in
 * tests/data/judge/logprobs/ (one case per .json: {"description", "prompt", "context", "body",
 * "expect": {"echo_ok", "sum", "tokens"}, "expect_error": "substring"}): the body goes through
 * the completions backend's parse like a real response, then hret_logprobs_echo_ok and
 * hret_logprobs_continuation. Also the chat logprobs check. */
#include "hret_test.h"

#include <dirent.h>
#include <math.h>
#include <string.h>

#include "hret_backend.h"
#include "hret_buf.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_logprobs.h"

static void run_case(const char *name, const cJSON *c)
{
    const char *prompt = cJSON_GetObjectItemCaseSensitive(c, "prompt")->valuestring;
    const char *context = cJSON_GetObjectItemCaseSensitive(c, "context")->valuestring;
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
    const cJSON *want_error = cJSON_GetObjectItemCaseSensitive(c, "expect_error");
    assert_int_equal(strncmp(prompt, context, strlen(context)), 0);
    char *body = hret_json_print(cJSON_GetObjectItemCaseSensitive(c, "body"));
    struct hret_backend_output out = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_backend_openai_completions.parse(body, strlen(body), &out, &err) != HRET_OK) {
        fail_msg("%s: the body does not parse: %s", name, err.msg);
    }
    char why[256];
    bool echo = hret_logprobs_echo_ok(out.logprobs, out.prompt_tokens, why, sizeof why);
    const cJSON *want_echo = cJSON_GetObjectItemCaseSensitive(expect, "echo_ok");
    if (cJSON_IsTrue(want_echo) != echo) {
        fail_msg("%s: echo_ok %d (%s)", name, echo, why);
    }
    double sum = NAN;
    size_t tokens = 0;
    enum hret_result r = hret_logprobs_continuation(out.logprobs, prompt, strlen(context),
                                                    out.prompt_tokens, &sum, &tokens, &err);
    if (want_error != NULL) {
        if (r != HRET_E_PROTO || strstr(err.msg, want_error->valuestring) == NULL) {
            fail_msg("%s: want an error with \"%s\", got %d \"%s\"", name, want_error->valuestring,
                     r, err.msg);
        }
    } else {
        if (r != HRET_OK) {
            fail_msg("%s: %s", name, err.msg);
        }
        double want = cJSON_GetObjectItemCaseSensitive(expect, "sum")->valuedouble;
        if (fabs(sum - want) > 1e-9) {
            fail_msg("%s: sum %.12g, want %.12g", name, sum, want);
        }
        assert_int_equal(tokens,
                         (size_t)cJSON_GetObjectItemCaseSensitive(expect, "tokens")->valueint);
    }
    hret_backend_output_fini(&out);
    free(body);
}

static void test_logprob_fixtures(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", hret_test_path("tests/data/judge/logprobs"));
    DIR *d = opendir(dir);
    assert_non_null(d);
    int cases = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0) {
            continue;
        }
        char *path = hret_xasprintf("%s/%s", dir, e->d_name);
        struct hret_buf b;
        hret_buf_init(&b, 1 << 20);
        assert_int_equal(hret_buf_append_file(&b, path, NULL), HRET_OK);
        cJSON *c = hret_json_parse(b.data, b.len, b.len + 1, NULL);
        if (c == NULL) {
            fail_msg("%s: not JSON", path);
        }
        run_case(e->d_name, c);
        cJSON_Delete(c);
        hret_buf_fini(&b);
        free(path);
        cases++;
    }
    closedir(d);
    assert_true(cases >= 8);
}

/* Without a tokens array the unit cannot be told from the token strings: characters, as the
 * Python servers count, and the boundary is the context length in characters. */
static void test_without_token_strings(void **state)
{
    (void)state;
    /* "한국" (offset 0), " " (2), "A" (3) */
    cJSON *lp = cJSON_Parse("{\"token_logprobs\": [null, -2, -0.5], \"text_offset\": [0, 2, 3]}");
    double sum = 0;
    size_t tokens = 0;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(
        hret_logprobs_continuation(lp, "한국 A", strlen("한국"), 3, &sum, &tokens, &err), HRET_OK);
    assert_true(sum == -2.5);
    assert_int_equal(tokens, 2);
    cJSON_Delete(lp);
}

static void test_chat_logprobs(void **state)
{
    (void)state;
    char why[128];
    cJSON *ok = cJSON_Parse("{\"content\": [{\"token\": \"OK\", \"logprob\": -0.01, "
                            "\"bytes\": null, \"top_logprobs\": []}]}");
    assert_true(hret_logprobs_chat_ok(ok, why, sizeof why));
    cJSON *empty = cJSON_Parse("{\"content\": []}");
    assert_false(hret_logprobs_chat_ok(empty, why, sizeof why));
    assert_false(hret_logprobs_chat_ok(NULL, why, sizeof why));
    assert_non_null(strstr(why, "no per-token logprobs"));
    cJSON_Delete(ok);
    cJSON_Delete(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logprob_fixtures),
        cmocka_unit_test(test_without_token_strings),
        cmocka_unit_test(test_chat_logprobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
