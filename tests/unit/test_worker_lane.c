/* hret_worker_lane: the relay lets exactly one waiting lane start the next shard per pass and
 * releases every lane when it ends; a lane runs its job on its own thread (with a connection
 * of its own: a job is skipped, never run without one), and a slot without a lane starts
 * nothing on it. The slot-and-lane runs themselves are e2e.fleet_overlap. */
#include "hret_test.h"

#include <pthread.h>
#include <string.h>

#include "hret_worker_lane.h"

struct waiter {
    struct hret_worker_relay *relay;
    bool got;
};

static void *wait_next(void *arg)
{
    struct waiter *w = arg;
    w->got = hret_worker_relay_next(w->relay);
    return NULL;
}

static void relay_opens_once_per_pass(void **state)
{
    (void)state;
    struct hret_worker_relay r;
    hret_worker_relay_init(&r, true);
    assert_true(hret_worker_relay_next(&r)); /* open at first: the caller starts, it closes */
    hret_worker_relay_pass(&r);
    hret_worker_relay_pass(&r);              /* passes do not add up */
    assert_true(hret_worker_relay_next(&r)); /* one start for them */
    struct waiter a = {&r, false};
    pthread_t ta;
    assert_int_equal(pthread_create(&ta, NULL, wait_next, &a), 0);
    hret_worker_relay_pass(&r); /* the waiting lane starts the next shard */
    pthread_join(ta, NULL);
    assert_true(a.got);
    hret_worker_relay_end(&r);
    assert_false(hret_worker_relay_next(&r)); /* ended stays ended, even when passed */
    hret_worker_relay_pass(&r);
    assert_false(hret_worker_relay_next(&r));
    hret_worker_relay_fini(&r);
}

static void relay_end_wakes_a_waiting_lane(void **state)
{
    (void)state;
    struct hret_worker_relay r;
    hret_worker_relay_init(&r, false);
    struct waiter a = {&r, true};
    pthread_t ta;
    assert_int_equal(pthread_create(&ta, NULL, wait_next, &a), 0);
    hret_worker_relay_end(&r);
    pthread_join(ta, NULL);
    assert_false(a.got);
    hret_worker_relay_fini(&r);
}

static void count_job(void *user, struct hret_worker *w)
{
    (void)w;
    (*(int *)user)++;
}

static void lane_without_connection_skips_its_job(void **state)
{
    (void)state;
    struct hret_worker proto;
    memset(&proto, 0, sizeof proto);
    proto.worker_id = "host:1:nonce:0";
    struct hret_worker_lane *lane = NULL;
    struct hret_err err = HRET_ERR_INIT;
    /* no server behind this socket directory: the lane cannot open its connection (it tries
     * for about 5 s, as every store does) */
    assert_int_equal(hret_worker_lane_new(&proto, "host:1:nonce:1",
                                          "host=/nonexistent-hret-dir dbname=x connect_timeout=1",
                                          NULL, &lane, &err),
                     HRET_OK);
    int ran = 0;
    assert_true(hret_worker_lane_start(lane, count_job, &ran));
    hret_worker_lane_wait(lane);
    assert_int_equal(ran, 0);
    hret_worker_lane_destroy(lane);
    assert_false(hret_worker_lane_start(NULL, count_job, &ran)); /* no lane: nothing starts */
    hret_worker_lane_wait(NULL);
    hret_worker_lane_destroy(NULL);
    assert_int_equal(ran, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relay_opens_once_per_pass),
        cmocka_unit_test(relay_end_wakes_a_waiting_lane),
        cmocka_unit_test(lane_without_connection_skips_its_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
