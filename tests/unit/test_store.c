/* The store's pure parts: SQLSTATE classification, COPY escaping, metric keys, array literals,
 * ages, metric direction and stats, grouping, Hugging Face URLs, dataset versions, --meta. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_pg.h"
#include "hret_pg_copy.h"
#include "hret_store.h"
#include "hret_store_dataset.h"
#include "hret_store_hf.h"
#include "hret_store_query.h"
#include "hret_store_runlog.h"
#include "hret_store_stats.h"

static void test_sqlstate_classes(void **state)
{
    (void)state;
    assert_int_equal(hret_pg_sqlstate_result("08006"), HRET_E_UNAVAILABLE);
    assert_int_equal(hret_pg_sqlstate_result("08001"), HRET_E_UNAVAILABLE);
    assert_int_equal(hret_pg_sqlstate_result("40001"), HRET_E_UNAVAILABLE);
    assert_int_equal(hret_pg_sqlstate_result("40P01"), HRET_E_UNAVAILABLE);
    assert_int_equal(hret_pg_sqlstate_result("57P01"), HRET_E_UNAVAILABLE);
    assert_int_equal(hret_pg_sqlstate_result("57014"), HRET_E_TIMEOUT);
    assert_int_equal(hret_pg_sqlstate_result("23505"), HRET_E_CONFLICT);
    assert_int_equal(hret_pg_sqlstate_result("23503"), HRET_E_INVAL);
    assert_int_equal(hret_pg_sqlstate_result("22P02"), HRET_E_INVAL);
    assert_int_equal(hret_pg_sqlstate_result("42P01"), HRET_E_CONFIG);
    assert_int_equal(hret_pg_sqlstate_result("42601"), HRET_E_FATAL);
    assert_int_equal(hret_pg_sqlstate_result("40002"), HRET_E_FATAL);
    assert_int_equal(hret_pg_sqlstate_result(NULL), HRET_E_FATAL);
    assert_int_equal(hret_pg_sqlstate_result("080"), HRET_E_FATAL);
}

static void check_escape(const char *in, size_t n, const char *want)
{
    struct hret_buf b;
    hret_buf_init(&b, 1 << 20);
    hret_pg_copy_escape(&b, in, n);
    assert_string_equal(hret_buf_str(&b), want);
    hret_buf_fini(&b);
}

static void test_copy_escape(void **state)
{
    (void)state;
    check_escape("plain", 5, "plain");
    check_escape("a\tb\nc\rd\\e", 9, "a\\tb\\nc\\rd\\\\e");
    check_escape("\\N", 2, "\\\\N"); /* a literal \N is not NULL */
    check_escape("한국어", strlen("한국어"), "한국어");
    /* invalid bytes become U+FFFD, the valid text around them stays */
    check_escape("a\xff"
                 "b\xc3",
                 4,
                 "a\xef\xbf\xbd"
                 "b\xef\xbf\xbd");
    check_escape("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
    check_escape("", 0, "");
}

static void test_metric_key(void **state)
{
    (void)state;
    char name[64], subset[64];
    hret_store_metric_key("accuracy", name, subset, sizeof name);
    assert_string_equal(name, "accuracy");
    assert_string_equal(subset, "");
    hret_store_metric_key("Criminal-Law/accuracy", name, subset, sizeof name);
    assert_string_equal(name, "accuracy");
    assert_string_equal(subset, "Criminal-Law");
    hret_store_metric_key("a/b/accuracy", name, subset, sizeof name);
    assert_string_equal(name, "accuracy");
    assert_string_equal(subset, "a/b");
}

static void test_array_literal(void **state)
{
    (void)state;
    struct hret_buf b;
    hret_buf_init(&b, 1 << 20);
    const char *items[] = {"a", "b\"c", "d\\e", NULL, "", "x,y{}"};
    hret_store_array_literal(&b, items, 6);
    assert_string_equal(hret_buf_str(&b), "{\"a\",\"b\\\"c\",\"d\\\\e\",NULL,\"\",\"x,y{}\"}");
    hret_buf_reset(&b);
    hret_store_array_literal(&b, NULL, 0);
    assert_string_equal(hret_buf_str(&b), "{}");
    hret_buf_fini(&b);
}

static void test_parse_age(void **state)
{
    (void)state;
    char out[64];
    assert_true(hret_store_parse_age("30m", out, sizeof out));
    assert_string_equal(out, "30 minutes");
    assert_true(hret_store_parse_age("7d", out, sizeof out));
    assert_string_equal(out, "7 days");
    assert_true(hret_store_parse_age("2w", out, sizeof out));
    assert_string_equal(out, "2 weeks");
    assert_false(hret_store_parse_age("2025-01-01", out, sizeof out));
    assert_false(hret_store_parse_age("d", out, sizeof out));
    assert_false(hret_store_parse_age("5y", out, sizeof out));
    assert_false(hret_store_parse_age("5dd", out, sizeof out));
    assert_false(hret_store_parse_age("", out, sizeof out));
}

static void test_direction(void **state)
{
    (void)state;
    assert_true(hret_store_lower_is_better("latency_p50_ms"));
    assert_true(hret_store_lower_is_better("latency"));
    assert_true(hret_store_lower_is_better("cost"));
    assert_true(hret_store_lower_is_better("error_rate"));
    assert_true(hret_store_lower_is_better("parse_failure_rate"));
    assert_false(hret_store_lower_is_better("accuracy"));
    assert_false(hret_store_lower_is_better("macro_accuracy"));
    assert_false(hret_store_lower_is_better("tokens_out"));
}

static void test_stats(void **state)
{
    (void)state;
    const double v[] = {0.5, 0.75, NAN, 0.25, 0.75};
    struct hret_store_stats st;
    hret_store_stats_compute(v, 5, false, &st);
    assert_int_equal(st.count, 4);
    assert_true(st.best == 0.75 && st.best_idx == 1); /* first of the ties */
    assert_true(st.worst == 0.25 && st.worst_idx == 3);
    assert_true(st.average == (0.5 + 0.75 + 0.25 + 0.75) / 4);
    hret_store_stats_compute(v, 5, true, &st);
    assert_true(st.best == 0.25 && st.best_idx == 3);
    assert_true(st.worst == 0.75 && st.worst_idx == 1);
    hret_store_stats_compute(v, 0, true, &st);
    assert_int_equal(st.count, 0);
    assert_true(isnan(st.best) && isnan(st.average));
}

static void test_group(void **state)
{
    (void)state;
    const char *labels[] = {"0.001", "0.01", NULL, "0.001", "0.01", NULL};
    const double v[] = {0.5, 0.25, 1, 0.75, NAN, 0};
    struct hret_store_group g[6];
    size_t n = hret_store_group(labels, v, 6, g);
    assert_int_equal(n, 3);
    assert_string_equal(g[0].label, "0.001");
    assert_int_equal(g[0].count, 2);
    assert_true(g[0].mean == 0.625);
    assert_string_equal(g[1].label, "0.01");
    assert_int_equal(g[1].count, 1);
    assert_true(g[1].mean == 0.25);
    assert_null(g[2].label);
    assert_true(g[2].mean == 0.5);
}

static void check_url(const char *url, const char *base, const char *dataset, const char *config,
                      const char *split)
{
    char *b, *d, *c, *s;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_store_hf_parse_url(url, &b, &d, &c, &s, &err), HRET_OK);
    assert_string_equal(b, base);
    assert_string_equal(d, dataset);
    if (config) {
        assert_string_equal(c, config);
    } else {
        assert_null(c);
    }
    if (split) {
        assert_string_equal(s, split);
    } else {
        assert_null(s);
    }
    free(b);
    free(d);
    free(c);
    free(s);
}

static void test_hf_url(void **state)
{
    (void)state;
    check_url("https://datasets-server.huggingface.co/rows?dataset=HAERAE-HUB/KMMLU",
              "https://datasets-server.huggingface.co", "HAERAE-HUB/KMMLU", NULL, NULL);
    check_url("http://127.0.0.1:9/x/rows/?dataset=HAERAE-HUB%2FKMMLU&config=Criminal+Law&split=dev",
              "http://127.0.0.1:9/x", "HAERAE-HUB/KMMLU", "Criminal Law", "dev");
    check_url("http://h/splits?split=test&dataset=a", "http://h", "a", NULL, "test");
    char *b, *d, *c, *s;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_store_hf_parse_url("ftp://h/rows?dataset=a", &b, &d, &c, &s, &err),
                     HRET_E_INVAL);
    hret_err_clear(&err);
    assert_int_equal(hret_store_hf_parse_url("http://h/rows?config=a", &b, &d, &c, &s, &err),
                     HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "dataset="));
    assert_null(b);
}

static void test_dataset_version(void **state)
{
    (void)state;
    cJSON *opts = cJSON_CreateStringArray((const char *const[]){"x", "y"}, 2);
    struct hret_store_item a[] = {{"s/test/0", "s", "test", "q", "(A)", opts, NULL},
                                  {"s/test/1", "s", "test", "r", NULL, NULL, NULL}};
    char v1[65], v2[65], v3[65];
    hret_store_dataset_version(a, 2, v1);
    hret_store_dataset_version(a, 2, v2);
    assert_string_equal(v1, v2);
    assert_int_equal(strlen(v1), 64);
    a[1].reference = ""; /* "" and NULL differ */
    hret_store_dataset_version(a, 2, v3);
    assert_string_not_equal(v1, v3);
    a[1].reference = NULL;
    a[0].input = "q "; /* any change is a new version */
    hret_store_dataset_version(a, 2, v3);
    assert_string_not_equal(v1, v3);
    cJSON_Delete(opts);
}

static void test_meta_add(void **state)
{
    (void)state;
    cJSON *m = cJSON_CreateObject();
    assert_true(hret_store_meta_add(m, "hyperparameters.lr=0.001", "t"));
    assert_true(hret_store_meta_add(m, "hyperparameters.optimizer=adam", "t"));
    assert_true(hret_store_meta_add(m, "epoch=3", "t"));
    assert_true(hret_store_meta_add(m, "note='; DROP TABLE runs; --", "t"));
    assert_true(hret_store_meta_add(m, "epoch=4", "t")); /* last one wins */
    char *text = hret_json_print(m);
    assert_string_equal(text, "{\"hyperparameters\":{\"lr\":0.001,\"optimizer\":\"adam\"},"
                              "\"note\":\"'; DROP TABLE runs; --\",\"epoch\":4}");
    free(text);
    assert_false(hret_store_meta_add(m, "noequals", "t"));
    assert_false(hret_store_meta_add(m, "=1", "t"));
    assert_false(hret_store_meta_add(m, "a..b=1", "t"));
    assert_false(hret_store_meta_add(m, "a.=1", "t"));
    cJSON_Delete(m);
}

static void test_run_ids(void **state)
{
    (void)state;
    char a[37], b[37];
    hret_store_new_run_id(a);
    hret_store_new_run_id(b);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4'); /* version 4 */
    assert_non_null(strchr("89ab", a[19]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlstate_classes),
        cmocka_unit_test(test_copy_escape),
        cmocka_unit_test(test_metric_key),
        cmocka_unit_test(test_array_literal),
        cmocka_unit_test(test_parse_age),
        cmocka_unit_test(test_direction),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_group),
        cmocka_unit_test(test_hf_url),
        cmocka_unit_test(test_dataset_version),
        cmocka_unit_test(test_meta_add),
        cmocka_unit_test(test_run_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
