/* HRET parity: every line of tests/data/parity/hret_parity_public.jsonl (produced by HRET's own
 * code) through the evaluator named by its method with its params, byte-exact on
 * normalized_pred, normalized_ref and is_correct. Also measures extraction "robust". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_eval.h"
#include "hret_json.h"
#include "hret_mem.h"

#define MAX_SHOWN 10

struct corpus {
    struct hret_buf text;
    size_t lines;
};

struct tally {
    size_t total, matched, shown;
    size_t per_method_total[4], per_method_matched[4];
    size_t robust_changed, robust_correct, hret_correct;
};

static int setup(void **state)
{
    const char *root = getenv("HRET_SOURCE_DIR");
    char *path =
        hret_xasprintf("%s/tests/data/parity/hret_parity_public.jsonl", root ? root : "..");
    struct corpus *c = hret_xcalloc(1, sizeof *c);
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&c->text, 64u << 20);
    if (hret_buf_append_file(&c->text, path, &err) != HRET_OK) {
        fprintf(stderr, "cannot read the corpus: %s\n", err.msg);
        free(path);
        return -1;
    }
    free(path);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct corpus *c = *state;
    hret_buf_fini(&c->text);
    free(c);
    return 0;
}

/* HRET's str(x) of a prediction or reference: None -> NULL (scored as ""), 123 -> "123". */
static char *field_text(const cJSON *v)
{
    if (cJSON_IsString(v)) {
        return hret_xstrdup(v->valuestring);
    }
    if (cJSON_IsNumber(v)) {
        return hret_xasprintf("%.0f", v->valuedouble);
    }
    return NULL;
}

static void options_of(const cJSON *line, struct hret_strlist *out)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(line, "options"))
    {
        hret_strlist_push(out, hret_xstrdup(o->valuestring));
    }
}

/* Scores one line with method/params; the verdict in *v. */
static void score(const cJSON *line, const cJSON *params, struct hret_verdict *v)
{
    const char *method = cJSON_GetObjectItemCaseSensitive(line, "method")->valuestring;
    const struct hret_evaluator_ops *ops = hret_eval_find(method);
    assert_non_null(ops);
    struct hret_err err = HRET_ERR_INIT;
    void *st = NULL;
    assert_int_equal(ops->init(params, &st, &err), HRET_OK);
    char *pred = field_text(cJSON_GetObjectItemCaseSensitive(line, "prediction"));
    char *ref = field_text(cJSON_GetObjectItemCaseSensitive(line, "reference"));
    struct hret_strlist options = {0};
    options_of(line, &options);
    enum hret_result r = ops->score(st, pred, ref, &options, v, &err);
    if (r != HRET_OK) {
        fprintf(stderr, "score failed: %s\n", err.msg);
    }
    assert_int_equal(r, HRET_OK);
    hret_strlist_fini(&options);
    free(pred);
    free(ref);
    ops->destroy(st);
}

static void check_line(const cJSON *line, struct tally *t)
{
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(line, "expected");
    const char *want_pred =
        cJSON_GetObjectItemCaseSensitive(expected, "normalized_pred")->valuestring;
    const char *want_ref =
        cJSON_GetObjectItemCaseSensitive(expected, "normalized_ref")->valuestring;
    bool want_ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(expected, "is_correct"));
    const char *method = cJSON_GetObjectItemCaseSensitive(line, "method")->valuestring;
    size_t m = strcmp(method, "string_match") == 0 ? 0 : 1;
    struct hret_verdict v = {0};
    score(line, cJSON_GetObjectItemCaseSensitive(line, "params"), &v);
    bool same = strcmp(v.normalized_pred, want_pred) == 0 &&
                strcmp(v.normalized_ref, want_ref) == 0 && v.correct == want_ok;
    t->total++;
    t->matched += same;
    t->per_method_total[m]++;
    t->per_method_matched[m] += same;
    t->hret_correct += v.correct;
    if (!same && t->shown++ < MAX_SHOWN) {
        char *text = hret_json_print(line);
        fprintf(stderr, "MISMATCH %s\n  got pred=\"%s\" ref=\"%s\" correct=%d\n", text,
                v.normalized_pred, v.normalized_ref, v.correct);
        free(text);
    }
    bool hret_ok = v.correct;
    hret_verdict_fini(&v);

    cJSON *robust = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(line, "params"), true);
    cJSON_AddStringToObject(robust, "extraction", "robust");
    score(line, robust, &v);
    t->robust_changed += v.correct != hret_ok;
    t->robust_correct += v.correct;
    hret_verdict_fini(&v);
    cJSON_Delete(robust);
}

static void test_parity(void **state)
{
    struct corpus *c = *state;
    struct tally t = {0};
    const char *p = hret_buf_str(&c->text);
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0) {
            struct hret_err err = HRET_ERR_INIT;
            cJSON *line = hret_json_parse(p, len, len, &err);
            assert_non_null(line);
            check_line(line, &t);
            cJSON_Delete(line);
        }
        p += nl ? len + 1 : len;
    }
    printf("parity: %zu/%zu lines (string_match %zu/%zu, partial_match %zu/%zu)\n", t.matched,
           t.total, t.per_method_matched[0], t.per_method_total[0], t.per_method_matched[1],
           t.per_method_total[1]);
    printf("robust extraction: %zu verdicts differ from HRET; correct %zu -> %zu of %zu\n",
           t.robust_changed, t.hret_correct, t.robust_correct, t.total);
    assert_int_equal(t.total, 842);
    assert_int_equal(t.matched, t.total);
    /* Sanity only: robust mode exists to score more of these MCQA answers as correct. */
    assert_true(t.robust_changed > 0);
    assert_true(t.robust_correct > t.hret_correct);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parity, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
