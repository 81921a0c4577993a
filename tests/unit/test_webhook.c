/* The webhook signature header: RFC 4231 HMAC-SHA256 vectors in the exact header form, and a
 * body with a NUL byte signed whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hret_webhook.h"

static void test_rfc4231_case2(void **state)
{
    (void)state;
    char line[HRET_WEBHOOK_SIGNATURE_LINE];
    const char *body = "what do ya want for nothing?";
    hret_webhook_signature_line("Jefe", 4, body, strlen(body), line);
    assert_string_equal(line, "X-Hret-Signature: sha256="
                              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_rfc4231_case1(void **state)
{
    (void)state;
    unsigned char key[20];
    memset(key, 0x0b, sizeof key);
    char line[HRET_WEBHOOK_SIGNATURE_LINE];
    hret_webhook_signature_line(key, sizeof key, "Hi There", 8, line);
    assert_string_equal(line, "X-Hret-Signature: sha256="
                              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_int_equal(strlen(line) + 1, HRET_WEBHOOK_SIGNATURE_LINE);
}

static void test_signs_every_byte(void **state)
{
    (void)state;
    char a[HRET_WEBHOOK_SIGNATURE_LINE], b[HRET_WEBHOOK_SIGNATURE_LINE];
    hret_webhook_signature_line("k", 1, "{\"a\":1}\0x", 9, a);
    hret_webhook_signature_line("k", 1, "{\"a\":1}", 7, b);
    assert_string_not_equal(a, b);
    hret_webhook_signature_line("K", 1, "{\"a\":1}", 7, a);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231_case1),
        cmocka_unit_test(test_rfc4231_case2),
        cmocka_unit_test(test_signs_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
