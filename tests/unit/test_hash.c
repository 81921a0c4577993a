/* FNV-1a 64 against the published test vectors, and the fixed-width hex form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hret_hash.h"

static void check_hex(const char *text, const char *want)
{
    char hex[17];
    hret_hash_hex64(hret_hash_fnv1a64(text, strlen(text)), hex);
    assert_string_equal(hex, want);
}

static void test_fnv1a64_vectors(void **state)
{
    (void)state;
    assert_true(hret_hash_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
    assert_true(hret_hash_fnv1a64(NULL, 0) == 0xcbf29ce484222325ULL);
    assert_true(hret_hash_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(hret_hash_fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
    check_hex("", "cbf29ce484222325");
    check_hex("a", "af63dc4c8601ec8c");
    check_hex("foobar", "85944171f73967e8");
}

static void test_fnv1a64_hashes_every_byte(void **state)
{
    (void)state;
    const char with_nul[] = {'a', '\0', 'b'};
    assert_true(hret_hash_fnv1a64(with_nul, 3) != hret_hash_fnv1a64("a", 1));
    assert_true(hret_hash_fnv1a64("ab", 2) != hret_hash_fnv1a64("ba", 2));
    /* UTF-8 is hashed as bytes (value from an independent Python FNV-1a). */
    check_hex("\xeb\xaa\xa8\xeb\xa5\xb4\xea\xb2\xa0\xec\x8a\xb5\xeb\x8b\x88\xeb\x8b\xa4",
              "682edf65dce2df95");
}

static void test_hex64_is_fixed_width(void **state)
{
    (void)state;
    char hex[17];
    memset(hex, 'x', sizeof hex);
    hret_hash_hex64(0, hex);
    assert_string_equal(hex, "0000000000000000");
    hret_hash_hex64(UINT64_MAX, hex);
    assert_string_equal(hex, "ffffffffffffffff");
    hret_hash_hex64(0x0123456789abcdefULL, hex);
    assert_string_equal(hex, "0123456789abcdef");
    assert_int_equal(strlen(hex), 16);
}

/* RFC 4231-style check against Python's hmac module (the value below). */
static void test_hmac_sha256_vector(void **state)
{
    (void)state;
    static const char msg[] = "The quick brown fox jumps over the lazy dog";
    char out[65];
    hret_hash_hmac_sha256_hex("key", 3, msg, sizeof msg - 1, out);
    assert_string_equal(out, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a64_vectors),
        cmocka_unit_test(test_fnv1a64_hashes_every_byte),
        cmocka_unit_test(test_hex64_is_fixed_width),
        cmocka_unit_test(test_hmac_sha256_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
