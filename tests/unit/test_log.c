#include "hret_test.h"

#include <string.h>
#include <unistd.h>

#include "hret_log.h"

/* Runs fn with stderr redirected to a temporary file; returns what was written. */
static char *capture(void (*fn)(void))
{
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    long n = ftell(tmp);
    rewind(tmp);
    char *out = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(out, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return out;
}

static void emit_logfmt(void)
{
    hret_log_setup(HRET_LOG_INFO, HRET_LOG_LOGFMT);
    hret_log_info("pg", "run-7", "wrote %d samples", 3);
    hret_log_debug("pg", "run-7", "not shown");
}

static void emit_json(void)
{
    hret_log_setup(HRET_LOG_DEBUG, HRET_LOG_JSON);
    hret_log_warn("http", NULL, "say \"hi\"\nbye");
}

static void emit_flood(void)
{
    hret_log_setup(HRET_LOG_INFO, HRET_LOG_LOGFMT);
    for (int i = 0; i < 100; i++) {
        hret_log_error("kafka", NULL, "broker down (%d)", i);
    }
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p++) {
        n++;
    }
    return n;
}

static void test_log_logfmt_line(void **state)
{
    (void)state;
    char *out = capture(emit_logfmt);
    assert_non_null(strstr(out, " level=info comp=pg id=run-7 msg=\"wrote 3 samples\"\n"));
    assert_int_equal(strncmp(out, "ts=20", 5), 0);
    assert_null(strstr(out, "not shown"));
    free(out);
}

static void test_log_json_line_escapes(void **state)
{
    (void)state;
    char *out = capture(emit_json);
    assert_non_null(
        strstr(out, "\"level\":\"warn\",\"comp\":\"http\",\"msg\":\"say \\\"hi\\\"\\nbye\"}"));
    assert_int_equal(out[0], '{');
    free(out);
}

static void test_log_repeats_are_rate_limited(void **state)
{
    (void)state;
    char *out = capture(emit_flood);
    assert_int_equal(count(out, "broker down"), 5);
    free(out);
}

static void test_log_level_names(void **state)
{
    (void)state;
    enum hret_log_level l;
    assert_true(hret_log_level_parse("INFO", &l));
    assert_int_equal(l, HRET_LOG_INFO);
    assert_true(hret_log_level_parse("warning", &l));
    assert_int_equal(l, HRET_LOG_WARN);
    assert_false(hret_log_level_parse("loud", &l));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_logfmt_line),
        cmocka_unit_test(test_log_json_line_escapes),
        cmocka_unit_test(test_log_repeats_are_rate_limited),
        cmocka_unit_test(test_log_level_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
