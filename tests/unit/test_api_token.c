/* The API's tokens file and per-token rate limit: parsing (and refusing) lines, matching a
 * presented token by its hash only, scopes, add (the file holds the hash, never the token,
 * mode 0600, names unique) and revoke; the token bucket's burst, refill and Retry-After. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hret_api_limit.h"
#include "hret_api_token.h"
#include "hret_buf.h"
#include "hret_hash.h"

#define HASH_A "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3" /* "123" */

static void test_parse(void **state)
{
    (void)state;
    const char text[] = "# tokens\n\nci submit,read sha256:" HASH_A " 2026-12-07T10:00:00Z\r\n"
                        "  reader read sha256:" HASH_A " 2026-12-07T10:00:01Z\n";
    struct hret_api_tokens t = {0};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_api_tokens_parse(text, strlen(text), "f", &t, &err), HRET_OK);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.items[0].name, "ci");
    assert_int_equal(t.items[0].scopes, HRET_API_SCOPE_SUBMIT | HRET_API_SCOPE_READ);
    assert_int_equal(t.items[1].scopes, HRET_API_SCOPE_READ);
    assert_string_equal(t.items[1].created, "2026-12-07T10:00:01Z");
    /* matching is by hash: "123" hashes to HASH_A; the hash itself is no token */
    assert_ptr_equal(hret_api_tokens_match(&t, "123"), &t.items[1]); /* the last match wins */
    assert_null(hret_api_tokens_match(&t, HASH_A));
    assert_null(hret_api_tokens_match(&t, ""));
    hret_api_tokens_fini(&t);
}

static void test_parse_refuses(void **state)
{
    (void)state;
    const char *bad[] = {
        "ci submit sha256:" HASH_A,            /* 3 fields */
        "ci submit sha256:" HASH_A " t extra", /* 5 fields */
        "c/i submit sha256:" HASH_A " t",      /* name */
        "ci admin sha256:" HASH_A " t",        /* scope */
        "ci submit md5:" HASH_A " t",          /* hash kind */
        "ci submit sha256:A665A45920422F9D417E4867EFDC4FB8A04A1F3FFF1FA07E998E86F7F7A27AE3 t",
        "ci submit sha256:abc t",                                   /* hash length */
        "ci read sha256:" HASH_A " t\nci read sha256:" HASH_A " t", /* repeated name */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct hret_api_tokens t = {0};
        struct hret_err err = HRET_ERR_INIT;
        assert_int_equal(hret_api_tokens_parse(bad[i], strlen(bad[i]), "tok", &t, &err),
                         HRET_E_CONFIG);
        assert_non_null(strstr(err.msg, "tok:"));
        hret_api_tokens_fini(&t);
    }
}

static void test_scopes(void **state)
{
    (void)state;
    unsigned s = 0;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_api_scopes_parse("read,submit", &s, &err), HRET_OK);
    char text[32];
    hret_api_scopes_format(s, text, sizeof text);
    assert_string_equal(text, "submit,read");
    assert_int_equal(hret_api_scopes_parse("", &s, &err), HRET_E_INVAL);
    hret_err_clear(&err);
    assert_int_equal(hret_api_scopes_parse("read,readx", &s, &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "readx"));
}

static void test_add_revoke(void **state)
{
    (void)state;
    char dir[] = "/tmp/hret_tokens_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/tokens", dir);
    char tok1[HRET_API_TOKEN_LEN + 1], tok2[HRET_API_TOKEN_LEN + 1];
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_api_token_add(path, "ci", HRET_API_SCOPE_SUBMIT, tok1, &err), HRET_OK);
    assert_int_equal(hret_api_token_add(path, "nb", HRET_API_SCOPE_READ, tok2, &err), HRET_OK);
    assert_int_equal(strlen(tok1), HRET_API_TOKEN_LEN);
    assert_memory_equal(tok1, "hret_", 5);
    assert_string_not_equal(tok1, tok2);
    assert_int_equal(hret_api_token_add(path, "ci", HRET_API_SCOPE_READ, tok2, &err),
                     HRET_E_CONFLICT);
    hret_err_clear(&err);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    struct hret_buf b;
    hret_buf_init(&b, 1 << 20);
    assert_int_equal(hret_buf_append_file(&b, path, &err), HRET_OK);
    assert_null(strstr(hret_buf_str(&b), tok1)); /* the file never holds a token */
    assert_null(strstr(hret_buf_str(&b), tok1 + 5));
    char hash[65];
    hret_hash_sha256_hex(tok1, strlen(tok1), hash);
    assert_non_null(strstr(hret_buf_str(&b), hash));
    hret_buf_fini(&b);

    struct hret_api_tokens t = {0};
    assert_int_equal(hret_api_tokens_load(path, &t, &err), HRET_OK);
    const struct hret_api_token *m = hret_api_tokens_match(&t, tok1);
    assert_non_null(m);
    assert_string_equal(m->name, "ci");
    assert_int_equal(m->scopes, HRET_API_SCOPE_SUBMIT);
    hret_api_tokens_fini(&t);

    assert_int_equal(hret_api_token_revoke(path, "ci", &err), HRET_OK);
    assert_int_equal(hret_api_token_revoke(path, "ci", &err), HRET_E_INVAL);
    hret_err_clear(&err);
    assert_int_equal(hret_api_tokens_load(path, &t, &err), HRET_OK);
    assert_int_equal(t.count, 1);
    assert_null(hret_api_tokens_match(&t, tok1));
    assert_non_null(hret_api_tokens_match(&t, tok2));
    hret_api_tokens_fini(&t);
    assert_int_equal(hret_api_token_add(path, "bad name", HRET_API_SCOPE_READ, tok2, &err),
                     HRET_E_INVAL);

    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_missing_file_is_empty(void **state)
{
    (void)state;
    struct hret_api_tokens t = {0};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_api_tokens_load("/nonexistent/hret/tokens", &t, &err), HRET_OK);
    assert_int_equal(t.count, 0);
    assert_null(hret_api_tokens_match(&t, "x"));
}

static void test_limit(void **state)
{
    (void)state;
    struct hret_api_limit *l = hret_api_limit_new(60, 2); /* one a second, two at once */
    long retry = 0;
    assert_true(hret_api_limit_take(l, "a", 100.0, &retry));
    assert_true(hret_api_limit_take(l, "a", 100.0, &retry));
    assert_false(hret_api_limit_take(l, "a", 100.0, &retry));
    assert_int_equal(retry, 1);
    assert_true(hret_api_limit_take(l, "b", 100.0, &retry)); /* per token */
    assert_false(hret_api_limit_take(l, "a", 100.5, &retry));
    assert_true(hret_api_limit_take(l, "a", 101.1, &retry)); /* refilled */
    assert_false(hret_api_limit_take(l, "a", 101.2, &retry));
    hret_api_limit_destroy(l);

    l = hret_api_limit_new(0, 1); /* unlimited */
    for (int i = 0; i < 1000; i++) {
        assert_true(hret_api_limit_take(l, "a", 0.0, &retry));
    }
    hret_api_limit_destroy(l);
    l = hret_api_limit_new(6, 1); /* one per 10 s: Retry-After says so */
    assert_true(hret_api_limit_take(l, "a", 0.0, &retry));
    assert_false(hret_api_limit_take(l, "a", 1.0, &retry));
    assert_int_equal(retry, 9);
    hret_api_limit_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_add_revoke),
        cmocka_unit_test(test_missing_file_is_empty),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
