/* The W&B wire protocol as hret_wandb builds it (reference/infra.md §2): the run name, the
 * upsertBucket request and response, the history row, file_stream bodies and URLs. The e2e test
 * (tests/e2e/test_bridge_wandb.sh) sends the same bytes to the protocol-checking fake. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cloudevents.h"
#include "hret_json.h"
#include "hret_wandb.h"

/* A run.completed event as the worker writes it, with --meta epoch=4 --meta lr=0.01. */
static const char completed_event[] =
    "{\"request_id\":\"req-1\",\"run_id\":\"0b7c2a4e-1f6d-4c1a-9b1e-3f2a6d8c9e01\","
    "\"run_name\":\"kmmlu-a\",\"status\":\"completed\","
    "\"model\":{\"name\":\"a\",\"model_id\":\"a-7b\"},"
    "\"dataset\":{\"name\":\"kmmlu\",\"split\":\"test\",\"version\":\"0123456789abcdef\"},"
    "\"evaluation\":{\"method\":\"string_match\"},\"num_few_shot\":0,"
    "\"metrics\":{\"accuracy\":0.55,\"error_rate\":0,\"latency_p50_ms\":12.5},"
    "\"subset_metrics\":{\"Law\":{\"accuracy\":0.5},\"Math\":{\"accuracy\":0.6}},"
    "\"counts\":{\"samples\":40,\"errors\":0},"
    "\"started_at\":\"2026-11-28T10:03:59Z\",\"finished_at\":\"2026-11-28T10:04:19.250Z\","
    "\"duration_s\":20.25,\"metadata\":{\"epoch\":4,\"lr\":0.01,\"model\":\"shadowed\"},"
    "\"tracking\":{\"wandb\":true}}";

static cJSON *parse(const char *text)
{
    cJSON *doc = hret_json_parse(text, strlen(text), 1 << 20, NULL);
    assert_non_null(doc);
    return doc;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_non_null(v);
    return v;
}

static void test_run_name(void **state)
{
    (void)state;
    char name[65];
    hret_wandb_run_name("0b7c2a4e-1f6d-4c1a-9b1e-3f2a6d8c9e01", name);
    assert_string_equal(name, "0b7c2a4e-1f6d-4c1a-9b1e-3f2a6d8c9e01");
    /* ':' and '.' are hret id characters W&B paths do not take: hashed (value from Python). */
    hret_wandb_run_name("req-1:run.a", name);
    assert_string_equal(name, "hret-f8d51f32cabe242f19b079906b483ccb");
    char again[65];
    hret_wandb_run_name("req-1:run.a", again);
    assert_string_equal(name, again);
    char long_id[80];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    hret_wandb_run_name(long_id, name);
    assert_int_equal(strncmp(name, "hret-", 5), 0);
    assert_int_equal(strlen(name), 37);
}

static void test_upsert_body(void **state)
{
    (void)state;
    cJSON *ev = parse(completed_event);
    char *body = hret_wandb_upsert_body(ev, "run-1", NULL, "p");
    cJSON *req = parse(body);
    const char *query = get(req, "query")->valuestring;
    assert_non_null(strstr(query, "mutation UpsertBucket("));
    assert_non_null(strstr(query, "modelName: $project"));
    assert_non_null(strstr(query, "entityName: $entity"));
    assert_non_null(strstr(query, "$config: JSONString"));
    const cJSON *vars = get(req, "variables");
    assert_string_equal(get(vars, "name")->valuestring, "run-1");
    assert_string_equal(get(vars, "project")->valuestring, "p");
    assert_true(cJSON_IsNull(get(vars, "entity"))); /* the key's default entity */
    assert_string_equal(get(vars, "displayName")->valuestring, "kmmlu-a");
    assert_string_equal(get(vars, "groupName")->valuestring, "req-1");
    assert_string_equal(get(vars, "jobType")->valuestring, "eval");
    const cJSON *tags = get(vars, "tags");
    assert_int_equal(cJSON_GetArraySize(tags), 2);
    assert_string_equal(cJSON_GetArrayItem(tags, 0)->valuestring, "a");
    assert_string_equal(cJSON_GetArrayItem(tags, 1)->valuestring, "kmmlu");
    /* config is JSON text, every key wrapped as {"value": v} */
    const cJSON *config_text = get(vars, "config");
    assert_true(cJSON_IsString(config_text));
    cJSON *config = parse(config_text->valuestring);
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, config)
    {
        assert_true(cJSON_IsObject(it));
        assert_int_equal(cJSON_GetArraySize(it), 1);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(it, "value"));
    }
    assert_int_equal(get(get(config, "epoch"), "value")->valueint, 4);
    assert_true(fabs(get(get(config, "lr"), "value")->valuedouble - 0.01) < 1e-12);
    assert_string_equal(get(get(get(config, "evaluation"), "value"), "method")->valuestring,
                        "string_match");
    assert_string_equal(get(get(config, "model"), "value")->valuestring, "a");
    assert_string_equal(get(get(config, "dataset_version"), "value")->valuestring,
                        "0123456789abcdef");
    cJSON_Delete(config);
    cJSON_Delete(req);
    free(body);

    /* No run_name: model/dataset; an entity when one is configured. */
    cJSON_DeleteItemFromObjectCaseSensitive(ev, "run_name");
    body = hret_wandb_upsert_body(ev, "run-1", "team", "p");
    req = parse(body);
    vars = get(req, "variables");
    assert_string_equal(get(vars, "displayName")->valuestring, "a/kmmlu");
    assert_string_equal(get(vars, "entity")->valuestring, "team");
    cJSON_Delete(req);
    free(body);
    cJSON_Delete(ev);
}

static void test_upsert_parse(void **state)
{
    (void)state;
    static const char ok[] =
        "{\"data\":{\"upsertBucket\":{\"inserted\":true,\"bucket\":{\"id\":\"UnVu\",\"name\":"
        "\"run-1\",\"historyLineCount\":0,\"project\":{\"id\":\"P\",\"name\":\"p\","
        "\"entity\":{\"id\":\"E\",\"name\":\"me\"}}}}}}";
    struct hret_wandb_bucket b;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_wandb_upsert_parse(ok, strlen(ok), &b, &err), HRET_OK);
    assert_string_equal(b.name, "run-1");
    assert_string_equal(b.project, "p");
    assert_string_equal(b.entity, "me");

    /* GraphQL reports errors with HTTP 200. */
    static const char errors[] =
        "{\"errors\":[{\"message\":\"permission denied\",\"path\":[\"upsertBucket\"]}],"
        "\"data\":{\"upsertBucket\":null}}";
    assert_int_equal(hret_wandb_upsert_parse(errors, strlen(errors), &b, &err), HRET_E_PROTO);
    assert_non_null(strstr(err.msg, "permission denied"));

    static const char no_entity[] =
        "{\"data\":{\"upsertBucket\":{\"bucket\":{\"name\":\"r\",\"project\":{\"name\":\"p\"}}}}}";
    hret_err_clear(&err);
    assert_int_equal(hret_wandb_upsert_parse(no_entity, strlen(no_entity), &b, &err), HRET_E_PROTO);
    assert_non_null(strstr(err.msg, "entity"));

    hret_err_clear(&err);
    assert_int_equal(hret_wandb_upsert_parse("<html>", 6, &b, &err), HRET_E_PROTO);
}

static void test_row(void **state)
{
    (void)state;
    cJSON *ev = parse(completed_event);
    cJSON *row = hret_wandb_row(ev);
    assert_int_equal(get(row, "_step")->valueint, 4);
    assert_true(get(row, "_runtime")->valuedouble == 20.25);
    assert_true(get(row, "_timestamp")->valuedouble == 1795860259.25);
    assert_true(get(row, "accuracy")->valuedouble == 0.55);
    assert_true(get(row, "Law/accuracy")->valuedouble == 0.5);
    assert_true(get(row, "Math/accuracy")->valuedouble == 0.6);
    assert_true(hret_wandb_row_has_metrics(row));
    cJSON_Delete(row);

    /* track_metrics keeps accuracy (and per-subset accuracy) only; no duration: the times. */
    cJSON_AddItemToObject(ev, "track_metrics", parse("[\"accuracy\"]"));
    cJSON_DeleteItemFromObjectCaseSensitive(ev, "duration_s");
    row = hret_wandb_row(ev);
    assert_null(cJSON_GetObjectItemCaseSensitive(row, "error_rate"));
    assert_null(cJSON_GetObjectItemCaseSensitive(row, "latency_p50_ms"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(row, "Law/accuracy"));
    assert_true(get(row, "_runtime")->valuedouble == 20.25);
    cJSON_Delete(row);
    cJSON_Delete(ev);

    /* A failure before scoring: no metric, step 0, failed_at as the time. */
    ev = parse("{\"request_id\":\"r\",\"run_id\":\"x\",\"status\":\"failed\","
               "\"error\":{\"class\":\"endpoint\",\"message\":\"down\"},"
               "\"failed_at\":\"2026-11-28T10:03:59Z\"}");
    row = hret_wandb_row(ev);
    assert_int_equal(get(row, "_step")->valueint, 0);
    assert_true(get(row, "_timestamp")->valuedouble == 1795860239.0);
    assert_false(hret_wandb_row_has_metrics(row));
    cJSON_Delete(row);
    cJSON_Delete(ev);
}

static void test_stream_bodies(void **state)
{
    (void)state;
    cJSON *row = parse("{\"_step\":4,\"_runtime\":1.5,\"_timestamp\":2,\"accuracy\":0.5}");
    char *body = hret_wandb_stream_body(row, true, 0);
    cJSON *req = parse(body);
    const cJSON *files = get(req, "files");
    assert_int_equal(cJSON_GetArraySize(files), 2);
    const cJSON *history = get(files, HRET_WANDB_HISTORY);
    assert_int_equal(get(history, "offset")->valueint, 0);
    const cJSON *content = get(history, "content");
    assert_int_equal(cJSON_GetArraySize(content), 1);
    cJSON *line = parse(cJSON_GetArrayItem(content, 0)->valuestring); /* a JSON string */
    assert_true(get(line, "accuracy")->valuedouble == 0.5);
    cJSON_Delete(line);
    const cJSON *summary = get(files, HRET_WANDB_SUMMARY);
    assert_int_equal(get(summary, "offset")->valueint, 0);
    assert_int_equal(cJSON_GetArraySize(get(summary, "content")), 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(req, "complete"));
    cJSON_Delete(req);
    free(body);

    body = hret_wandb_stream_body(row, false, 0);
    req = parse(body);
    assert_null(cJSON_GetObjectItemCaseSensitive(get(req, "files"), HRET_WANDB_HISTORY));
    cJSON_Delete(req);
    free(body);
    cJSON_Delete(row);

    body = hret_wandb_complete_body(1);
    assert_string_equal(body, "{\"complete\":true,\"exitcode\":1}");
    free(body);
}

static void test_stream_url(void **state)
{
    (void)state;
    char *url = hret_wandb_stream_url("http://127.0.0.1:8080/", "e", "p", "run-1");
    assert_string_equal(url, "http://127.0.0.1:8080/files/e/p/run-1/file_stream");
    free(url);
    url = hret_wandb_stream_url("https://api.wandb.ai", "my team", "a/b", "r");
    assert_string_equal(url, "https://api.wandb.ai/files/my%20team/a%2Fb/r/file_stream");
    free(url);
}

static void test_parse_time(void **state)
{
    (void)state;
    double t = 0;
    assert_true(hret_cloudevent_parse_time("2026-11-28T10:04:19.250Z", &t));
    assert_true(t == 1795860259.25);
    assert_true(hret_cloudevent_parse_time("2026-11-28 10:03:59+00:00", &t));
    assert_true(t == 1795860239.0);
    assert_true(hret_cloudevent_parse_time("2000-02-29T23:59:59Z", &t)); /* leap day */
    assert_true(t == 951868799.0);
    assert_true(hret_cloudevent_parse_time("1969-12-31T00:00:00Z", &t));
    assert_true(t == -86400.0);
    assert_false(hret_cloudevent_parse_time("2026-11-28T10:04:19+09:00", &t)); /* UTC only */
    assert_false(hret_cloudevent_parse_time("2026-13-01T00:00:00Z", &t));
    assert_false(hret_cloudevent_parse_time("yesterday", &t));
    assert_false(hret_cloudevent_parse_time(NULL, &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_name),      cmocka_unit_test(test_upsert_body),
        cmocka_unit_test(test_upsert_parse),  cmocka_unit_test(test_row),
        cmocka_unit_test(test_stream_bodies), cmocka_unit_test(test_stream_url),
        cmocka_unit_test(test_parse_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
