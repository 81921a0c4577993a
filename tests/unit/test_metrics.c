/* Metrics gathered one sample at a time in any order (a streamed run) equal the metrics of the
 * same samples computed at once, key order included: subsets come in the order of their first
 * answered sample, errors and unfinished samples are left out of the accuracy as before. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"
#include "hret_metrics.h"

#define N 40

static const char *const subsets[] = {"Law", "Math", "Biology"};

static void fill(struct hret_sample *s, struct hret_outcome *o)
{
    for (size_t i = 0; i < N; i++) {
        memset(&s[i], 0, sizeof s[i]);
        memset(&o[i], 0, sizeof o[i]);
        s[i].subset = (char *)(uintptr_t)subsets[(i / 3 + (i == 0)) % 3];
        o[i].done = i % 11 != 10;
        o[i].error_code = i % 7 == 0 ? HRET_E_TIMEOUT : HRET_OK; /* sample 0 errs */
        o[i].verdict.correct = i % 3 == 1;
        o[i].verdict.parse_failure = i % 5 == 4;
        o[i].latency_ms = (double)((i * 37) % 101);
        o[i].prompt_tokens = (long)i;
        o[i].completion_tokens = 2;
        o[i].language_penalizer = i % 2 ? 1 : NAN;
    }
}

static void test_any_order_equals_at_once(void **state)
{
    (void)state;
    struct hret_sample s[N];
    struct hret_outcome o[N];
    fill(s, o);
    struct hret_prices prices = {1.5, 3};
    cJSON *at_once = hret_metrics_compute(s, o, N, &prices);
    struct hret_metrics_acc *a = hret_metrics_acc_new();
    for (size_t j = 0; j < N; j++) {
        size_t i = N - 1 - j; /* last first: the subsets are first seen in reverse */
        hret_metrics_acc_add(a, i, &s[i], &o[i]);
    }
    cJSON *streamed = hret_metrics_acc_finish(a, &prices);
    char *x = hret_json_print(at_once), *y = hret_json_print(streamed);
    assert_string_equal(x, y);
    assert_non_null(strstr(x, "\"Math/accuracy\""));
    /* sample 0, Math, errs: Law (sample 1) is the first subset answered */
    assert_true(strstr(x, "\"Law/accuracy\"") < strstr(x, "\"Math/accuracy\""));
    size_t law = 0;
    for (size_t i = 0; i < N; i++) {
        law += o[i].done && o[i].error_code == HRET_OK && strcmp(s[i].subset, "Law") == 0;
    }
    assert_true(law > 0);
    assert_int_equal(hret_metrics_acc_answered(a, "Law", 3), law);
    assert_int_equal(hret_metrics_acc_answered(a, "Lawyer", 6), 0);
    free(x);
    free(y);
    cJSON_Delete(at_once);
    cJSON_Delete(streamed);
    hret_metrics_acc_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_order_equals_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
