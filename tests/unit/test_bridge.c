/* What the bridge sinks share (hret_bridge.c, pure parts): routing by the tracking block and the
 * config defaults, track_metrics, the forwarded metric list and the step. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hret_sink.h"

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

static void test_wanted(void **state)
{
    (void)state;
    struct hret_config cfg = {.tensorboard_tracking = true};
    const cJSON *block = (const cJSON *)&cfg; /* must be reset */
    cJSON *none = parse("{}");
    assert_true(hret_sink_wanted(&cfg, "tensorboard", none, &block));
    assert_null(block);
    assert_false(hret_sink_wanted(&cfg, "mlflow", none, NULL));
    assert_false(hret_sink_wanted(&cfg, "wandb", none, NULL));
    assert_true(hret_sink_wanted(&cfg, "webhook", none, NULL)); /* routes by its own filters */

    cJSON *ev = parse("{\"tracking\": {\"tensorboard\": false, \"mlflow\": {\"experiment\": \"x\"},"
                      " \"wandb\": {\"enabled\": false, \"project\": \"p\"}}}");
    assert_false(hret_sink_wanted(&cfg, "tensorboard", ev, NULL));
    assert_true(hret_sink_wanted(&cfg, "mlflow", ev, &block));
    assert_non_null(block);
    assert_string_equal(cJSON_GetObjectItem(block, "experiment")->valuestring, "x");
    assert_false(hret_sink_wanted(&cfg, "wandb", ev, &block));
    cJSON_Delete(ev);
    cJSON_Delete(none);
}

static void test_metric_tracked(void **state)
{
    (void)state;
    cJSON *all = parse("{\"track_metrics\": []}");
    assert_true(hret_sink_metric_tracked(all, "latency_p50_ms"));
    cJSON *some = parse("{\"track_metrics\": [\"accuracy\", \"law/cost\"]}");
    assert_true(hret_sink_metric_tracked(some, "accuracy"));
    assert_true(hret_sink_metric_tracked(some, "law/accuracy")); /* per-subset by base name */
    assert_true(hret_sink_metric_tracked(some, "law/cost"));     /* or by its full name */
    assert_false(hret_sink_metric_tracked(some, "cost"));
    assert_false(hret_sink_metric_tracked(some, "accuracy_stderr"));
    cJSON_Delete(some);
    cJSON_Delete(all);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void test_metrics(void **state)
{
    (void)state;
    cJSON *ev = parse("{\"metrics\": {\"accuracy\": 0.5, \"errors\": 2, \"bad\": null},"
                      " \"subset_metrics\": {\"law\": {\"accuracy\": 0.25}},"
                      " \"counts\": {\"samples\": 10, \"errors\": 9, \"parse_failures\": 1},"
                      " \"tokens\": {\"input\": 100, \"output\": 7}, \"cost_usd\": 0.01}");
    cJSON *m = hret_sink_metrics(ev);
    assert_int_equal(cJSON_GetArraySize(m), 7);
    assert_true(num(m, "accuracy") == 0.5);
    assert_true(num(m, "errors") == 2); /* metrics win over counts */
    assert_true(num(m, "law/accuracy") == 0.25);
    assert_true(num(m, "parse_failures") == 1);
    assert_true(num(m, "tokens_input") == 100 && num(m, "tokens_output") == 7);
    assert_true(num(m, "cost_usd") == 0.01);
    assert_null(cJSON_GetObjectItem(m, "bad"));
    cJSON_Delete(m);

    cJSON_AddItemToObject(ev, "track_metrics", parse("[\"accuracy\"]"));
    m = hret_sink_metrics(ev);
    assert_int_equal(cJSON_GetArraySize(m), 2);
    assert_true(num(m, "accuracy") == 0.5 && num(m, "law/accuracy") == 0.25);
    cJSON_Delete(m);
    cJSON_Delete(ev);
}

static void test_step(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        long long step;
    } cases[] = {
        {"{}", 0},
        {"{\"metadata\": {\"epoch\": 3}}", 3},
        {"{\"metadata\": {\"epoch\": \"4\", \"step\": 9}}", 4},
        {"{\"metadata\": {\"step\": \"12\"}}", 12},
        {"{\"metadata\": {\"epoch\": 1.5, \"step\": 2}}", 2}, /* not an integer: the next key */
        {"{\"metadata\": {\"epoch\": \"x\"}}", 0},
        {"{\"metadata\": {\"step\": -1}}", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *ev = parse(cases[i].json);
        assert_int_equal(hret_sink_step(ev), cases[i].step);
        cJSON_Delete(ev);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wanted),
        cmocka_unit_test(test_metric_tracked),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
