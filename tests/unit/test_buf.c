#include "hret_test.h"

#include <string.h>

#include "hret_buf.h"

static void test_buf_append_and_take(void **state)
{
    (void)state;
    struct hret_buf b;
    hret_buf_init(&b, 64);
    assert_string_equal(hret_buf_str(&b), "");
    assert_int_equal(hret_buf_append(&b, "abc", 3, NULL), HRET_OK);
    assert_int_equal(hret_buf_appendf(&b, NULL, "-%d", 42), HRET_OK);
    assert_string_equal(hret_buf_str(&b), "abc-42");
    assert_int_equal(b.len, 6);
    char *s = hret_buf_take(&b);
    assert_string_equal(s, "abc-42");
    assert_int_equal(b.len, 0);
    free(s);
    hret_buf_fini(&b);
}

static void test_buf_rejects_over_cap(void **state)
{
    (void)state;
    struct hret_buf b;
    hret_buf_init(&b, 8);
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_buf_append(&b, "12345678", 8, &err), HRET_OK);
    assert_int_equal(hret_buf_append(&b, "9", 1, &err), HRET_E_PROTO);
    assert_int_equal(err.code, HRET_E_PROTO);
    assert_non_null(strstr(err.msg, "cap of 8 bytes"));
    assert_int_equal(b.len, 8); /* nothing partial appended */
    assert_int_equal(hret_buf_appendf(&b, NULL, "%s", "x"), HRET_E_PROTO);
    hret_buf_fini(&b);
}

static void test_buf_reads_files(void **state)
{
    (void)state;
    struct hret_buf b;
    hret_buf_init(&b, 1 << 20);
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_buf_append_file(&b, "/nonexistent/x.yaml", &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "/nonexistent/x.yaml: cannot open"));
    assert_int_equal(
        hret_buf_append_file(&b, hret_test_path("tests/data/config/good/empty.yaml"), NULL),
        HRET_OK);
    assert_non_null(b.data);
    hret_buf_fini(&b);
    hret_buf_init(&b, 10);
    hret_err_clear(&err);
    assert_int_equal(hret_buf_append_file(&b, hret_test_path("README.md"), &err), HRET_E_PROTO);
    assert_non_null(strstr(err.msg, "README.md: buffer cap"));
    hret_buf_fini(&b);
}

static void test_err_first_error_wins(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_err_set(&err, HRET_E_TIMEOUT, "first %d", 1), HRET_E_TIMEOUT);
    assert_int_equal(hret_err_set(&err, HRET_E_INVAL, "second"), HRET_E_INVAL);
    assert_string_equal(err.msg, "first 1");
    hret_err_prefix(&err, "models.%s", "a");
    assert_string_equal(err.msg, "models.a: first 1");
    assert_true(hret_result_is_retriable(HRET_E_TIMEOUT));
    assert_true(hret_result_is_retriable(HRET_E_UNAVAILABLE));
    assert_false(hret_result_is_retriable(HRET_E_PROTO));
    assert_string_equal(hret_result_name(HRET_E_CONFIG), "config");
    assert_int_equal(hret_err_set(NULL, HRET_E_FATAL, "nobody listens"), HRET_E_FATAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_and_take),
        cmocka_unit_test(test_buf_rejects_over_cap),
        cmocka_unit_test(test_buf_reads_files),
        cmocka_unit_test(test_err_first_error_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
