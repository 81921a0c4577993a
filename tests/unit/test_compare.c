/* hret_compare: pairing by id, exclusion of errored items, discordant counts, Holm across
 * subsets, the unpaired fallback, verdicts and the JSON shape, from small hand-built runs. */
#include "hret_test.h"

#include <math.h>
#include <string.h>

#include "hret_compare.h"
#include "hret_json.h"

/* Adds n items "<prefix><i>" (i from first) to run, the first n_right of them correct. */
static void add_items(struct hret_compare_run *run, const char *prefix, int first, int n,
                      int n_right, const char *subset)
{
    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s%d", prefix, first + i);
        hret_compare_run_add(run, id, subset, i < n_right, false);
    }
}

/* A subset where both runs are right on `both`, then A only on a_only, B only on b_only, and
 * both wrong on neither items (ids "<subset>/<i>"). */
static void add_cells(struct hret_compare_run *a, struct hret_compare_run *b, const char *subset,
                      int both, int a_only, int b_only, int neither)
{
    int n = both + a_only + b_only + neither;
    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s/%d", subset ? subset : "-", i);
        bool ca = i < both + a_only;
        bool cb = i < both || (i >= both + a_only && i < both + a_only + b_only);
        hret_compare_run_add(a, id, subset, ca, false);
        hret_compare_run_add(b, id, subset, cb, false);
    }
}

static struct hret_compare *compare_ok(const struct hret_compare_run *a,
                                       const struct hret_compare_run *b, size_t bootstrap)
{
    struct hret_compare_options opt = HRET_COMPARE_OPTIONS_DEFAULT;
    opt.bootstrap = bootstrap;
    struct hret_compare *c = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_compare_runs(a, b, &opt, &c, &err) != HRET_OK) {
        fail_msg("compare failed: %s", err.msg);
    }
    return c;
}

static void expect_prefix(const char *got, const char *want)
{
    if (strncmp(got, want, strlen(want)) != 0) {
        fail_msg("verdict '%s' does not start with '%s'", got, want);
    }
}

static void expect_contains(const char *got, const char *want)
{
    if (strstr(got, want) == NULL) {
        fail_msg("'%s' lacks '%s'", got, want);
    }
}

static void test_pairing_and_exclusion(void **state)
{
    (void)state;
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, "A");
    hret_compare_run_init(&b, "B");
    for (int i = 1; i <= 10; i++) { /* A: 1..10, right on odd ids, 5 errored */
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        hret_compare_run_add(&a, id, "s", i % 2 == 1, i == 5);
    }
    hret_compare_run_add(&a, "3", "s", false, false); /* repeated id: ignored */
    for (int i = 12; i >= 3; i--) { /* B: 3..12 in another order, right on all, 6 errored */
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        hret_compare_run_add(&b, id, "s", true, i == 6);
    }
    struct hret_compare *c = compare_ok(&a, &b, 500);
    assert_true(c->paired);
    assert_int_equal(c->items_a, 10);
    assert_int_equal(c->items_b, 10);
    assert_int_equal(c->duplicates, 1);
    assert_int_equal(c->shared, 8);
    assert_int_equal(c->excluded_errors, 2);
    assert_int_equal(c->only_a, 2);
    assert_int_equal(c->only_b, 2);
    assert_int_equal(c->errors_a, 1);
    assert_int_equal(c->errors_b, 1);
    /* pairs 3 4 7 8 9 10: A right on 3 7 9, B right on all */
    assert_int_equal(c->overall.n_a, 6);
    assert_int_equal(c->overall.cells.both, 3);
    assert_int_equal(c->overall.cells.b_only, 3);
    assert_int_equal(c->overall.cells.a_only, 0);
    assert_int_equal(c->overall.cells.neither, 0);
    assert_true(fabs(c->overall.p_value - 0.25) < 1e-15); /* 2 * 0.5^3 */
    assert_true(fabs(c->overall.diff - 0.5) < 1e-15);
    assert_int_equal(c->n_subsets, 1);
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
}

static void test_verdict_better_and_worse(void **state)
{
    (void)state;
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, "A");
    hret_compare_run_init(&b, "B");
    add_cells(&a, &b, NULL, 100, 0, 30, 70);
    struct hret_compare *c = compare_ok(&a, &b, 2000);
    assert_true(c->significant && c->direction == 1);
    expect_prefix(c->verdict, "B is better than A by +15.0 points (95% CI +");
    expect_contains(c->verdict, "McNemar p < 0.0001");
    assert_true(fabs(c->overall.p_value - 2 * pow(0.5, 30)) < 1e-20);
    assert_true(c->overall.diff_lo > 0 && c->overall.diff_lo < 0.15 && c->overall.diff_hi > 0.15);
    assert_true(c->overall.acc_a_lo < 0.5 && c->overall.acc_a_hi > 0.5);
    assert_int_equal(c->n_subsets, 0); /* no subsets, no table */
    hret_compare_destroy(c);
    c = compare_ok(&b, &a, 2000);
    assert_true(c->significant && c->direction == -1);
    expect_prefix(c->verdict, "B is worse than A by -15.0 points (95% CI -");
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
}

static void test_verdict_not_significant(void **state)
{
    (void)state;
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, "A");
    hret_compare_run_init(&b, "B");
    add_cells(&a, &b, "x", 600, 5, 7, 388);
    struct hret_compare *c = compare_ok(&a, &b, 1000);
    assert_false(c->significant);
    assert_int_equal(c->direction, 0);
    /* binomtest(5, 12): 2 * 1586 / 4096 */
    assert_true(fabs(c->overall.p_value - 2 * 1586.0 / 4096) < 1e-14);
    char want[200];
    snprintf(want, sizeof want,
             "no significant difference (McNemar p = 0.77); a difference of %.1f points would "
             "be detectable at this sample size",
             100 * hret_stats_mde_paired(1000, 0.012, 0.05, 0.8));
    assert_string_equal(c->verdict, want);
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);

    hret_compare_run_init(&a, "A");
    hret_compare_run_init(&b, "B");
    add_cells(&a, &b, NULL, 40, 0, 0, 10);
    c = compare_ok(&a, &b, 100);
    assert_string_equal(c->verdict, "no significant difference (McNemar p = 1); the runs agree "
                                    "on every shared item");
    assert_true(isnan(c->overall.mde));
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
}

static void test_holm_across_subsets(void **state)
{
    (void)state;
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, "A");
    hret_compare_run_init(&b, "B");
    add_cells(&a, &b, "s2", 20, 2, 8, 10);                /* p = 2 (1 + 10 + 45) / 1024 */
    add_cells(&a, &b, "s1", 30, 0, 10, 5);                /* p = 2 / 1024 */
    add_cells(&a, &b, "s3", 10, 5, 5, 10);                /* p = 1 */
    hret_compare_run_add(&a, "loose", NULL, true, false); /* no subset: overall only */
    hret_compare_run_add(&b, "loose", NULL, true, false);
    struct hret_compare *c = compare_ok(&a, &b, 500);
    assert_int_equal(c->n_subsets, 3);
    assert_string_equal(c->subsets[0].name, "s1"); /* sorted by name */
    assert_string_equal(c->subsets[2].name, "s3");
    assert_int_equal(c->overall.n_a, 40 + 45 + 30 + 1);
    assert_int_equal(c->subsets[1].cells.a_only, 2);
    assert_int_equal(c->subsets[1].cells.b_only, 8);
    assert_true(fabs(c->subsets[0].p_value - 2.0 / 1024) < 1e-15);
    assert_true(fabs(c->subsets[1].p_value - 112.0 / 1024) < 1e-15);
    assert_true(fabs(c->subsets[0].p_holm - 3 * 2.0 / 1024) < 1e-15);
    assert_true(fabs(c->subsets[1].p_holm - 2 * 112.0 / 1024) < 1e-15);
    assert_true(c->subsets[2].p_holm == 1.0);
    /* the subset interval does not depend on which other subsets exist */
    double lo = c->subsets[0].diff_lo, hi = c->subsets[0].diff_hi;
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
    hret_compare_run_init(&a, "A");
    hret_compare_run_init(&b, "B");
    add_cells(&a, &b, "s1", 30, 0, 10, 5);
    c = compare_ok(&a, &b, 500);
    assert_true(c->subsets[0].diff_lo == lo && c->subsets[0].diff_hi == hi);
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
}

static void test_unpaired_fallback(void **state)
{
    (void)state;
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, "A");
    hret_compare_run_init(&b, "B");
    add_items(&a, "a", 0, 100, 55, "s");
    add_items(&b, "b", 0, 100, 70, "s");
    hret_compare_run_add(&b, "a0", "s", true, true); /* shared but errored: no pair */
    struct hret_compare *c = compare_ok(&a, &b, 1000);
    assert_false(c->paired);
    assert_int_equal(c->shared, 1);
    assert_int_equal(c->excluded_errors, 1);
    assert_int_equal(c->overall.n_a, 100);
    assert_int_equal(c->overall.n_b, 100);
    double p = hret_stats_two_prop_z(55, 100, 70, 100, NULL);
    assert_true(c->overall.p_value == p && p < 0.05);
    expect_prefix(c->verdict, "the runs share no items, compared as independent samples: B is "
                              "better than A by +15.0 points");
    expect_contains(c->verdict, "two-proportion p = 0.028");
    cJSON *j = hret_compare_json(c);
    const cJSON *test = cJSON_GetObjectItemCaseSensitive(j, "test");
    assert_string_equal(test->valuestring, "two_proportion_z");
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "overall"),
                                                 "a_right_b_wrong"));
    cJSON_Delete(j);
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
}

static void test_nothing_to_compare(void **state)
{
    (void)state;
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, "A");
    hret_compare_run_init(&b, "B");
    add_items(&a, "a", 0, 10, 5, NULL);
    hret_compare_run_add(&b, "b1", NULL, false, true);
    struct hret_compare_options opt = HRET_COMPARE_OPTIONS_DEFAULT;
    struct hret_compare *c = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_compare_runs(&a, &b, &opt, &c, &err), HRET_E_INVAL);
    assert_null(c);
    expect_contains(err.msg, "B has no answered item (1 items, 1 errors)");
    opt.bootstrap = 0;
    hret_err_clear(&err);
    assert_int_equal(hret_compare_runs(&a, &a, &opt, &c, &err), HRET_E_INVAL);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
    hret_compare_destroy(NULL);
    hret_compare_run_fini(NULL);
}

static void test_json_shape(void **state)
{
    (void)state;
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, "run-a.json");
    hret_compare_run_init(&b, "run-b.json");
    add_cells(&a, &b, "law", 50, 3, 20, 27);
    add_cells(&a, &b, "math", 40, 0, 0, 10); /* agree: no MDE (null) */
    struct hret_compare *c = compare_ok(&a, &b, 300);
    cJSON *j = hret_compare_json(c);
    char *text = hret_json_print(j);
    cJSON *back = hret_json_parse(text, strlen(text), strlen(text) + 1, NULL);
    assert_non_null(back);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(back, "overall");
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "a_right_b_wrong")->valuedouble == 3);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "a_wrong_b_right")->valuedouble == 20);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "pairs")->valuedouble == 150);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "difference_ci")), 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "better")->valuestring, "b");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(back, "paired")));
    const cJSON *subsets = cJSON_GetObjectItemCaseSensitive(back, "subsets");
    assert_int_equal(cJSON_GetArraySize(subsets), 2);
    const cJSON *math = cJSON_GetArrayItem(subsets, 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(math, "name")->valuestring, "math");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(math, "mde")));
    assert_true(cJSON_GetObjectItemCaseSensitive(math, "p_holm")->valuedouble == 1);
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(back, "bootstrap");
    assert_true(cJSON_GetObjectItemCaseSensitive(bs, "replicates")->valuedouble == 300);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "verdict")->valuestring, c->verdict);
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(j);
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
}

static void test_format_p(void **state)
{
    (void)state;
    char p[32];
    hret_compare_format_p(0.0012345, p, sizeof p);
    assert_string_equal(p, "= 0.0012");
    hret_compare_format_p(0.41, p, sizeof p);
    assert_string_equal(p, "= 0.41");
    hret_compare_format_p(3e-9, p, sizeof p);
    assert_string_equal(p, "< 0.0001");
    hret_compare_format_p(1, p, sizeof p);
    assert_string_equal(p, "= 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairing_and_exclusion),
        cmocka_unit_test(test_verdict_better_and_worse),
        cmocka_unit_test(test_verdict_not_significant),
        cmocka_unit_test(test_holm_across_subsets),
        cmocka_unit_test(test_unpaired_fallback),
        cmocka_unit_test(test_nothing_to_compare),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_format_p),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
