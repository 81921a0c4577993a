/* Losing PostgreSQL mid-write: the server is stopped (pg.sh stop: fast shutdown, sessions
 * terminated) while sample batches are being written and started again a second later; every
 * write must end in a retry that succeeds on a new connection, with every row exactly once.
 * With the server left down, a write fails clearly (HRET_E_UNAVAILABLE) and leaves nothing half
 * written: the run keeps its status and has no samples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hret_mem.h"
#include "hret_pg_test.h"
#include "hret_store.h"
#include "hret_store_samples_fixture.h"

static struct hret_pg_test db;
static struct hret_store *store;

static int setup(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_pg_test_start(&db, true) != 0 ||
        hret_store_open(db.conninfo, NULL, true, &store, &err) != HRET_OK) {
        fprintf(stderr, "cannot start PostgreSQL for the test: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hret_store_destroy(store);
    hret_pg_test_finish(&db);
    return 0;
}

static long long count_samples(const char *run_id)
{
    PGresult *res = NULL;
    struct hret_err err = HRET_ERR_INIT;
    const char *params[] = {run_id};
    assert_int_equal(hret_pg_ensure(hret_store_pg(store), &err), HRET_OK);
    assert_int_equal(hret_pg_query(hret_store_pg(store), "count",
                                   "SELECT count(*) FROM samples WHERE run_id = $1", 1, params,
                                   false, &res, &err),
                     HRET_OK);
    long long n = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

static char *run_status(const char *run_id)
{
    PGresult *res = NULL;
    struct hret_err err = HRET_ERR_INIT;
    const char *params[] = {run_id};
    assert_int_equal(hret_pg_query(hret_store_pg(store), "status",
                                   "SELECT status FROM runs WHERE run_id = $1", 1, params, false,
                                   &res, &err),
                     HRET_OK);
    char *s = hret_xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return s;
}

static void begin(const char *run_id)
{
    struct hret_store_run run = {.run_id = run_id, .model_name = "m", .dataset_name = "d"};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_store_run_begin(store, &run, &err), HRET_OK);
}

/* A child that stops the server after delay_ms and starts it again down_ms later. */
static pid_t bounce_server(int delay_ms, int down_ms)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec d = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
        int rc = hret_pg_test_stop_server(&db);
        struct timespec w = {down_ms / 1000, (long)(down_ms % 1000) * 1000000L};
        nanosleep(&w, NULL);
        rc |= hret_pg_test_start_server(&db);
        _exit(rc == 0 ? 0 : 1);
    }
    return pid;
}

static void test_writes_survive_a_restart(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, 20000, 0);
    size_t per_batch = f.n - f.not_done;
    begin("bounce");
    int before = PQbackendPID(hret_pg_conn(hret_store_pg(store)));
    pid_t child = bounce_server(200, 1000);
    int status = -1, batches = 0;
    size_t total = 0;
    /* write batches back to back until the bounce is over, then one more */
    for (bool bounced = false; !bounced || batches == 0;) {
        bounced = waitpid(child, &status, WNOHANG) == child;
        for (size_t i = 0; i < f.n; i++) {
            f.samples[i].idx = (size_t)batches * f.n + i;
        }
        struct hret_err err = HRET_ERR_INIT;
        size_t inserted = 0;
        enum hret_result r =
            hret_store_samples_write(store, "bounce", f.samples, f.outcomes, f.n, &inserted, &err);
        if (r != HRET_OK) {
            fail_msg("batch %d failed instead of retrying: %s", batches, err.msg);
        }
        assert_int_equal(inserted, per_batch);
        total += inserted;
        batches++;
    }
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int after = PQbackendPID(hret_pg_conn(hret_store_pg(store)));
    assert_int_not_equal(before, after); /* the connection was lost and made again */
    assert_int_equal(count_samples("bounce"), (long long)total);
    fixture_free(&f);
}

static void test_server_down_fails_clearly(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, 1000, 0);
    begin("down");
    assert_int_equal(hret_pg_test_stop_server(&db), 0);
    struct hret_store_result res = {.status = "completed", .done = f.n};
    struct hret_err err = HRET_ERR_INIT;
    size_t inserted = 99;
    enum hret_result r =
        hret_store_run_complete(store, "down", f.samples, f.outcomes, f.n, &res, &inserted, &err);
    assert_int_equal(r, HRET_E_UNAVAILABLE);
    assert_int_equal(inserted, 0);
    assert_non_null(strstr(err.msg, "postgres"));
    assert_int_equal(hret_pg_test_start_server(&db), 0);
    assert_int_equal(count_samples("down"), 0);
    char *status = run_status("down");
    assert_string_equal(status, "running");
    free(status);
    /* and once the server is back, the same call completes the run */
    assert_int_equal(
        hret_store_run_complete(store, "down", f.samples, f.outcomes, f.n, &res, &inserted, &err),
        HRET_OK);
    assert_int_equal(count_samples("down"), (long long)(f.n - f.not_done));
    status = run_status("down");
    assert_string_equal(status, "completed");
    free(status);
    fixture_free(&f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_survive_a_restart),
        cmocka_unit_test(test_server_down_fails_clearly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
