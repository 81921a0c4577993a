/* hret_budget: the runs of a model in a process share one in-flight count and one rpm/tpm
 * bucket (one busy run can take all of it, all together never more); with the fleet budget on,
 * a model with fleet limits sends nothing before its share is set, then only within it, and a
 * model without fleet limits is not held back. The process is the test: budgets live for it, so
 * each case uses models of its own. */
#include "hret_test.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "hret_budget.h"
#include "hret_clock.h"

static struct hret_model_config model(char *name, long long max_inflight, long long rpm)
{
    struct hret_model_config m;
    memset(&m, 0, sizeof m);
    m.name = name;
    m.max_inflight = max_inflight;
    m.rpm = rpm;
    return m;
}

static void runs_share_max_inflight(void **state)
{
    (void)state;
    struct hret_model_config m = model((char[]){"share-inflight"}, 4, 0);
    struct hret_budget *a = hret_budget_get(&m), *b = hret_budget_get(&m);
    assert_ptr_equal(a, b); /* one budget per model */
    struct hret_http_gate ga, gb;
    hret_budget_gate(a, &ga);
    hret_budget_gate(b, &gb);
    for (int i = 0; i < 4; i++) { /* one run alone takes all four */
        assert_true(ga.acquire(ga.user, 10) == 0);
    }
    assert_true(ga.acquire(ga.user, 10) > 0); /* the fifth waits, for either run */
    assert_true(gb.acquire(gb.user, 10) > 0);
    gb.release(gb.user, 0); /* any release frees one for any run */
    assert_true(gb.acquire(gb.user, 10) == 0);
    assert_true(ga.acquire(ga.user, 10) > 0);
    for (int i = 0; i < 4; i++) {
        ga.release(ga.user, 0);
    }
    hret_budget_put(a);
    hret_budget_put(b);
}

/* An attempt abandoned before its answer (a run cancelled on a lost lease) keeps its place until
 * its timeout: the server may still be working on it. */
static void abandoned_attempts_count_until_their_timeout(void **state)
{
    (void)state;
    struct hret_model_config m = model((char[]){"abandoned"}, 2, 0);
    struct hret_budget *a = hret_budget_get(&m);
    struct hret_http_gate g;
    hret_budget_gate(a, &g);
    assert_true(g.acquire(g.user, 10) == 0);
    assert_true(g.acquire(g.user, 10) == 0);
    g.release(g.user, hret_clock_now_ms() + 300.0); /* abandoned: busy for 300 ms more */
    assert_true(g.acquire(g.user, 10) > 0);         /* a sibling may not send in its place */
    g.release(g.user, 0);                           /* an answered one frees at once */
    assert_true(g.acquire(g.user, 10) == 0);
    assert_true(g.acquire(g.user, 10) > 0);
    nanosleep(&(struct timespec){0, 350 * 1000000L}, NULL);
    assert_true(g.acquire(g.user, 10) == 0); /* the abandoned attempt's time is over */
    g.release(g.user, 0);
    g.release(g.user, 0);
    hret_budget_put(a);
}

static void runs_share_rpm(void **state)
{
    (void)state;
    struct hret_model_config m = model((char[]){"share-rpm"}, 100, 3);
    struct hret_budget *a = hret_budget_get(&m), *b = hret_budget_get(&m);
    struct hret_http_gate ga, gb;
    hret_budget_gate(a, &ga);
    hret_budget_gate(b, &gb);
    assert_true(ga.acquire(ga.user, 1) == 0);
    assert_true(gb.acquire(gb.user, 1) == 0);
    assert_true(ga.acquire(ga.user, 1) == 0);
    double wait = gb.acquire(gb.user, 1); /* three a minute for both together */
    assert_true(wait > 10000 && wait <= 20000);
    hret_budget_put(a);
    hret_budget_put(b);
}

static void fleet_share_gates_models_with_fleet_limits(void **state)
{
    (void)state;
    hret_budget_fleet_on();
    struct hret_model_config fleet = model((char[]){"fleet-limited"}, 10, 0);
    fleet.fleet_rpm = 600;
    fleet.fleet_max_inflight = 2;
    struct hret_model_config local = model((char[]){"fleet-free"}, 10, 0);
    struct hret_budget *f = hret_budget_get(&fleet), *l = hret_budget_get(&local);
    struct hret_http_gate gf, gl;
    hret_budget_gate(f, &gf);
    hret_budget_gate(l, &gl);
    assert_true(gl.acquire(gl.user, 1) == 0); /* no fleet limits: not held back */
    assert_true(gf.acquire(gf.user, 1) > 0);  /* no share yet: nothing is sent */
    struct hret_budget_demand d[8];
    size_t n = hret_budget_demand(d, 8);
    assert_int_equal(n, 1);
    assert_string_equal(d[0].name, "fleet-limited");
    assert_int_equal(d[0].fleet_rpm, 600);
    hret_budget_share("fleet-limited", 300, 0, 1); /* half of it, one in flight */
    /* the share starts empty and refills at 5 a second: the first attempt waits <= 200 ms */
    double wait = gf.acquire(gf.user, 1);
    assert_true(wait >= 0 && wait <= 200);
    hret_budget_share("fleet-limited", 6e6, 0, 1); /* plenty per minute: in flight decides */
    for (int i = 0; i < 100 && gf.acquire(gf.user, 1) > 0; i++) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    assert_true(gf.acquire(gf.user, 1) > 0); /* the share's one in flight is taken */
    gf.release(gf.user, 0);
    hret_budget_unshare("fleet-limited");
    assert_true(gf.acquire(gf.user, 1) > 0);
    gl.release(gl.user, 0);
    hret_budget_put(f);
    hret_budget_put(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_share_max_inflight),
        cmocka_unit_test(abandoned_attempts_count_until_their_timeout),
        cmocka_unit_test(runs_share_rpm),
        cmocka_unit_test(fleet_share_gates_models_with_fleet_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
