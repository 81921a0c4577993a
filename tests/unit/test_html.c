#include "hret_test.h"

#include <string.h>

#include "hret_html.h"

static void test_html_escapes_text_not_markup(void **state)
{
    (void)state;
    struct hret_html h;
    hret_html_init(&h, 1024);
    hret_html_raw(&h, "<p class=\"%s\">", "x");
    hret_html_text(&h, "a<b>&\"c'd 한국어");
    hret_html_elem(&h, "<b>", "<script>alert(1)</script>", "</b>");
    hret_html_text(&h, NULL);
    hret_html_raw(&h, "</p>");
    assert_int_equal(h.result, HRET_OK);
    assert_string_equal(hret_buf_str(&h.buf), "<p class=\"x\">a&lt;b&gt;&amp;&quot;c&#39;d 한국어"
                                              "<b>&lt;script&gt;alert(1)&lt;/script&gt;</b></p>");
    hret_html_fini(&h);
}

static void test_html_text_is_valid_utf8(void **state)
{
    (void)state;
    struct hret_html h;
    hret_html_init(&h, 1024);
    /* an invalid byte, a truncated sequence, NUL-free controls, tab and newline kept */
    hret_html_text(&h, "a\xff"
                       "b\xed\x95"
                       "c\x01\x1b[31m\td\ne\x7f");
    assert_int_equal(h.result, HRET_OK);
    assert_string_equal(hret_buf_str(&h.buf), "a\xEF\xBF\xBD"
                                              "b\xEF\xBF\xBD\xEF\xBF\xBD"
                                              "c[31m\td\ne");
    hret_html_fini(&h);
}

static void test_html_first_error_wins(void **state)
{
    (void)state;
    struct hret_html h;
    hret_html_init(&h, 8);
    hret_html_raw(&h, "12345");
    hret_html_text(&h, "6789");
    assert_int_equal(h.result, HRET_E_PROTO);
    size_t len = h.buf.len;
    hret_html_raw(&h, "x");
    hret_html_elem(&h, "<", "y", ">");
    assert_int_equal(h.buf.len, len); /* every later write is a no-op */
    assert_non_null(strstr(h.err.msg, "cap"));
    hret_html_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escapes_text_not_markup),
        cmocka_unit_test(test_html_text_is_valid_utf8),
        cmocka_unit_test(test_html_first_error_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
