/* The offset watermark: out-of-order completion stores only the lowest contiguous finished
 * offset + 1, per partition, with gaps, redeliveries and revokes. */
#include "hret_test.h"

#include "hret_kafka_watermark.h"

static void test_in_order(void **state)
{
    (void)state;
    struct hret_kafka_watermark *w = hret_kafka_watermark_new();
    int64_t store = -1;
    for (int64_t o = 0; o < 3; o++) {
        hret_kafka_watermark_begin(w, "t", 0, o);
        assert_true(hret_kafka_watermark_finish(w, "t", 0, o, &store));
        assert_int_equal(store, o + 1);
    }
    assert_int_equal(hret_kafka_watermark_pending(w, "t", 0), 0);
    hret_kafka_watermark_destroy(w);
}

static void test_out_of_order(void **state)
{
    (void)state;
    struct hret_kafka_watermark *w = hret_kafka_watermark_new();
    for (int64_t o = 10; o < 15; o++) {
        hret_kafka_watermark_begin(w, "t", 1, o);
    }
    int64_t store = -1;
    /* 12 and 14 finish first: 10 still holds the point back */
    assert_false(hret_kafka_watermark_finish(w, "t", 1, 12, &store));
    assert_false(hret_kafka_watermark_finish(w, "t", 1, 14, &store));
    assert_int_equal(store, -1);
    /* 10 done: the lowest in flight is 11 */
    assert_true(hret_kafka_watermark_finish(w, "t", 1, 10, &store));
    assert_int_equal(store, 11);
    /* 11 done: 13 is the lowest in flight (12 finished already) */
    assert_true(hret_kafka_watermark_finish(w, "t", 1, 11, &store));
    assert_int_equal(store, 13);
    /* 13 done: nothing in flight, highest begun + 1 */
    assert_true(hret_kafka_watermark_finish(w, "t", 1, 13, &store));
    assert_int_equal(store, 15);
    /* finishing twice or an unknown offset changes nothing */
    assert_false(hret_kafka_watermark_finish(w, "t", 1, 13, &store));
    assert_false(hret_kafka_watermark_finish(w, "t", 1, 99, &store));
    assert_false(hret_kafka_watermark_finish(w, "other", 1, 10, &store));
    assert_int_equal(store, 15);
    hret_kafka_watermark_destroy(w);
}

static void test_gaps_and_partitions(void **state)
{
    (void)state;
    struct hret_kafka_watermark *w = hret_kafka_watermark_new();
    /* offsets with gaps (compaction, transaction markers) */
    hret_kafka_watermark_begin(w, "t", 0, 5);
    hret_kafka_watermark_begin(w, "t", 0, 9);
    hret_kafka_watermark_begin(w, "t", 2, 100);
    hret_kafka_watermark_begin(w, "u", 0, 7);
    int64_t store = -1;
    assert_false(hret_kafka_watermark_finish(w, "t", 0, 9, &store));
    assert_true(hret_kafka_watermark_finish(w, "t", 2, 100, &store));
    assert_int_equal(store, 101);
    assert_true(hret_kafka_watermark_finish(w, "t", 0, 5, &store));
    assert_int_equal(store, 10); /* 9 finished before: jump past the gap */
    assert_int_equal(hret_kafka_watermark_pending(w, "u", 0), 1);
    hret_kafka_watermark_destroy(w);
}

static void test_redelivery_and_forget(void **state)
{
    (void)state;
    struct hret_kafka_watermark *w = hret_kafka_watermark_new();
    int64_t store = -1;
    hret_kafka_watermark_begin(w, "t", 0, 0);
    hret_kafka_watermark_begin(w, "t", 0, 1);
    hret_kafka_watermark_begin(w, "t", 0, 1); /* duplicate: tracked once */
    assert_int_equal(hret_kafka_watermark_pending(w, "t", 0), 2);
    assert_true(hret_kafka_watermark_finish(w, "t", 0, 0, &store));
    assert_int_equal(store, 1);
    /* a seek back redelivers 0: the store point never moves backwards */
    hret_kafka_watermark_begin(w, "t", 0, 0);
    assert_false(hret_kafka_watermark_finish(w, "t", 0, 0, &store));
    assert_true(hret_kafka_watermark_finish(w, "t", 0, 1, &store));
    assert_int_equal(store, 2);
    /* revoke forgets the partition; a new assignment starts afresh */
    hret_kafka_watermark_begin(w, "t", 0, 2);
    hret_kafka_watermark_forget(w, "t", 0);
    assert_int_equal(hret_kafka_watermark_pending(w, "t", 0), 0);
    assert_false(hret_kafka_watermark_finish(w, "t", 0, 2, &store));
    hret_kafka_watermark_begin(w, "t", 0, 2);
    assert_true(hret_kafka_watermark_finish(w, "t", 0, 2, &store));
    assert_int_equal(store, 3);
    hret_kafka_watermark_destroy(w);
    hret_kafka_watermark_destroy(NULL);
}

static void test_many_in_flight(void **state)
{
    (void)state;
    struct hret_kafka_watermark *w = hret_kafka_watermark_new();
    enum { N = 1000 };
    for (int64_t o = 0; o < N; o++) {
        hret_kafka_watermark_begin(w, "t", 3, o);
    }
    int64_t store = -1, last = -1;
    /* finish odd offsets descending, then even ascending */
    for (int64_t o = N - 1; o >= 1; o -= 2) {
        assert_false(hret_kafka_watermark_finish(w, "t", 3, o, &store));
    }
    for (int64_t o = 0; o < N; o += 2) {
        assert_true(hret_kafka_watermark_finish(w, "t", 3, o, &store));
        assert_true(store > last);
        assert_int_equal(store, o + 2 < N ? o + 2 : N);
        last = store;
    }
    assert_int_equal(store, N);
    hret_kafka_watermark_destroy(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_gaps_and_partitions),
        cmocka_unit_test(test_redelivery_and_forget),
        cmocka_unit_test(test_many_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
