/* hret_kafka without a broker: error classification, configuration (passthrough, secrets,
 * SASL password from the environment) and the CloudEvents attributes. The real broker is in
 * tests/integration/test_kafka.c, the mock cluster in test_kafka_mock.c. */
#include "hret_test.h"

#include <string.h>

#include "hret_cloudevents.h"
#include "hret_kafka.h"

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR_NO_ERROR), HRET_OK);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT), HRET_E_TIMEOUT);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR__TRANSPORT), HRET_E_UNAVAILABLE);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN), HRET_E_UNAVAILABLE);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION),
                     HRET_E_UNAVAILABLE);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART), HRET_E_CONFIG);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED),
                     HRET_E_CONFIG);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE), HRET_E_INVAL);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR__STATE), HRET_E_CONFLICT);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR__FATAL), HRET_E_FATAL);
    assert_int_equal(hret_kafka_classify(RD_KAFKA_RESP_ERR_PRODUCER_FENCED), HRET_E_FATAL);
    /* retriable exactly when the error enum says so */
    assert_true(hret_result_is_retriable(hret_kafka_classify(RD_KAFKA_RESP_ERR__TIMED_OUT)));
    assert_false(hret_result_is_retriable(hret_kafka_classify(RD_KAFKA_RESP_ERR__FATAL)));
}

static char *conf_get(rd_kafka_conf_t *c, const char *key)
{
    static char buf[512];
    size_t n = sizeof buf;
    assert_int_equal(rd_kafka_conf_get(c, key, buf, &n), RD_KAFKA_CONF_OK);
    return buf;
}

static void test_conf(void **state)
{
    (void)state;
    char k0[] = "socket.keepalive.enable", k1[] = "security.protocol", k2[] = "sasl.password";
    char v0[] = "true", v1[] = "sasl_plaintext", v_bad[] = "maybe", v_pw[] = "hunter2";
    char *keys[] = {k0, k1};
    char *values[] = {v0, v1};
    struct hret_kvlist props = {keys, values, 2};
    struct hret_kafka_conf kc = {.brokers = "127.0.0.1:1", .properties = &props};
    struct hret_err err = HRET_ERR_INIT;
    rd_kafka_conf_t *c = hret_kafka_conf_new(&kc, &err);
    assert_non_null(c);
    assert_string_equal(conf_get(c, "bootstrap.servers"), "127.0.0.1:1");
    assert_string_equal(conf_get(c, "socket.keepalive.enable"), "true");
    assert_string_equal(conf_get(c, "client.id"), "hret");
    rd_kafka_conf_destroy(c);

    /* a bad property names the config key */
    values[0] = v_bad;
    assert_null(hret_kafka_conf_new(&kc, &err));
    assert_int_equal(err.code, HRET_E_CONFIG);
    assert_non_null(strstr(err.msg, "kafka.properties.socket.keepalive.enable: "));
    hret_err_clear(&err);
    values[0] = v0;

    /* secrets never come from the passthrough */
    keys[1] = k2;
    values[1] = v_pw;
    assert_null(hret_kafka_conf_new(&kc, &err));
    assert_non_null(strstr(err.msg, "kafka.properties.sasl.password: secrets are never read"));
    assert_null(strstr(err.msg, "hunter2"));
    hret_err_clear(&err);
    props.count = 1;

    /* the SASL password comes from the named environment variable */
    kc.sasl_password_env = "HRET_TEST_KAFKA_PW";
    unsetenv("HRET_TEST_KAFKA_PW");
    assert_null(hret_kafka_conf_new(&kc, &err));
    assert_string_equal(err.msg,
                        "kafka.sasl_password_env: environment variable HRET_TEST_KAFKA_PW is "
                        "not set");
    hret_err_clear(&err);
    setenv("HRET_TEST_KAFKA_PW", "s3cret", 1);
    c = hret_kafka_conf_new(&kc, &err);
    assert_non_null(c);
    assert_string_equal(conf_get(c, "sasl.password"), "s3cret");
    rd_kafka_conf_destroy(c);
    unsetenv("HRET_TEST_KAFKA_PW");

    kc.brokers = "";
    assert_null(hret_kafka_conf_new(&kc, &err));
    assert_non_null(strstr(err.msg, "kafka.brokers is empty"));
}

static void test_uuid(void **state)
{
    (void)state;
    char a[37], b[37];
    assert_int_equal(hret_uuid4(a, NULL), HRET_OK);
    assert_int_equal(hret_uuid4(b, NULL), HRET_OK);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    assert_int_equal(a[8], '-');
    assert_int_equal(a[14], '4');                         /* version */
    assert_non_null(strchr("89ab", a[19]));               /* variant */
    assert_int_equal(strspn(a, "0123456789abcdef-"), 36); /* lower-case hex */
}

static void test_cloudevent_headers(void **state)
{
    (void)state;
    struct hret_cloudevent ev, back;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_cloudevent_init(&ev, "hret.run.completed.v1", "/hret/worker/w1", &err),
                     HRET_OK);
    assert_int_equal(strlen(ev.time), 24); /* 2026-11-28T08:00:00.123Z */
    assert_int_equal(ev.time[23], 'Z');
    rd_kafka_headers_t *h = hret_cloudevent_headers(&ev);
    assert_int_equal(hret_cloudevent_from_headers(h, &back, &err), HRET_OK);
    assert_memory_equal(&ev, &back, sizeof ev);
    char ct[64];
    assert_true(hret_cloudevent_header(h, "content-type", ct, sizeof ct));
    assert_string_equal(ct, "application/json");
    assert_false(hret_cloudevent_header(h, "content-type", ct, 5)); /* too long for buf */
    rd_kafka_header_remove(h, "ce_type");
    assert_int_equal(hret_cloudevent_from_headers(h, &back, &err), HRET_E_PROTO);
    assert_non_null(strstr(err.msg, "ce_type"));
    rd_kafka_headers_destroy(h);
    hret_err_clear(&err);
    assert_int_equal(hret_cloudevent_from_headers(NULL, &back, &err), HRET_E_PROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_conf),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_cloudevent_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
