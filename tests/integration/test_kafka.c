/* hret_kafka against a real Apache Kafka broker (KRaft, from deploy/local/kafka.sh, started here
 * when HRET_KAFKA is unset and stopped at the end): CloudEvents round trip, the dead-letter
 * helper, watermark offset storage across a consumer restart, and hret submit (plain and --wait)
 * producing a request the parser and the JSON Schema accept. Each run uses fresh topics. */
#include "hret_test.h"

#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hret_cloudevents.h"
#include "hret_config.h"
#include "hret_kafka.h"
#include "hret_request.h"

static char brokers[256];
static char state_dir[64];
static bool started;
static char topic[128], results[128], wm_topic[128];

static void sh(const char *cmd, char *out, size_t cap)
{
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = out ? fread(out, 1, cap - 1, f) : 0;
    if (out) {
        out[n] = '\0';
    }
    assert_int_equal(pclose(f), 0);
}

static void create_topics(const char *const *names, size_t count, int partitions)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(rk);
    rd_kafka_NewTopic_t *nt[8];
    for (size_t i = 0; i < count; i++) {
        nt[i] = rd_kafka_NewTopic_new(names[i], partitions, 1, errstr, sizeof errstr);
        assert_non_null(nt[i]);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, count, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    assert_non_null(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    assert_int_equal(n, count);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            fail_msg("create %s: %s", rd_kafka_topic_result_name(tr[i]), rd_kafka_err2str(e));
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy_array(nt, count);
    rd_kafka_destroy(rk);
}

static int setup(void **state)
{
    (void)state;
    const char *env = getenv("HRET_KAFKA");
    if (env != NULL && env[0] != '\0') {
        snprintf(brokers, sizeof brokers, "%s", env);
    } else {
        snprintf(state_dir, sizeof state_dir, "/tmp/hret-kafka-test-XXXXXX");
        assert_non_null(mkdtemp(state_dir));
        char out[512], script[4096];
        snprintf(script, sizeof script, "%s", hret_test_path("deploy/local/kafka.sh"));
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "'%s' start --dir %s", script, state_dir);
        sh(cmd, out, sizeof out);
        const char *line = strstr(out, "HRET_KAFKA=");
        assert_non_null(line);
        snprintf(brokers, sizeof brokers, "%s", line + strlen("HRET_KAFKA="));
        brokers[strcspn(brokers, "\r\n")] = '\0';
        started = true;
    }
    char id[37];
    assert_int_equal(hret_uuid4(id, NULL), HRET_OK);
    snprintf(topic, sizeof topic, "hret.test.%.8s.requests", id);
    snprintf(results, sizeof results, "hret.test.%.8s.results", id);
    snprintf(wm_topic, sizeof wm_topic, "hret.test.%.8s.wm", id);
    char dlq[160];
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    const char *three[] = {topic, dlq, results};
    create_topics(three, 3, 3);
    const char *one[] = {wm_topic};
    create_topics(one, 1, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (started) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "'%s' stop --dir %s && rm -rf %s",
                 hret_test_path("deploy/local/kafka.sh"), state_dir, state_dir);
        sh(cmd, NULL, 0);
    }
    return 0;
}

static struct hret_kafka_conf conf_for(const char *group)
{
    return (struct hret_kafka_conf){.brokers = brokers, .group_id = group};
}

static struct hret_kafka_consumer *consumer(const char *group, const char *t)
{
    struct hret_kafka_conf kc = conf_for(group);
    struct hret_kafka_consumer *c = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_kafka_consumer_new(&kc, HRET_KAFKA_START_EARLIEST, &c, &err), HRET_OK);
    assert_int_equal(hret_kafka_consumer_subscribe(c, &t, 1, &err), HRET_OK);
    return c;
}

/* The next message whose key is key (others are done and dropped); NULL after 30 s. */
static rd_kafka_message_t *next_keyed(struct hret_kafka_consumer *c, const char *key)
{
    for (int i = 0; i < 300; i++) {
        rd_kafka_message_t *m = NULL;
        struct hret_err err = HRET_ERR_INIT;
        enum hret_result r = hret_kafka_consumer_poll(c, 100, &m, &err);
        if (r != HRET_OK) {
            assert_true(r == HRET_AGAIN || hret_result_is_retriable(r));
            continue;
        }
        if (key == NULL || (m->key_len == strlen(key) && memcmp(m->key, key, m->key_len) == 0)) {
            return m;
        }
        hret_kafka_consumer_done(c, rd_kafka_topic_name(m->rkt), m->partition, m->offset, NULL);
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static struct hret_kafka_producer *producer(void)
{
    struct hret_kafka_conf kc = conf_for(NULL);
    struct hret_kafka_producer *p = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_kafka_producer_new(&kc, &p, &err), HRET_OK);
    return p;
}

static void header_is(const rd_kafka_message_t *m, const char *name, const char *want)
{
    rd_kafka_headers_t *h = NULL;
    assert_int_equal(rd_kafka_message_headers(m, &h), RD_KAFKA_RESP_ERR_NO_ERROR);
    char got[512];
    if (!hret_cloudevent_header(h, name, got, sizeof got)) {
        fail_msg("header %s missing", name);
    }
    if (want != NULL) {
        assert_string_equal(got, want);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    struct hret_kafka_producer *p = producer();
    struct hret_cloudevent ev;
    assert_int_equal(hret_cloudevent_init(&ev, "hret.test.v1", "/hret/test", NULL), HRET_OK);
    const char *value = "{\"hello\":\"세계\"}";
    struct hret_kafka_message m = {.topic = topic,
                                   .key = "rt-1",
                                   .key_len = 4,
                                   .value = value,
                                   .value_len = strlen(value),
                                   .event = &ev};
    struct hret_kafka_delivery d;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_kafka_produce_wait(p, &m, 30000, &d, &err), HRET_OK);
    assert_true(d.done);
    assert_true(d.offset >= 0);
    /* async produce settles through the delivery record */
    struct hret_kafka_delivery d2 = {0};
    m.key = "rt-2";
    m.delivery = &d2;
    assert_int_equal(hret_kafka_produce(p, &m, &err), HRET_OK);
    assert_int_equal(hret_kafka_producer_flush(p, 30000, &err), HRET_OK);
    assert_true(d2.done);
    assert_int_equal(d2.result, HRET_OK);
    hret_kafka_producer_destroy(p);

    struct hret_kafka_consumer *c = consumer("hret-test-rt", topic);
    rd_kafka_message_t *got = next_keyed(c, "rt-1");
    assert_non_null(got);
    assert_int_equal(got->len, strlen(value));
    assert_memory_equal(got->payload, value, got->len);
    assert_int_equal(got->partition, d.partition);
    assert_int_equal(got->offset, d.offset);
    rd_kafka_headers_t *h = NULL;
    assert_int_equal(rd_kafka_message_headers(got, &h), RD_KAFKA_RESP_ERR_NO_ERROR);
    struct hret_cloudevent back;
    assert_int_equal(hret_cloudevent_from_headers(h, &back, &err), HRET_OK);
    assert_string_equal(back.id, ev.id);
    assert_string_equal(back.type, "hret.test.v1");
    assert_string_equal(back.source, "/hret/test");
    assert_string_equal(back.time, ev.time);
    header_is(got, "ce_specversion", "1.0");
    header_is(got, "content-type", "application/json");
    assert_true(hret_kafka_consumer_assigned(c) > 0);
    rd_kafka_message_destroy(got);
    hret_kafka_consumer_destroy(c);
}

static void test_dlq(void **state)
{
    (void)state;
    struct hret_kafka_producer *p = producer();
    struct hret_cloudevent ev;
    hret_cloudevent_init(&ev, HRET_REQUEST_EVENT_TYPE, "/hret/test", NULL);
    const char *bad = "{\"datasets\": [{\"name\": \"kmmlu\"}, {\"name\": \"x\", \"limit\": -1}]}";
    struct hret_kafka_message m = {.topic = topic,
                                   .key = "dlq-1",
                                   .key_len = 5,
                                   .value = bad,
                                   .value_len = strlen(bad),
                                   .event = &ev};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_kafka_produce_wait(p, &m, 30000, NULL, &err), HRET_OK);

    struct hret_kafka_consumer *c = consumer("hret-test-dlq", topic);
    rd_kafka_message_t *orig = next_keyed(c, "dlq-1");
    assert_non_null(orig);
    const char *reason = "datasets[1].limit: expected a non-negative integer";
    assert_int_equal(hret_kafka_dlq_send(p, orig, NULL, reason, "datasets[1].limit",
                                         "invalid_request", 30000, &err),
                     HRET_OK);
    char part[16], off[32], dlq[160];
    snprintf(part, sizeof part, "%d", (int)orig->partition);
    snprintf(off, sizeof off, "%lld", (long long)orig->offset);
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    assert_int_equal(hret_kafka_consumer_done(c, topic, orig->partition, orig->offset, &err),
                     HRET_OK);
    rd_kafka_message_destroy(orig);
    hret_kafka_consumer_destroy(c);
    hret_kafka_producer_destroy(p);

    c = consumer("hret-test-dlq-reader", dlq);
    rd_kafka_message_t *got = next_keyed(c, "dlq-1");
    assert_non_null(got);
    assert_int_equal(got->len, strlen(bad));
    assert_memory_equal(got->payload, bad, got->len);
    header_is(got, "hret_dlq_reason", reason);
    header_is(got, "hret_dlq_path", "datasets[1].limit");
    header_is(got, "hret_dlq_class", "invalid_request");
    header_is(got, "hret_dlq_topic", topic);
    header_is(got, "hret_dlq_partition", part);
    header_is(got, "hret_dlq_offset", off);
    header_is(got, "hret_dlq_time", NULL);
    header_is(got, "ce_id", ev.id); /* the original event's identity travels along */
    rd_kafka_message_destroy(got);
    hret_kafka_consumer_destroy(c);
}

/* Ten messages on one partition, jobs finishing out of order: after a restart the group resumes
 * at the first unfinished offset, not past it. */
static void test_watermark_resume(void **state)
{
    (void)state;
    struct hret_kafka_producer *p = producer();
    struct hret_err err = HRET_ERR_INIT;
    for (int i = 0; i < 10; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        struct hret_kafka_message m = {
            .topic = wm_topic, .key = "wm", .key_len = 2, .value = v, .value_len = strlen(v)};
        assert_int_equal(hret_kafka_produce(p, &m, &err), HRET_OK);
    }
    assert_int_equal(hret_kafka_producer_flush(p, 30000, &err), HRET_OK);
    hret_kafka_producer_destroy(p);

    struct hret_kafka_consumer *c = consumer("hret-test-wm", wm_topic);
    int64_t offsets[10];
    for (int i = 0; i < 10; i++) {
        rd_kafka_message_t *m = next_keyed(c, NULL);
        assert_non_null(m);
        offsets[i] = m->offset;
        assert_int_equal(m->offset, i);
        rd_kafka_message_destroy(m);
    }
    /* 3, 1, 0, 2, 5, 6 finish; 4 is still running when the worker dies */
    const int order[] = {3, 1, 0, 2, 5, 6};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        assert_int_equal(hret_kafka_consumer_done(c, wm_topic, 0, offsets[order[i]], &err),
                         HRET_OK);
    }
    assert_int_equal(hret_kafka_consumer_commit(c, &err), HRET_OK);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, wm_topic, 0);
    assert_int_equal(rd_kafka_committed(hret_kafka_consumer_handle(c), l, 10000),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(l->elems[0].offset, 4);
    rd_kafka_topic_partition_list_destroy(l);
    hret_kafka_consumer_destroy(c); /* close: leaves the group */

    c = consumer("hret-test-wm", wm_topic);
    rd_kafka_message_t *m = next_keyed(c, NULL);
    assert_non_null(m);
    assert_int_equal(m->offset, 4); /* 5 and 6 run again: at least once */
    assert_int_equal(hret_kafka_consumer_done(c, wm_topic, 0, m->offset, &err), HRET_OK);
    rd_kafka_message_destroy(m);
    hret_kafka_consumer_destroy(c);
}

/* Runs hret submit with the test topics (HRET_KAFKA_*_TOPIC overrides); caller pcloses. */
static FILE *submit(const char *extra)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "HRET_KAFKA_REQUESTS_TOPIC=%s HRET_KAFKA_RESULTS_TOPIC=%s HRET_LOG_LEVEL=warn "
             "'%s/hret' submit --kafka %s --config '%s' --dataset kmmlu --model baseline "
             "--run-name itest --meta epoch=3 %s",
             topic, results, getenv("HRET_BUILD_DIR"), brokers,
             hret_test_path("tests/data/requests/hret_config.yaml"), extra);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    return f;
}

static int exit_status(FILE *f)
{
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Reads the request id line, then returns the request message from the topic. */
static rd_kafka_message_t *sent_request(FILE *f, struct hret_kafka_consumer *c, char id[64])
{
    assert_non_null(fgets(id, 64, f));
    id[strcspn(id, "\n")] = '\0';
    assert_int_equal(strlen(id), 36);
    return next_keyed(c, id);
}

static void test_submit(void **state)
{
    (void)state;
    struct hret_kafka_consumer *c = consumer("hret-test-submit", topic);
    FILE *f = submit("");
    char id[64];
    rd_kafka_message_t *m = sent_request(f, c, id);
    assert_int_equal(exit_status(f), 0);
    assert_non_null(m);
    header_is(m, "ce_type", HRET_REQUEST_EVENT_TYPE);
    header_is(m, "ce_source", "/hret/submit");
    header_is(m, "content-type", "application/json");
    /* the worker's parser accepts it as sent */
    struct hret_config cfg = {0};
    assert_int_equal(
        hret_config_load(&cfg, hret_test_path("tests/data/requests/hret_config.yaml"), NULL, NULL),
        HRET_OK);
    struct hret_request *req = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_request_parse(m->payload, m->len, &cfg, &req, NULL, &err) != HRET_OK) {
        fail_msg("sent request does not parse: %s", err.msg);
    }
    assert_string_equal(req->request_id, id);
    assert_string_equal(req->run_name, "itest");
    hret_request_destroy(req);
    hret_config_fini(&cfg);
    /* and so does the JSON Schema */
    char path[] = "/tmp/hret-submit-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, m->payload, m->len), (ssize_t)m->len);
    close(fd);
    char check[4096], schema[4096], cmd[8400];
    snprintf(check, sizeof check, "%s",
             hret_test_path("tests/integration/request_schema_check.py"));
    snprintf(schema, sizeof schema, "%s",
             hret_test_path("schemas/events/hret.eval.requested.v1.schema.json"));
    snprintf(cmd, sizeof cmd,
             "py=/usr/bin/python3; [ -x $py ] || py=python3; $py '%s' validate '%s' %s", check,
             schema, path);
    int rc = system(cmd);
    unlink(path);
    assert_int_equal(rc, 0);
    rd_kafka_message_destroy(m);
    hret_kafka_consumer_destroy(c);
}

/* A result event whose data is {"request_id": id, rest...}. */
static void publish_result(const char *id, const char *type, const char *rest)
{
    char data[1024];
    snprintf(data, sizeof data, "{\"request_id\": \"%s\", %s}", id, rest);
    struct hret_cloudevent ev;
    hret_cloudevent_init(&ev, type, "/hret/worker/test", NULL);
    struct hret_kafka_producer *p = producer();
    struct hret_kafka_message m = {.topic = results,
                                   .key = id,
                                   .key_len = strlen(id),
                                   .value = data,
                                   .value_len = strlen(data),
                                   .event = &ev};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_kafka_produce_wait(p, &m, 30000, NULL, &err), HRET_OK);
    hret_kafka_producer_destroy(p);
}

static void test_submit_wait(void **state)
{
    (void)state;
    struct hret_kafka_consumer *c = consumer("hret-test-wait", topic);
    char id[64], line[512];
    /* another request's result first: it must be ignored */
    publish_result("someone-else", "hret.run.completed.v1",
                   "\"run_id\": \"r0\", \"status\": \"completed\"");
    FILE *f = submit("--wait --timeout 60");
    rd_kafka_message_t *m = sent_request(f, c, id);
    assert_non_null(m);
    rd_kafka_message_destroy(m);
    publish_result(id, "hret.run.completed.v1",
                   "\"run_id\": \"run-1\", \"status\": \"completed\", "
                   "\"model\": {\"name\": \"baseline\"}, \"dataset\": {\"name\": \"kmmlu\", "
                   "\"split\": \"test\"}, \"metrics\": {\"accuracy\": 0.5}");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "completed run=run-1 model=baseline dataset=kmmlu accuracy=0.5000\n");
    assert_int_equal(exit_status(f), 0);

    /* a rejected request fails at once */
    f = submit("--wait --timeout 60");
    m = sent_request(f, c, id);
    assert_non_null(m);
    rd_kafka_message_destroy(m);
    publish_result(id, "hret.run.failed.v1",
                   "\"status\": \"failed\", \"error\": {\"class\": "
                   "\"invalid_request\", \"message\": \"no such dataset\"}");
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "failed run=- "));
    assert_int_equal(exit_status(f), 1);

    /* nobody answers: exit 3 after the timeout */
    f = submit("--wait --timeout 2");
    m = sent_request(f, c, id);
    assert_non_null(m);
    rd_kafka_message_destroy(m);
    assert_int_equal(exit_status(f), 3);
    hret_kafka_consumer_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_dlq),
        cmocka_unit_test(test_watermark_resume), cmocka_unit_test(test_submit),
        cmocka_unit_test(test_submit_wait),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
