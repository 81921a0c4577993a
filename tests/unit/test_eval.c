/* Evaluators: the registry, the answer markers, and the fixture folder tests/data/eval/ (one case
 * per line of each .jsonl).
 *
 * A fixture line: {"name", "method", "params", "prediction", "reference", "options",
 * "expect": {"is_correct", "normalized_pred", "normalized_ref", "parse_failure"}} (each expect
 * member optional), or "expect_error": "substring" when init or score must fail. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_eval.h"
#include "hret_json.h"
#include "hret_mem.h"

static void test_registry(void **state)
{
    (void)state;
    assert_ptr_equal(hret_eval_find("string_match"), &hret_eval_string_match);
    assert_ptr_equal(hret_eval_find("partial_match"), &hret_eval_partial_match);
    assert_ptr_equal(hret_eval_find("math_match"), &hret_eval_math_match);
    assert_ptr_equal(hret_eval_find("log_likelihood"), &hret_eval_log_likelihood);
    assert_ptr_equal(hret_eval_find("llm_judge"), &hret_eval_llm_judge);
    assert_null(hret_eval_find("log_prob_mcqa"));
    assert_null(hret_eval_find(NULL));
    char names[128];
    assert_string_equal(hret_eval_names(names, sizeof names),
                        "string_match, partial_match, math_match, log_likelihood, llm_judge");
    assert_null(hret_eval_at(5));
}

/* Every marker of HRET's alternation, as written and in either case. */
static void test_every_marker(void **state)
{
    (void)state;
    static const char *const markers[] = {
        "Answer:", "Final Answer :", "답변:",     "정답 :",    "정답은:", "답:",
        "답은 :",  "답안:",          "答案：",    "答案:",     "解答：",  "回答 :",
        "答：",    "Jawaban:",       "Réponse:",  "Resposta:", "Jibu:",   "Idahun:",
        "Ìdáhùn:", "Idáhùn:",        "Àmọ̀nà:",    "Àdáhùn:",   "Ànúgọ:",  "Àṣàyàn:",
        "ANSWER:", "final\tanswer:", "RÉPONSE :", "ÌDÁHÙN:",   "àṣàyàn:", "ÀṢÀYÀN:",
    };
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        char *text = hret_xasprintf("some reasoning. %s  (B) \n", markers[i]);
        size_t off = 0, len = 0, at = 0;
        bool found =
            hret_eval_find_answer(text, strlen(text), HRET_EVAL_MARKER_FIRST, &off, &len, &at);
        if (!found || len != 3 || memcmp(text + off, "(B)", 3) != 0) {
            fail_msg("marker %s not found in \"%s\"", markers[i], text);
        }
        assert_int_equal(at, strlen("some reasoning. "));
        free(text);
    }
}

static void test_marker_order(void **state)
{
    (void)state;
    const char *t = "정답: (A)\n다시 보니 정답: (C)";
    size_t off, len;
    assert_true(hret_eval_find_answer(t, strlen(t), HRET_EVAL_MARKER_FIRST, &off, &len, NULL));
    assert_int_equal(len, strlen("(A)\n다시 보니 정답: (C)")); /* everything after the first */
    assert_true(hret_eval_find_answer(t, strlen(t), HRET_EVAL_MARKER_LAST, &off, &len, NULL));
    assert_int_equal(len, 3);
    assert_memory_equal(t + off, "(C)", 3);
    const char *none = "정답은 (A). Answer"; /* no colon; a marker at the very end */
    assert_false(
        hret_eval_find_answer(none, strlen(none), HRET_EVAL_MARKER_FIRST, &off, &len, NULL));
    const char *blank = "Answer:   "; /* \s* gives one space back to .+ */
    assert_true(
        hret_eval_find_answer(blank, strlen(blank), HRET_EVAL_MARKER_FIRST, &off, &len, NULL));
    assert_int_equal(len, 0);
    const char *bare = "Answer:"; /* .+ needs a character */
    assert_false(
        hret_eval_find_answer(bare, strlen(bare), HRET_EVAL_MARKER_FIRST, &off, &len, NULL));
}

static void test_hangul_share(void **state)
{
    (void)state;
    assert_true(hret_eval_hangul_share("정답은 (A)입니다") > 0.8);
    assert_true(hret_eval_hangul_share("(a)") == 0.0);
    assert_true(hret_eval_hangul_share(NULL) == 0.0);
}

/* Invalid UTF-8 reaches every evaluator unharmed: the bytes come back as they went in. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    cJSON *params = cJSON_Parse("{\"regexes_to_ignore\": [\"\\\\s*x.*\"]}");
    const struct hret_evaluator_ops *all[] = {&hret_eval_string_match, &hret_eval_partial_match,
                                              &hret_eval_math_match};
    for (size_t i = 0; i < 3; i++) {
        void *st = NULL;
        struct hret_err err = HRET_ERR_INIT;
        assert_int_equal(all[i]->init(i < 2 ? params : NULL, &st, &err), HRET_OK);
        struct hret_verdict v = {0};
        assert_int_equal(
            all[i]->score(st, "\xff\xfe \xc3(A)\xed\xa0\x80 x\xc0", "(A)\xff", NULL, &v, &err),
            HRET_OK);
        assert_non_null(v.normalized_pred);
        if (i < 2) {
            assert_string_equal(v.normalized_pred, "\xff\xfe \xc3(a)\xed\xa0\x80");
            assert_string_equal(v.normalized_ref, "(a)\xff");
        }
        hret_verdict_fini(&v);
        all[i]->destroy(st);
    }
    cJSON_Delete(params);
}

/* ---- the fixture folder ---- */

struct outcome {
    enum hret_result r;
    struct hret_err err;
    struct hret_verdict v;
};

static char *text_of(const cJSON *line, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(line, key);
    return cJSON_IsString(v) ? hret_xstrdup(v->valuestring) : NULL;
}

static void run_case(const cJSON *line, struct outcome *o)
{
    const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "method"));
    const struct hret_evaluator_ops *ops = hret_eval_find(method);
    if (ops == NULL) {
        o->r = hret_err_set(&o->err, HRET_E_INVAL, "unknown method '%s'", method);
        return;
    }
    void *st = NULL;
    o->r = ops->init(cJSON_GetObjectItemCaseSensitive(line, "params"), &st, &o->err);
    if (o->r != HRET_OK) {
        return;
    }
    struct hret_strlist options = {0};
    const cJSON *opt;
    cJSON_ArrayForEach(opt, cJSON_GetObjectItemCaseSensitive(line, "options"))
    {
        hret_strlist_push(&options, hret_xstrdup(opt->valuestring));
    }
    char *pred = text_of(line, "prediction"), *ref = text_of(line, "reference");
    o->r = ops->score(st, pred, ref, &options, &o->v, &o->err);
    free(pred);
    free(ref);
    hret_strlist_fini(&options);
    ops->destroy(st);
}

/* NULL when the outcome is what the line expects, else why not (caller frees). */
static char *judge(const cJSON *line, const struct outcome *o)
{
    const char *want_err =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "expect_error"));
    if (want_err != NULL) {
        return o->r != HRET_OK && strstr(o->err.msg, want_err) != NULL
                   ? NULL
                   : hret_xasprintf("want error containing \"%s\", got %s \"%s\"", want_err,
                                    hret_result_name(o->r), o->err.msg);
    }
    if (o->r != HRET_OK) {
        return hret_xasprintf("unexpected error: %s", o->err.msg);
    }
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(line, "expect");
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(x, "is_correct");
    const cJSON *pf = cJSON_GetObjectItemCaseSensitive(x, "parse_failure");
    const char *np = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "normalized_pred"));
    const char *nr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "normalized_ref"));
    if (x == NULL || (ok != NULL && cJSON_IsTrue(ok) != o->v.correct) ||
        (pf != NULL && cJSON_IsTrue(pf) != o->v.parse_failure) ||
        (np != NULL && strcmp(np, o->v.normalized_pred) != 0) ||
        (nr != NULL && strcmp(nr, o->v.normalized_ref) != 0)) {
        return hret_xasprintf("got is_correct=%d parse_failure=%d normalized_pred=\"%s\" "
                              "normalized_ref=\"%s\"",
                              o->v.correct, o->v.parse_failure, o->v.normalized_pred,
                              o->v.normalized_ref);
    }
    return NULL;
}

/* Runs every line of one fixture file; returns the number of cases, counts failures. */
static size_t run_file(const char *path, size_t *failures)
{
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, 16u << 20);
    assert_int_equal(hret_buf_append_file(&b, path, &err), HRET_OK);
    size_t cases = 0, lineno = 0;
    for (const char *p = hret_buf_str(&b); *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (len > 0 && p[0] != '#') {
            cJSON *line = hret_json_parse(p, len, len, &err);
            if (line == NULL) {
                fail_msg("%s:%zu: %s", path, lineno, err.msg);
            }
            struct outcome o = {HRET_OK, HRET_ERR_INIT, {0}};
            run_case(line, &o);
            char *why = judge(line, &o);
            if (why != NULL) {
                const char *name =
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "name"));
                fprintf(stderr, "FAIL %s:%zu %s: %s\n", path, lineno, name ? name : "", why);
                (*failures)++;
                free(why);
            }
            hret_verdict_fini(&o.v);
            cJSON_Delete(line);
            cases++;
        }
        p += nl ? len + 1 : len;
    }
    hret_buf_fini(&b);
    return cases;
}

static void test_fixtures(void **state)
{
    (void)state;
    const char *root = getenv("HRET_SOURCE_DIR");
    char *dir = hret_xasprintf("%s/tests/data/eval", root ? root : "..");
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t files = 0, cases = 0, failures = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 6 && strcmp(de->d_name + n - 6, ".jsonl") == 0) {
            char *path = hret_xasprintf("%s/%s", dir, de->d_name);
            cases += run_file(path, &failures);
            files++;
            free(path);
        }
    }
    closedir(d);
    free(dir);
    printf("eval fixtures: %zu cases in %zu files, %zu failed\n", cases, files, failures);
    assert_true(cases > 0);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),     cmocka_unit_test(test_every_marker),
        cmocka_unit_test(test_marker_order), cmocka_unit_test(test_hangul_share),
        cmocka_unit_test(test_invalid_utf8), cmocka_unit_test(test_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
