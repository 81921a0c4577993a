/* The webhook signature headers: HMAC-SHA256 over "<timestamp>.<delivery id>.<body>" in the
 * exact header form (values computed independently with Python's hmac), every part of the
 * signed text mattering, a body with a NUL byte signed whole, and no signature without a key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hret_webhook.h"

static void test_known_value(void **state)
{
    (void)state;
    struct hret_webhook_sig s;
    const char *body = "what do ya want for nothing?";
    hret_webhook_sign("Jefe", 4, 1700000000LL, "0123abcd", body, strlen(body), &s);
    assert_string_equal(s.timestamp, "X-Hret-Timestamp: 1700000000");
    /* hmac.new(b"Jefe", b"1700000000.0123abcd.what do ya want for nothing?", sha256) */
    assert_string_equal(s.signature,
                        "X-Hret-Signature: sha256="
                        "d5fc56947416421e2dbab3fadecc75d84d9676999834a0f804995c1b7a24631c");
    assert_int_equal(strlen(s.signature) + 1, sizeof s.signature);
}

static void test_nul_in_body(void **state)
{
    (void)state;
    struct hret_webhook_sig s;
    hret_webhook_sign("k", 1, 1, "d", "{\"a\":1}\0x", 9, &s);
    assert_string_equal(s.signature,
                        "X-Hret-Signature: sha256="
                        "942722cb2dc3f919c3fd7e8bb2a74229f04c786708e71553a2555fbffc8fb100");
}

/* Time, delivery id, body and key each change the signature: a captured request cannot be
 * replayed later or as another delivery. */
static void test_every_part_signed(void **state)
{
    (void)state;
    struct hret_webhook_sig base, other;
    hret_webhook_sign("k", 1, 100, "d1", "{}", 2, &base);
    hret_webhook_sign("k", 1, 101, "d1", "{}", 2, &other);
    assert_string_not_equal(base.signature, other.signature);
    hret_webhook_sign("k", 1, 100, "d2", "{}", 2, &other);
    assert_string_not_equal(base.signature, other.signature);
    hret_webhook_sign("k", 1, 100, "d1", "{ }", 3, &other);
    assert_string_not_equal(base.signature, other.signature);
    hret_webhook_sign("K", 1, 100, "d1", "{}", 2, &other);
    assert_string_not_equal(base.signature, other.signature);
}

static void test_unsigned_without_key(void **state)
{
    (void)state;
    struct hret_webhook_sig s;
    hret_webhook_sign(NULL, 0, 42, "d", "{}", 2, &s);
    assert_string_equal(s.timestamp, "X-Hret-Timestamp: 42");
    assert_string_equal(s.signature, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_value),
        cmocka_unit_test(test_nul_in_body),
        cmocka_unit_test(test_every_part_signed),
        cmocka_unit_test(test_unsigned_without_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
