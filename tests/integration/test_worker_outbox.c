/* The worker's outbox against a real PostgreSQL and librdkafka's mock cluster: events added in a
 * transaction are published once each, in id order, with the CloudEvents headers and the row's
 * key, and marked published; a repeated event id adds nothing; a second relay publishes
 * nothing; an event added again after publication (published_at reset, as after a crash
 * between produce and mark) goes out again with the same ce_id. With the broker down, the
 * relay's turns return with the event in flight and claimed, and it goes out once when the
 * broker is back. */
#include "hret_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "hret_kafka.h"
#include "hret_outbox.h"
#include "hret_pg_test.h"
#include "hret_store.h"

static struct hret_pg_test db;
static struct hret_store *store;
static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mc;
static struct hret_kafka_producer *producer;
static struct hret_kafka_consumer *consumer;
static struct hret_outbox_relay *relayer;

static int setup(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    char errstr[256];
    if (hret_pg_test_start(&db, false) != 0 ||
        hret_store_open(db.conninfo, NULL, true, &store, &err) != HRET_OK) {
        fprintf(stderr, "PostgreSQL: %s\n", err.msg);
        return -1;
    }
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), errstr, sizeof errstr);
    mc = mock_rk ? rd_kafka_mock_cluster_new(mock_rk, 1) : NULL;
    if (mc == NULL || rd_kafka_mock_topic_create(mc, "results", 2, 1) != 0) {
        return -1;
    }
    struct hret_kafka_conf kc = {.brokers = rd_kafka_mock_cluster_bootstraps(mc),
                                 .group_id = "outbox-test"};
    const char *topics[] = {"results"};
    if (hret_kafka_producer_new(&kc, &producer, &err) != HRET_OK ||
        hret_kafka_consumer_new(&kc, HRET_KAFKA_START_EARLIEST, &consumer, &err) != HRET_OK ||
        hret_kafka_consumer_subscribe(consumer, topics, 1, &err) != HRET_OK) {
        fprintf(stderr, "kafka: %s\n", err.msg);
        return -1;
    }
    relayer = hret_outbox_relay_new(producer);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hret_outbox_relay_destroy(relayer, hret_store_pg(store));
    hret_kafka_consumer_destroy(consumer);
    hret_kafka_producer_destroy(producer);
    if (mc != NULL) {
        rd_kafka_mock_cluster_destroy(mc);
    }
    if (mock_rk != NULL) {
        rd_kafka_destroy(mock_rk);
    }
    hret_store_destroy(store);
    hret_pg_test_finish(&db);
    return 0;
}

static enum hret_result add_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    const char *const *ids = user;
    for (size_t i = 0; ids[i] != NULL; i++) {
        cJSON *data = cJSON_CreateObject();
        cJSON_AddStringToObject(data, "run_id", ids[i]);
        struct hret_outbox_event ev = {ids[i], "results", "key-1", "hret.run.completed.v1", data};
        enum hret_result r = hret_outbox_add(pg, &ev, err);
        cJSON_Delete(data);
        if (r != HRET_OK) {
            return r;
        }
    }
    return HRET_OK;
}

static long long count(const char *sql)
{
    PGresult *res = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_pg_query(hret_store_pg(store), "test", sql, 0, NULL, false, &res, &err),
                     HRET_OK);
    long long n = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

/* Turns the relay until nothing is in flight (at most 30 s); the rows it marked published. */
static size_t relay(void)
{
    size_t total = 0;
    struct hret_err err = HRET_ERR_INIT;
    for (int i = 0; i < 300; i++) {
        size_t n = 99;
        assert_int_equal(hret_outbox_relay_step(relayer, hret_store_pg(store), &n, &err), HRET_OK);
        total += n;
        if (!hret_outbox_relay_busy(relayer)) {
            return total;
        }
        hret_kafka_producer_poll(producer, 100);
    }
    fail_msg("the relay still has events in flight after 30 s");
    return total;
}

/* The next message's ce_id (out, 64 bytes), checking the other headers, key and value. */
static void next_event(char *out)
{
    rd_kafka_message_t *m = NULL;
    struct hret_err err = HRET_ERR_INIT;
    for (int i = 0; i < 150 && m == NULL; i++) {
        enum hret_result r = hret_kafka_consumer_poll(consumer, 100, &m, &err);
        assert_true(r == HRET_OK || r == HRET_AGAIN);
    }
    assert_non_null(m);
    rd_kafka_headers_t *h = NULL;
    assert_int_equal(rd_kafka_message_headers(m, &h), RD_KAFKA_RESP_ERR_NO_ERROR);
    struct hret_cloudevent ev;
    assert_int_equal(hret_cloudevent_from_headers(h, &ev, &err), HRET_OK);
    assert_string_equal(ev.type, "hret.run.completed.v1");
    assert_string_equal(ev.source, HRET_OUTBOX_SOURCE);
    assert_int_equal(strlen(ev.time), 24);
    assert_int_equal(m->key_len, 5);
    assert_memory_equal(m->key, "key-1", 5);
    cJSON *v = cJSON_ParseWithLength(m->payload, m->len);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(v, "run_id")), ev.id);
    cJSON_Delete(v);
    snprintf(out, 64, "%s", ev.id);
    rd_kafka_message_destroy(m);
}

static void test_publish_once(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    const char *ids[] = {"ev-a", "ev-b", "ev-a", NULL};
    assert_int_equal(hret_pg_transaction(hret_store_pg(store), "add", add_txn, ids, &err), HRET_OK);
    assert_int_equal(count("SELECT count(*) FROM outbox"), 2);
    assert_int_equal(relay(), 2);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
    assert_int_equal(relay(), 0);
    char a[64], b[64];
    next_event(a);
    next_event(b);
    assert_true((strcmp(a, "ev-a") == 0 && strcmp(b, "ev-b") == 0) ||
                (strcmp(a, "ev-b") == 0 && strcmp(b, "ev-a") == 0));
    /* a crash between produce and mark: the row is published again, same ce_id */
    assert_int_equal(hret_pg_exec_static(hret_store_pg(store), "reset",
                                         "UPDATE outbox SET published_at = NULL"
                                         " WHERE event_id = 'ev-b'",
                                         &err),
                     HRET_OK);
    assert_int_equal(relay(), 1);
    next_event(a);
    assert_string_equal(a, "ev-b");
    assert_int_equal(count("SELECT max(attempts) FROM outbox"), 2);
}

/* The broker down: a turn produces the event and returns with it in flight and claimed, not
 * published; more turns change nothing; once the broker is back the event goes out once and is
 * marked, and nothing is left claimed (issue 16 item 6). */
static void test_broker_down(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    const char *ids[] = {"ev-down", NULL};
    assert_int_equal(rd_kafka_mock_broker_set_down(mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(hret_pg_transaction(hret_store_pg(store), "add", add_txn, ids, &err), HRET_OK);
    for (int i = 0; i < 20; i++) {
        size_t n = 99;
        assert_int_equal(hret_outbox_relay_step(relayer, hret_store_pg(store), &n, &err), HRET_OK);
        assert_int_equal(n, 0);
        assert_true(hret_outbox_relay_busy(relayer));
    }
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE event_id = 'ev-down'"
                           " AND published_at IS NULL AND claimed_until > now()"),
                     1);
    assert_int_equal(rd_kafka_mock_broker_set_up(mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(relay(), 1);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE published_at IS NULL"
                           " OR claimed_until IS NOT NULL"),
                     0);
    assert_int_equal(relay(), 0);
    char a[64];
    next_event(a);
    assert_string_equal(a, "ev-down");
    rd_kafka_message_t *m = NULL;
    assert_int_equal(hret_kafka_consumer_poll(consumer, 2000, &m, &err), HRET_AGAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_once),
        cmocka_unit_test(test_broker_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
