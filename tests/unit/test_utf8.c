/* hret_utf8: Python's str.lower/split/splitlines/strip on UTF-8, and invalid input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hret_utf8.h"

static void assert_lower(const char *in, const char *want)
{
    size_t len = 0;
    char *got = hret_utf8_lower(in, strlen(in), &len);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
}

static void test_lower(void **state)
{
    (void)state;
    assert_lower("ABC xyz 123 (A)", "abc xyz 123 (a)");
    assert_lower("RÉPONSE ÀṢÀYÀN", "réponse àṣàyàn");
    assert_lower("İstanbul", "i\xcc\x87stanbul"); /* 'İ' -> "i̇", one more byte */
    assert_lower("Ⱥ", "ⱥ");                       /* 2 bytes -> 3 bytes */
    assert_lower("\xe2\x84\xaa", "k");            /* KELVIN SIGN */
    assert_lower("ＡＢＣ（Ａ）", "ａｂｃ（ａ）");
    assert_lower("정답은 (A)입니다", "정답은 (a)입니다");
    assert_lower("", "");
}

static void test_lower_final_sigma(void **state)
{
    (void)state;
    assert_lower("ΟΔΟΣ", "οδος");
    assert_lower("Σ", "σ");
    assert_lower("ΟΔΟΣ ΟΔΟΣ", "οδος οδος");
    assert_lower("ΑΣ.", "ας.");   /* '.' is case-ignorable, then the end */
    assert_lower("ΑΣ'Α", "ασ'α"); /* a cased letter follows the ignorable */
    assert_lower("1Σ", "1σ");     /* no cased letter before */
    assert_lower("Α'Σ", "α'ς");   /* the ignorable before is skipped */
}

static void assert_squeeze(const char *in, const char *want)
{
    char *got = hret_utf8_squeeze_space(in, strlen(in), NULL);
    assert_string_equal(got, want);
    free(got);
}

static void test_split(void **state)
{
    (void)state;
    assert_squeeze("  a  b\t\tc\n", "a b c");
    assert_squeeze("a\xc2\xa0"
                   "b",
                   "a b"); /* NBSP */
    assert_squeeze("a\xe3\x80\x80"
                   "b\xe3\x80\x80",
                   "a b"); /* U+3000 */
    assert_squeeze("a\x1c"
                   "b\x1f"
                   "c\xc2\x85"
                   "d",
                   "a b c d");
    assert_squeeze("a\xe2\x80\x8b"
                   "b",
                   "a\xe2\x80\x8b"
                   "b"); /* ZWSP is not whitespace */
    assert_squeeze(" \t\n", "");
}

static void assert_lines(const char *in, const char *const *want, size_t count)
{
    size_t pos = 0, off, len, i = 0;
    size_t n = strlen(in);
    while (hret_utf8_next_line(in, n, &pos, &off, &len)) {
        assert_true(i < count);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(in + off, want[i], len);
        i++;
    }
    assert_int_equal(i, count);
}

static void test_splitlines(void **state)
{
    (void)state;
    static const char *const a[] = {"a", "b", "", "c"};
    assert_lines("a\r\nb\n\rc", a, 4);
    static const char *const b[] = {"a", "b", "c", "d", "e"};
    assert_lines("a\xc2\x85"
                 "b\xe2\x80\xa8"
                 "c\x0b"
                 "d\x1e"
                 "e\n",
                 b, 5);
    static const char *const c[] = {""};
    assert_lines("\n", c, 1);
    assert_lines("", NULL, 0);
    static const char *const d[] = {"a\x1f"
                                    "b"}; /* \x1f is a space, not a line break */
    assert_lines("a\x1f"
                 "b",
                 d, 1);
}

static void assert_strip(const char *in, const char *want)
{
    size_t off, len;
    hret_utf8_strip(in, strlen(in), &off, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(in + off, want, len);
}

static void test_strip(void **state)
{
    (void)state;
    assert_strip("  (A) \n", "(A)");
    assert_strip("\xe3\x80\x80"
                 "b\xe3\x80\x80",
                 "b");
    assert_strip("\xe2\x80\xa8\xc2\xa0 x y \xc2\x85", "x y");
    assert_strip("   ", "");
    assert_strip("", "");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* Stray bytes, an overlong NUL, a surrogate and a truncated sequence: kept byte for byte. */
    const char *bad = "A\xff\xfe B\xc0\x80 \xed\xa0\x80 \xf0\x9f\x98 Z\xc3";
    char *low = hret_utf8_lower(bad, strlen(bad), NULL);
    assert_string_equal(low, "a\xff\xfe b\xc0\x80 \xed\xa0\x80 \xf0\x9f\x98 z\xc3");
    free(low);
    char *sq = hret_utf8_squeeze_space(bad, strlen(bad), NULL);
    assert_string_equal(sq, bad);
    free(sq);
    uint32_t cp;
    assert_int_equal(hret_utf8_decode("\xed\xa0\x80", 3, &cp), 1);
    assert_int_equal(cp, HRET_UTF8_ESCAPE_BASE + 0xED);
    assert_int_equal(hret_utf8_decode("\xf0\x9f\x98\x80", 2, &cp), 1); /* cut short */
    assert_int_equal(hret_utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    char out[4];
    assert_int_equal(hret_utf8_encode(HRET_UTF8_ESCAPE_BASE + 0xFF, out), 1);
    assert_int_equal((unsigned char)out[0], 0xFF);
    assert_int_equal(hret_utf8_encode(0xD800, out), 3); /* a lone surrogate becomes U+FFFD */
    assert_memory_equal(out, "\xef\xbf\xbd", 3);
    assert_false(hret_utf8_is_space(HRET_UTF8_ESCAPE_BASE + 0xA0));
    assert_false(hret_utf8_is_alpha(HRET_UTF8_ESCAPE_BASE + 0xC3));
}

static void test_every_byte_round_trips(void **state)
{
    (void)state;
    /* Every 1- and 2-byte string, valid or not, lowers without crashing to the same bytes as
     * lowering each decoded unit (the escape rule). */
    for (unsigned a = 1; a < 256; a++) {
        for (unsigned b = 1; b < 256; b++) {
            char s[3] = {(char)a, (char)b, 0};
            char *low = hret_utf8_lower(s, 2, NULL);
            assert_true(strlen(low) <= 3);
            free(low);
        }
    }
}

static void test_classes_and_fold(void **state)
{
    (void)state;
    assert_true(hret_utf8_is_space(0x3000));
    assert_true(hret_utf8_is_space(0x85));
    assert_false(hret_utf8_is_space(0x200B));
    assert_true(hret_utf8_is_alpha(0xAC00));
    assert_false(hret_utf8_is_alpha('1'));
    assert_true(hret_utf8_is_decimal(0x0663)); /* ARABIC-INDIC DIGIT THREE */
    assert_true(hret_utf8_is_word('_'));
    assert_false(hret_utf8_is_word('-'));
    assert_int_equal(hret_utf8_fold(0x17F), 's'); /* LATIN SMALL LETTER LONG S */
    assert_int_equal(hret_utf8_fold('S'), 's');
    assert_int_equal(hret_utf8_fold(0x212A), 'k'); /* KELVIN SIGN */
    assert_int_equal(hret_utf8_fold(0x130), 'i');
    assert_int_equal(hret_utf8_fold(0x131), 'i');                   /* re: 'ı' matches 'i' */
    assert_int_equal(hret_utf8_fold(0x3C2), hret_utf8_fold(0x3A3)); /* ς, Σ */
    assert_int_equal(hret_utf8_fold(0xC9), 0xE9);
    assert_int_equal(hret_utf8_simple_lower(0x130), 'i');
    assert_true(hret_utf8_is_line_break(0x2029));
    assert_false(hret_utf8_is_line_break(0x1F));
}

static void test_hangul_share(void **state)
{
    (void)state;
    assert_true(fabs(hret_utf8_hangul_share("안녕 hi", strlen("안녕 hi")) - 0.5) < 1e-12);
    assert_true(hret_utf8_hangul_share("(A) 123", 7) == 0.0);
    assert_true(hret_utf8_hangul_share("12 !", 4) == 0.0); /* no letters */
    assert_true(hret_utf8_hangul_share("", 0) == 0.0);
    assert_true(hret_utf8_hangul_share("ㄱㅏ한", strlen("ㄱㅏ한")) == 1.0); /* jamo count */
}

static void test_utf8_sanitize(void **state)
{
    (void)state;
    size_t len = 0, replaced = 9, first = 9;
    assert_null(hret_utf8_sanitize("\xea\xb0\x80ok", 5, &len, &replaced, &first));
    assert_int_equal(replaced, 0);
    assert_int_equal(first, 5);
    /* a stray byte, a truncated sequence at the end */
    char *s = hret_utf8_sanitize("a\xff"
                                 "b\xea\xb0",
                                 5, &len, &replaced, &first);
    assert_string_equal(s, "a\xef\xbf\xbd"
                           "b\xef\xbf\xbd\xef\xbf\xbd");
    assert_int_equal(len, strlen(s));
    assert_int_equal(replaced, 3);
    assert_int_equal(first, 1);
    free(s);
}

/* The fast validator agrees with hret_utf8_decode on random text: ASCII runs long enough for
 * the eight-byte skip, Hangul, and every kind of broken sequence at every position. */
static void test_utf8_sanitize_matches_decode(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "abcdefghij",   "\xea\xb0\x80", "\xf0\x9f\x98\x80", "\xc3\xa9", "\xff", "\xea\xb0",
        "\xed\xa0\x80", "\xe0\x80\x80", "\xf4\x90\x80\x80", "\x80",     "x"};
    unsigned seed = 7;
    for (int round = 0; round < 2000; round++) {
        char text[256];
        size_t n = 0;
        for (int k = (int)(seed % 24); k >= 0; k--) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
            memcpy(text + n, p, strlen(p));
            n += strlen(p);
        }
        size_t bad = 0, first = n;
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            size_t used = hret_utf8_decode(text + i, n - i, &cp);
            if (used == 1 && (unsigned char)text[i] >= 0x80) {
                first = bad++ == 0 ? i : first;
            }
            i += used;
        }
        size_t replaced = 0, got_first = 0;
        free(hret_utf8_sanitize(text, n, NULL, &replaced, &got_first));
        assert_int_equal(replaced, bad);
        assert_int_equal(got_first, first);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_sanitize),
        cmocka_unit_test(test_utf8_sanitize_matches_decode),
        cmocka_unit_test(test_lower),
        cmocka_unit_test(test_lower_final_sigma),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_splitlines),
        cmocka_unit_test(test_strip),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_every_byte_round_trips),
        cmocka_unit_test(test_classes_and_fold),
        cmocka_unit_test(test_hangul_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
