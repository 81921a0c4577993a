#include "hret_test.h"

#include <string.h>

#include "hret_json.h"
#include "hret_sink_local.h"

static const char doc_text[] =
    "{\"run_metadata\": {\"run_id\": \"r-1\", \"run_name\": \"nightly\", \"model\": \"m\","
    " \"dataset\": \"kmmlu\", \"start_time\": \"2026-12-07T10:00:00Z\","
    " \"end_time\": \"2026-12-07T10:01:00Z\", \"duration\": 60, \"partial\": false,"
    " \"metadata\": {\"epoch\": 3},"
    " \"config\": {\"split\": \"test\", \"subset\": [\"Law\"], \"evaluation_method_name\":"
    " \"string_match\", \"evaluator_params\": {}, \"num_few_shot\": 0}},"
    " \"metrics\": {\"accuracy\": 0.5, \"total\": 4, \"errors\": 1, \"parse_failures\": 0,"
    " \"tokens_in\": 40, \"tokens_out\": 4, \"cost\": 0.25, \"Law/accuracy\": 0.5,"
    " \"macro_accuracy\": null}}";

static void test_event_of_a_results_document(void **state)
{
    (void)state;
    cJSON *doc = hret_json_parse(doc_text, strlen(doc_text), 1 << 20, NULL);
    assert_non_null(doc);
    struct hret_strlist sinks = {0};
    hret_strlist_split(&sinks, "mlflow,webhook");
    cJSON *ev = hret_sink_local_event(cJSON_GetObjectItem(doc, "run_metadata"),
                                      cJSON_GetObjectItem(doc, "metrics"), &sinks);
    char *text = hret_json_print(ev);
    const char *want[] = {
        "\"run_id\":\"r-1\"",
        "\"request_id\":\"r-1\"",
        "\"status\":\"completed\"",
        "\"model\":{\"name\":\"m\"}",
        "\"split\":\"test\"",
        "\"subsets\":[\"Law\"]",
        "\"method\":\"string_match\"",
        "\"subset_metrics\":{\"Law\":{\"accuracy\":0.5}}",
        "\"counts\":{\"samples\":4,\"errors\":1,\"parse_failures\":0}",
        "\"tokens\":{\"input\":40,\"output\":4}",
        "\"cost_usd\":0.25",
        "\"finished_at\":\"2026-12-07T10:01:00Z\"",
        "\"metadata\":{\"epoch\":3}",
        "\"tracking\":{\"mlflow\":true,\"webhook\":true}",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (strstr(text, want[i]) == NULL) {
            fail_msg("%s not in %s", want[i], text);
        }
    }
    /* the run's own metrics stay flat; a per-subset one and a null are not among them */
    cJSON *m = cJSON_GetObjectItem(ev, "metrics");
    assert_null(cJSON_GetObjectItem(m, "Law/accuracy"));
    assert_null(cJSON_GetObjectItem(m, "macro_accuracy"));
    assert_non_null(cJSON_GetObjectItem(m, "accuracy"));
    free(text);
    cJSON_Delete(ev);
    hret_strlist_fini(&sinks);
    cJSON_Delete(doc);
}

static void test_select(void **state)
{
    (void)state;
    struct hret_config cfg = {0};
    cfg.wandb_tracking = true;
    struct hret_strlist out;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_sink_local_select(&cfg, NULL, &out, &err), HRET_OK);
    assert_int_equal(out.count, 1);
    assert_string_equal(out.items[0], "wandb");
    hret_strlist_fini(&out);
    assert_int_equal(hret_sink_local_select(&cfg, "none", &out, &err), HRET_OK);
    assert_int_equal(out.count, 0);
    assert_int_equal(hret_sink_local_select(&cfg, "tensorboard,mlflow,tensorboard", &out, &err),
                     HRET_OK);
    assert_int_equal(out.count, 2);
    hret_strlist_fini(&out);
    assert_int_equal(hret_sink_local_select(&cfg, "mlfow", &out, &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "no sink 'mlfow'"));
    assert_non_null(strstr(err.msg, "mlflow"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_of_a_results_document),
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
