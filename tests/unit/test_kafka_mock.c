/* The producer under injected faults, on librdkafka's built-in mock cluster (rdkafka_mock.h,
 * reference/infra.md §3.10): a broker that goes down and comes back, and Produce requests that
 * fail with retriable errors. The idempotent producer must deliver everything, once. */
#include "hret_test.h"

#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "hret_kafka.h"

#define API_PRODUCE 0 /* ApiKey, not in the public headers */

struct mock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    struct hret_kafka_producer *p;
};

static int setup(void **state)
{
    struct mock *m = calloc(1, sizeof *m);
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(m->rk);
    m->mc = rd_kafka_mock_cluster_new(m->rk, 1);
    assert_non_null(m->mc);
    assert_int_equal(rd_kafka_mock_topic_create(m->mc, "t", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    struct hret_kafka_conf kc = {.brokers = rd_kafka_mock_cluster_bootstraps(m->mc)};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_kafka_producer_new(&kc, &m->p, &err), HRET_OK);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    struct mock *m = *state;
    hret_kafka_producer_destroy(m->p);
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->rk);
    free(m);
    return 0;
}

static struct hret_kafka_message msg(const char *value)
{
    return (struct hret_kafka_message){
        .topic = "t", .key = "k", .key_len = 1, .value = value, .value_len = strlen(value)};
}

static void test_broker_down(void **state)
{
    struct mock *m = *state;
    struct hret_err err = HRET_ERR_INIT;
    struct hret_kafka_message a = msg("before");
    assert_int_equal(hret_kafka_produce_wait(m->p, &a, 10000, NULL, &err), HRET_OK);

    rd_kafka_mock_broker_set_down(m->mc, 1);
    /* while the broker is down the message stays queued: the wait times out (retriable) and
     * the abandoned delivery record is settled later without touching the caller's stack */
    struct hret_kafka_message b = msg("during");
    enum hret_result r = hret_kafka_produce_wait(m->p, &b, 1500, NULL, &err);
    assert_int_equal(r, HRET_E_TIMEOUT);
    assert_true(hret_result_is_retriable(r));
    struct hret_kafka_delivery d = {0};
    struct hret_kafka_message c = msg("queued");
    c.delivery = &d;
    assert_int_equal(hret_kafka_produce(m->p, &c, &err), HRET_OK);
    hret_kafka_producer_poll(m->p, 500);
    assert_false(d.done);

    rd_kafka_mock_broker_set_up(m->mc, 1);
    hret_err_clear(&err);
    assert_int_equal(hret_kafka_producer_flush(m->p, 20000, &err), HRET_OK);
    assert_true(d.done);
    assert_int_equal(d.result, HRET_OK);
    assert_true(d.offset >= 0);
}

static void test_produce_errors(void **state)
{
    struct mock *m = *state;
    struct hret_err err = HRET_ERR_INIT;
    rd_kafka_mock_push_request_errors(m->mc, API_PRODUCE, 3, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR__TRANSPORT,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    struct hret_kafka_delivery d[20];
    for (int i = 0; i < 20; i++) {
        struct hret_kafka_message x = msg("retried");
        d[i] = (struct hret_kafka_delivery){0};
        x.delivery = &d[i];
        assert_int_equal(hret_kafka_produce(m->p, &x, &err), HRET_OK);
    }
    assert_int_equal(hret_kafka_producer_flush(m->p, 20000, &err), HRET_OK);
    for (int i = 0; i < 20; i++) {
        assert_true(d[i].done);
        assert_int_equal(d[i].result, HRET_OK);
    }
}

static void test_unknown_topic(void **state)
{
    struct mock *m = *state;
    struct hret_err err = HRET_ERR_INIT;
    /* the mock auto-creates topics, so a permanent failure comes from a produce-time error */
    rd_kafka_mock_push_request_errors(m->mc, API_PRODUCE, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    struct hret_kafka_message x = msg("too large, says the broker");
    enum hret_result r = hret_kafka_produce_wait(m->p, &x, 10000, NULL, &err);
    assert_int_equal(r, HRET_E_INVAL);
    assert_false(hret_result_is_retriable(r));
    assert_non_null(strstr(err.msg, "delivering to t: "));
}

/* A consumer asked for end offsets while the broker is down fails with a retriable error (it
 * crashed once, freeing a partition list it had not made yet). */
static void test_assign_latest_broker_down(void **state)
{
    struct mock *m = *state;
    struct hret_kafka_conf kc = {.brokers = rd_kafka_mock_cluster_bootstraps(m->mc),
                                 .group_id = "g"};
    struct hret_kafka_consumer *c = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_kafka_consumer_new(&kc, HRET_KAFKA_START_LATEST, &c, &err), HRET_OK);
    assert_int_equal(rd_kafka_mock_broker_set_down(m->mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    enum hret_result r = hret_kafka_consumer_assign_latest(c, "t", 500, &err);
    assert_int_not_equal(r, HRET_OK);
    assert_non_null(strstr(err.msg, "kafka "));
    rd_kafka_mock_broker_set_up(m->mc, 1);
    hret_kafka_consumer_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_broker_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_produce_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assign_latest_broker_down, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
