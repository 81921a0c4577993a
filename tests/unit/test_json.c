#include "hret_test.h"

#include <string.h>

#include "hret_json.h"

static void test_json_parse_bounded(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    const char *ok = "{\"a\": 1}  \n";
    cJSON *j = hret_json_parse(ok, strlen(ok), 100, &err);
    assert_non_null(j);
    cJSON_Delete(j);
    assert_null(hret_json_parse(ok, strlen(ok), 4, &err));
    assert_int_equal(err.code, HRET_E_PROTO);
    assert_non_null(strstr(err.msg, "exceeds the 4-byte limit"));
    hret_err_clear(&err);
    assert_null(hret_json_parse("{\"a\": }", 7, 100, &err));
    assert_string_equal(err.msg, "invalid JSON at byte 6");
    hret_err_clear(&err);
    assert_null(hret_json_parse("{} {}", 5, 100, &err));
    assert_string_equal(err.msg, "trailing data after JSON at byte 3");
    /* a length-delimited buffer needs no NUL */
    char raw[2] = {'[', ']'};
    j = hret_json_parse(raw, 2, 100, NULL);
    assert_true(cJSON_IsArray(j));
    cJSON_Delete(j);
}

static void test_json_typed_getters(void **state)
{
    (void)state;
    const char *text = "{\"s\":\"x\",\"i\":3,\"f\":1.5,\"b\":true,\"o\":{},\"a\":[],\"n\":null}";
    cJSON *j = hret_json_parse(text, strlen(text), 1000, NULL);
    struct hret_err err = HRET_ERR_INIT;
    const char *s = NULL;
    long long i = 0;
    double f = 0;
    bool b = false;
    const cJSON *o = NULL, *a = NULL;
    assert_int_equal(hret_json_get_string(j, "s", true, &s, &err), HRET_OK);
    assert_string_equal(s, "x");
    assert_int_equal(hret_json_get_int(j, "i", true, &i, &err), HRET_OK);
    assert_int_equal(i, 3);
    assert_int_equal(hret_json_get_double(j, "f", true, &f, &err), HRET_OK);
    assert_true(f == 1.5);
    assert_int_equal(hret_json_get_bool(j, "b", true, &b, &err), HRET_OK);
    assert_true(b);
    assert_int_equal(hret_json_get_object(j, "o", true, &o, &err), HRET_OK);
    assert_int_equal(hret_json_get_array(j, "a", true, &a, &err), HRET_OK);
    /* absent or null optional: untouched, ok */
    i = 7;
    assert_int_equal(hret_json_get_int(j, "missing", false, &i, &err), HRET_OK);
    assert_int_equal(hret_json_get_int(j, "n", false, &i, &err), HRET_OK);
    assert_int_equal(i, 7);
    assert_int_equal(err.code, HRET_OK);
    /* errors name the key */
    assert_int_equal(hret_json_get_int(j, "f", true, &i, &err), HRET_E_INVAL);
    assert_string_equal(err.msg, "'f': expected an integer");
    hret_err_clear(&err);
    assert_int_equal(hret_json_get_string(j, "i", true, &s, &err), HRET_E_INVAL);
    assert_string_equal(err.msg, "'i': expected a string");
    hret_err_clear(&err);
    assert_int_equal(hret_json_get_string(j, "missing", true, &s, &err), HRET_E_INVAL);
    assert_string_equal(err.msg, "'missing': required");
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_parse_bounded),
        cmocka_unit_test(test_json_typed_getters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
