/* LLM-as-a-judge: verdict parsing from the fixture folder tests/data/judge/parse/ (one case per
 * line of each .jsonl: {"name", "type", "text", "reference", "expect": {"parse_failure",
 * "score", "correct", "parsed"}}, each expect member optional), through hret_judge_parse and
 * through the llm_judge evaluator; the judge prompts; the params; the log_likelihood evaluator. */
#include "hret_test.h"

#include <dirent.h>
#include <math.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_eval.h"
#include "hret_judge.h"
#include "hret_json.h"
#include "hret_mem.h"

static void check_verdict(const char *where, const cJSON *expect, const struct hret_verdict *v)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(expect, "parse_failure");
    if (e != NULL && cJSON_IsTrue(e) != v->parse_failure) {
        fail_msg("%s: parse_failure %d", where, v->parse_failure);
    }
    e = cJSON_GetObjectItemCaseSensitive(expect, "correct");
    if (e != NULL && cJSON_IsTrue(e) != v->correct) {
        fail_msg("%s: correct %d", where, v->correct);
    }
    e = cJSON_GetObjectItemCaseSensitive(expect, "score");
    if (e != NULL && !(v->score == e->valuedouble)) {
        fail_msg("%s: score %g, want %g", where, v->score, e->valuedouble);
    }
    if (e == NULL && !isnan(v->score)) {
        fail_msg("%s: score %g, want none", where, v->score);
    }
    e = cJSON_GetObjectItemCaseSensitive(expect, "parsed");
    if (e != NULL && strcmp(e->valuestring, v->normalized_pred) != 0) {
        fail_msg("%s: parsed \"%s\", want \"%s\"", where, v->normalized_pred, e->valuestring);
    }
}

static void run_case(const char *file, int line, const cJSON *c)
{
    const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
    const char *type_name = cJSON_GetObjectItemCaseSensitive(c, "type")->valuestring;
    const char *text = cJSON_GetObjectItemCaseSensitive(c, "text")->valuestring;
    const char *ref = cJSON_GetObjectItemCaseSensitive(c, "reference")->valuestring;
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
    char where[512];
    snprintf(where, sizeof where, "%s:%d (%s)", file, line, name);
    enum hret_judge_type t;
    if (!hret_judge_type_parse(type_name, &t)) {
        fail_msg("%s: unknown type %s", where, type_name);
    }
    struct hret_verdict v;
    hret_judge_parse(t, text, ref, &v);
    check_verdict(where, expect, &v);
    hret_verdict_fini(&v);
    /* the same through the evaluator, as `hret score` uses it */
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "judge_type", type_name);
    void *state = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_eval_llm_judge.init(params, &state, &err), HRET_OK);
    assert_int_equal(hret_eval_llm_judge.score(state, text, ref, NULL, &v, &err), HRET_OK);
    check_verdict(where, expect, &v);
    hret_verdict_fini(&v);
    hret_eval_llm_judge.destroy(state);
    cJSON_Delete(params);
}

static void test_parse_fixtures(void **state)
{
    (void)state;
    const char *dir = hret_test_path("tests/data/judge/parse");
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", dir);
    DIR *d = opendir(dirpath);
    assert_non_null(d);
    int cases = 0, files = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n < 7 || strcmp(e->d_name + n - 6, ".jsonl") != 0) {
            continue;
        }
        char *path = hret_xasprintf("%s/%s", dirpath, e->d_name);
        struct hret_buf b;
        hret_buf_init(&b, 1 << 20);
        assert_int_equal(hret_buf_append_file(&b, path, NULL), HRET_OK);
        int line = 0;
        for (char *p = b.data, *nl; p && *p; p = nl ? nl + 1 : NULL) {
            nl = strchr(p, '\n');
            line++;
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            if (len == 0) {
                continue;
            }
            cJSON *c = hret_json_parse(p, len, len + 1, NULL);
            if (c == NULL) {
                fail_msg("%s:%d: not JSON", path, line);
            }
            run_case(e->d_name, line, c);
            cJSON_Delete(c);
            cases++;
        }
        hret_buf_fini(&b);
        free(path);
        files++;
    }
    closedir(d);
    assert_int_equal(files, 4); /* one file per judge type */
    assert_true(cases >= 30);
}

static void test_types_and_params(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        enum hret_judge_type t;
        assert_true(hret_judge_type_parse(hret_judge_type_name((enum hret_judge_type)i), &t));
        assert_int_equal((int)t, i);
    }
    enum hret_judge_type t = HRET_JUDGE_PAIRWISE;
    assert_false(hret_judge_type_parse("pairwise", &t));
    assert_false(hret_judge_type_parse(NULL, &t));
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_judge_params(NULL, &t, &err), HRET_OK);
    assert_int_equal(t, HRET_JUDGE_K2_EVAL);
    cJSON *p = cJSON_Parse("{\"judge_type\": \"response_comparison\"}");
    assert_int_equal(hret_judge_params(p, &t, &err), HRET_OK);
    assert_int_equal(t, HRET_JUDGE_PAIRWISE);
    cJSON_Delete(p);
    p = cJSON_Parse("{\"judge_type\": \"likert\"}");
    assert_int_equal(hret_judge_params(p, &t, &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "k2_eval, rubric_and_response"));
    cJSON_Delete(p);
    hret_err_clear(&err);
    p = cJSON_Parse("{\"judge_type\": \"k2_eval\", \"temperature\": 0}");
    void *st = NULL;
    assert_int_equal(hret_eval_llm_judge.init(p, &st, &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "'temperature'"));
    assert_null(st);
    cJSON_Delete(p);
}

static void assert_contains(const char *s, const char *part)
{
    if (strstr(s, part) == NULL) {
        fail_msg("\"%s\" not in the prompt:\n%s", part, s);
    }
}

static void test_prompts(void **state)
{
    (void)state;
    struct hret_judge_input in = {"  질문: 한국의 수도는?\n", "\n서울입니다.  ", " 서울 ",
                                  " 부산입니다. ", NULL};
    char *k2 = hret_judge_prompt(HRET_JUDGE_K2_EVAL, &in);
    assert_contains(k2, "### 지시문:\n질문: 한국의 수도는?\n\n### 답변:\n서울입니다.\n\n");
    assert_contains(k2, "완결성");
    assert_contains(k2, "문화적 적절성");
    assert_true(strcmp(k2 + strlen(k2) - strlen("Score: <점수>"), "Score: <점수>") == 0);
    assert_null(strstr(k2, "부산")); /* no response B, no reference */
    free(k2);
    char *pair = hret_judge_prompt(HRET_JUDGE_PAIRWISE, &in);
    assert_contains(pair, "### Instruction:\n질문: 한국의 수도는?\n\n### Response A:\n서울입니다."
                          "\n\n### Response B:\n부산입니다.\n\n");
    assert_contains(pair, "[[A]] or [[B]].");
    free(pair);
    char *gold = hret_judge_prompt(HRET_JUDGE_RUBRIC_GOLD, &in);
    assert_contains(gold, "### Reference answer:\n서울\n");
    assert_contains(gold, "[[true]] or [[false]]");
    free(gold);
    in.rubric = "정확성만 본다.";
    char *rubric = hret_judge_prompt(HRET_JUDGE_RUBRIC, &in);
    assert_contains(rubric, "### Score rubric:\n정확성만 본다.");
    assert_contains(rubric, "[RESULT]");
    free(rubric);
    struct hret_judge_input empty = {0};
    char *e = hret_judge_prompt(HRET_JUDGE_PAIRWISE, &empty);
    assert_contains(e, "### Response B:\n\n");
    free(e);
}

static void test_log_likelihood_evaluator(void **state)
{
    (void)state;
    const struct hret_evaluator_ops *ev = hret_eval_find("log_likelihood");
    assert_ptr_equal(ev, &hret_eval_log_likelihood);
    void *st = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(ev->init(NULL, &st, &err), HRET_OK);
    struct hret_verdict v;
    assert_int_equal(ev->score(st, " (B)\n", "(B)", NULL, &v, &err), HRET_OK);
    assert_true(v.correct);
    assert_string_equal(v.normalized_pred, "(B)");
    hret_verdict_fini(&v);
    assert_int_equal(ev->score(st, "(b)", "(B)", NULL, &v, &err), HRET_OK);
    assert_false(v.correct); /* exact: no case folding (HRET §3.4) */
    hret_verdict_fini(&v);
    assert_int_equal(ev->score(st, NULL, "(B)", NULL, &v, &err), HRET_OK);
    assert_false(v.correct);
    hret_verdict_fini(&v);
    ev->destroy(st);
    cJSON *p = cJSON_Parse("{\"return_logits\": true}");
    assert_int_equal(ev->init(p, &st, &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "'return_logits'"));
    cJSON_Delete(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fixtures),
        cmocka_unit_test(test_types_and_params),
        cmocka_unit_test(test_prompts),
        cmocka_unit_test(test_log_likelihood_evaluator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
