/* hret monitor against a real PostgreSQL: the baselines a regression or fingerprint rule reads
 * (previous, best, pinned, mean of the last K, each only among runs that finished earlier), the
 * scored items for pairing, the run facts; and the alert transaction: a raise writes the alert,
 * its outbox event and one notice per channel; the same (key, run) again changes nothing; a
 * repeat while open is suppressed by the cooldown; a healthy run resolves with its own event
 * and notices; delivery marks; a regression alert resolves only when a run is back within
 * max_drop of the baseline value the alert recorded, for every baseline kind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"
#include "hret_monitor.h"
#include "hret_monitor_record.h"
#include "hret_monitor_store.h"
#include "hret_pg_test.h"
#include "hret_store.h"

static struct hret_pg_test db;
static struct hret_store *store;

/* Four completed runs of b on kmmlu an hour apart (r4 the newest), 10 items each, the first
 * `right` correct; one of model a; r4 has an errored item. */
static const char fixture_sql[] =
    "INSERT INTO runs (run_id, status, model_name, dataset_name, served_model, fingerprint,"
    " metrics, finished_at) VALUES"
    " ('r1', 'completed', 'b', 'kmmlu', 'b', 'fp1', '{\"accuracy\": 0.7}', now() - interval '4 h'),"
    " ('r2', 'completed', 'b', 'kmmlu', 'b', 'fp1', '{\"accuracy\": 0.9}', now() - interval '3 h'),"
    " ('r3', 'completed', 'b', 'kmmlu', 'b', 'fp2', '{\"accuracy\": 0.6}', now() - interval '2 h'),"
    " ('r4', 'completed', 'b', 'kmmlu', 'b', 'fp2', '{\"accuracy\": 0.4}', now() - interval '1 h'),"
    " ('a1', 'completed', 'a', 'kmmlu', 'a', 'fp1', '{\"accuracy\": 0.99}', now() - interval '5 "
    "h'),"
    " ('r9', 'failed', 'b', 'kmmlu', NULL, NULL, NULL, now());"
    "INSERT INTO samples (run_id, sample_idx, item_id, subset, input_hash, correct)"
    " SELECT r.id, i, 'i' || i, 'S', 'h', i < r.n FROM generate_series(0, 9) i,"
    " (VALUES ('r1', 7), ('r2', 9), ('r3', 6), ('r4', 4), ('a1', 10)) r(id, n);"
    "UPDATE samples SET correct = NULL WHERE run_id = 'r4' AND sample_idx = 9;";

static int setup(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_pg_test_start(&db, false) != 0) {
        fprintf(stderr, "cannot start PostgreSQL for the test\n");
        return -1;
    }
    if (hret_store_open(db.conninfo, NULL, true, &store, &err) != HRET_OK ||
        hret_pg_exec_static(hret_store_pg(store), "fixture", fixture_sql, &err) != HRET_OK) {
        fprintf(stderr, "%s\n", err.msg);
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

static struct hret_monitor_rule_config rule(int kind, const char *baseline)
{
    return (struct hret_monitor_rule_config){.name = hret_xstrdup("rule"),
                                             .kind = kind,
                                             .metric = hret_xstrdup("accuracy"),
                                             .baseline = hret_xstrdup(baseline),
                                             .k = 2,
                                             .max_drop = 0.05,
                                             .severity = HRET_MONITOR_WARNING};
}

static void fetch(const char *baseline, const char *run_id, struct hret_monitor_fetched *out)
{
    struct hret_monitor_rule_config r = rule(HRET_MONITOR_REGRESSION, baseline);
    struct hret_monitor_run run = {.run_id = run_id, .model = "b", .dataset = "kmmlu"};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_monitor_store_baseline(hret_store_pg(store), &r, &run, out, &err) != HRET_OK) {
        fail_msg("baseline %s: %s", baseline, err.msg);
    }
    hret_monitor_rule_fini(&r);
}

static void test_baselines(void **state)
{
    (void)state;
    struct hret_monitor_fetched f;
    fetch("previous", "r4", &f);
    assert_true(f.b.found);
    assert_string_equal(f.b.run_id, "r3");
    assert_true(fabs(f.b.value - 0.6) < 1e-12);
    assert_string_equal(f.b.fingerprint, "fp2");
    assert_int_equal(f.b.base_items->count, 10);
    assert_int_equal(f.b.cur_items->count, 10);
    assert_true(f.b.cur_items->items[9].error); /* NULL correct = an endpoint error */
    assert_false(f.b.cur_items->items[5].correct);
    assert_true(f.b.cur_items->items[3].correct);
    hret_monitor_fetched_fini(&f);

    fetch("best", "r4", &f);
    assert_string_equal(f.b.run_id, "r2"); /* not a1: another model */
    hret_monitor_fetched_fini(&f);
    fetch("best", "r2", &f);
    assert_string_equal(f.b.run_id, "r1"); /* only runs that finished before r2 */
    hret_monitor_fetched_fini(&f);

    fetch("r1", "r4", &f);
    assert_string_equal(f.b.kind, "run");
    assert_string_equal(f.b.run_id, "r1");
    hret_monitor_fetched_fini(&f);
    fetch("r4", "r4", &f); /* pinned to itself: no baseline */
    assert_false(f.b.found);
    hret_monitor_fetched_fini(&f);
    fetch("no-such-run", "r4", &f);
    assert_false(f.b.found);
    hret_monitor_fetched_fini(&f);

    fetch("previous", "r1", &f); /* the first run has none */
    assert_false(f.b.found);
    hret_monitor_fetched_fini(&f);

    fetch("mean_last_k", "r4", &f); /* k = 2: r3 and r2 */
    assert_true(f.b.found);
    assert_true(fabs(f.b.value - 0.75) < 1e-12);
    assert_true(f.b.base_correct == 15 && f.b.base_n == 20);
    assert_true(f.b.cur_correct == 4 && f.b.cur_n == 9); /* the errored item is not counted */
    assert_null(f.b.base_items);
    hret_monitor_fetched_fini(&f);
}

static void test_facts(void **state)
{
    (void)state;
    struct hret_monitor_facts f;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_monitor_store_facts(hret_store_pg(store), "r9", &f, &err), HRET_OK);
    assert_true(f.found);
    assert_string_equal(f.model, "b");
    assert_string_equal(f.status, "failed");
    assert_null(f.fingerprint);
    hret_monitor_facts_fini(&f);
    assert_int_equal(hret_monitor_store_facts(hret_store_pg(store), "nope", &f, &err), HRET_OK);
    assert_false(f.found);
    hret_monitor_facts_fini(&f);
}

static size_t apply(const struct hret_config *cfg, const char *run_id, enum hret_monitor_verdict v,
                    double now, struct hret_monitor_record *rec)
{
    struct hret_monitor_rule_config r = rule(HRET_MONITOR_THRESHOLD, "previous");
    struct hret_monitor_run run = {
        .run_id = run_id, .request_id = "q", .model = "b", .dataset = "kmmlu"};
    struct hret_monitor_finding f = {.verdict = v,
                                     .value = 0.4,
                                     .threshold = 0.5,
                                     .baseline_value = NAN,
                                     .effect = NAN,
                                     .p_value = NAN,
                                     .mde = NAN};
    snprintf(f.message, sizeof f.message, "accuracy of b on kmmlu is 0.4 (< 0.5)");
    struct hret_monitor_eval e = {.rule = &r, .finding = &f};
    *rec =
        (struct hret_monitor_record){.cfg = cfg, .run = &run, .evals = &e, .count = 1, .now = now};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_monitor_record_apply(hret_store_pg(store), rec, &err) != HRET_OK) {
        fail_msg("record: %s", err.msg);
    }
    hret_monitor_rule_fini(&r);
    return rec->raised + rec->resolved + rec->suppressed;
}

static void test_record(void **state)
{
    (void)state;
    static const char yaml[] = "kafka: {alerts_topic: alerts}\n"
                               "monitor:\n  cooldown_s: 600\n  channels:\n"
                               "    - {name: one, kind: slack, url: \"http://127.0.0.1:9/a\"}\n"
                               "    - {name: crit, kind: slack, url: \"http://127.0.0.1:9/b\",\n"
                               "       min_severity: critical}\n";
    struct hret_config cfg = {0};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(
        hret_cfg_load_text(&hret_config_table, &cfg, "t", yaml, strlen(yaml), NULL, &err), HRET_OK);
    struct hret_monitor_record rec;

    apply(&cfg, "r1", HRET_MONITOR_FIRING, 1000, &rec);
    assert_int_equal(rec.raised, 1);
    assert_int_equal(count("SELECT count(*) FROM alerts WHERE run_id = 'r1' AND dedupe_key ="
                           " 'rule|b|kmmlu' AND severity = 'warning'"),
                     1);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE ce_type = 'hret.alert.raised.v1'"
                           " AND topic = 'alerts'"),
                     1);
    /* one notice: the critical-only channel does not take a warning */
    assert_int_equal(count("SELECT count(*) FROM alert_deliveries WHERE action = 'trigger'"
                           " AND channel = 'one'"),
                     1);
    assert_int_equal(count("SELECT count(*) FROM alert_deliveries"), 1);

    /* the same event again (redelivery, replay): nothing new */
    assert_int_equal(apply(&cfg, "r1", HRET_MONITOR_FIRING, 5000, &rec), 0);
    assert_int_equal(count("SELECT count(*) FROM alerts"), 1);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE ce_type LIKE 'hret.alert.%'"), 1);

    /* still firing, within the cooldown: suppressed */
    apply(&cfg, "r2", HRET_MONITOR_FIRING, 1300, &rec);
    assert_int_equal(rec.suppressed, 1);
    assert_int_equal(count("SELECT suppressed FROM monitor_state"), 1);
    /* unknown changes nothing */
    assert_int_equal(apply(&cfg, "r9", HRET_MONITOR_UNKNOWN, 1400, &rec), 0);
    /* healthy: resolved, with its event and notice */
    apply(&cfg, "r3", HRET_MONITOR_OK, 1500, &rec);
    assert_int_equal(rec.resolved, 1);
    assert_int_equal(count("SELECT count(*) FROM alerts WHERE resolved_by_run = 'r3'"), 1);
    assert_int_equal(count("SELECT count(*) FROM monitor_state WHERE open_alert_id IS NULL"), 1);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE ce_type = 'hret.alert.resolved.v1'"
                           " AND payload ->> 'raised_by_run' = 'r1'"),
                     1);
    /* firing again after the resolve, still within 600 s of the raise: a new incident raises */
    apply(&cfg, "r4", HRET_MONITOR_FIRING, 1600, &rec);
    assert_int_equal(rec.raised, 1);

    struct hret_monitor_notice *n = NULL;
    size_t k = 0;
    assert_int_equal(hret_monitor_record_pending(hret_store_pg(store), 10, &n, &k, &err), HRET_OK);
    assert_int_equal(k, 3); /* trigger r1, resolve, trigger r4: oldest first */
    assert_string_equal(n[0].action, "trigger");
    assert_string_equal(n[1].action, "resolve");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(n[1].payload, "run_id")), "r3");
    assert_int_equal(hret_monitor_record_mark(hret_store_pg(store), &n[0], true, false, NULL, &err),
                     HRET_OK);
    assert_int_equal(hret_monitor_record_mark(hret_store_pg(store), &n[1], false, false,
                                              "503 from channel", &err),
                     HRET_OK);
    assert_int_equal(
        hret_monitor_record_mark(hret_store_pg(store), &n[2], false, true, "404", &err), HRET_OK);
    hret_monitor_notices_free(n, k);
    assert_int_equal(hret_monitor_record_pending(hret_store_pg(store), 10, &n, &k, &err), HRET_OK);
    assert_int_equal(k, 1); /* the 503 one stays; the given-up one does not */
    assert_int_equal(n[0].attempts, 1);
    hret_monitor_notices_free(n, k);
    assert_int_equal(count("SELECT count(*) FROM alerts WHERE notified_at IS NOT NULL"), 1);
    hret_config_fini(&cfg);
}

/* Model d on one dataset per baseline kind: five completed runs an hour apart of 200 items
 * each, the first round(200 * acc) right: 0.70, then 0.45 (a significant 25-point drop), 0.45
 * again (holds against the previous run, still degraded), 0.55 (better than the previous run,
 * still more than max_drop below 0.70), 0.68 (back within max_drop 0.05 of 0.70). */
static const double degraded_acc[] = {0.70, 0.45, 0.45, 0.55, 0.68};
#define DEGRADED_RUNS (sizeof degraded_acc / sizeof degraded_acc[0])

static void degraded_fixture(const char *dataset)
{
    for (size_t i = 0; i < DEGRADED_RUNS; i++) {
        char *sql = hret_xasprintf(
            "INSERT INTO runs (run_id, status, model_name, dataset_name, metrics, finished_at)"
            " VALUES ('%s-%zu', 'completed', 'd', '%s', '{\"accuracy\": %.2f}',"
            " now() - interval '%zu h');"
            "INSERT INTO samples (run_id, sample_idx, item_id, subset, input_hash, correct)"
            " SELECT '%s-%zu', i, 'i' || i, 'S', 'h', i < %d FROM generate_series(0, 199) i",
            dataset, i, dataset, degraded_acc[i], DEGRADED_RUNS - i, dataset, i,
            (int)lround(200 * degraded_acc[i]));
        struct hret_err err = HRET_ERR_INIT;
        if (hret_pg_exec_static(hret_store_pg(store), "fixture", sql, &err) != HRET_OK) {
            fail_msg("fixture: %s", err.msg);
        }
        free(sql);
    }
}

/* Judges run i of the degraded series as the monitor does (baseline, evaluate, record). */
static void judge_degraded(const struct hret_config *cfg, const struct hret_monitor_rule_config *r,
                           const char *dataset, size_t i, struct hret_monitor_record *rec)
{
    char run_id[64];
    snprintf(run_id, sizeof run_id, "%s-%zu", dataset, i);
    cJSON *metrics = cJSON_CreateObject();
    cJSON_AddNumberToObject(metrics, "accuracy", degraded_acc[i]);
    struct hret_monitor_run run = {
        .run_id = run_id, .request_id = "q", .model = "d", .dataset = dataset, .metrics = metrics};
    struct hret_monitor_fetched base;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_monitor_store_baseline(hret_store_pg(store), r, &run, &base, &err) != HRET_OK) {
        fail_msg("baseline: %s", err.msg);
    }
    struct hret_monitor_finding f;
    hret_monitor_evaluate(r, &run, &base.b, 0.05, &f);
    struct hret_monitor_eval e = {.rule = r, .finding = &f};
    *rec = (struct hret_monitor_record){
        .cfg = cfg, .run = &run, .evals = &e, .count = 1, .now = 10000 + 10 * (double)i};
    if (hret_monitor_record_apply(hret_store_pg(store), rec, &err) != HRET_OK) {
        fail_msg("record: %s", err.msg);
    }
    hret_monitor_finding_fini(&f);
    hret_monitor_fetched_fini(&base);
    cJSON_Delete(metrics);
}

/* A regression alert resolves only when a run is back within max_drop of the baseline value the
 * raised alert recorded, whatever the baseline kind: runs that merely hold against a degraded
 * previous run (or a mean of degraded runs) keep it open. */
static void test_regression_resolves_only_near_the_alert_baseline(void **state)
{
    (void)state;
    static const char *const kinds[] = {"previous", "best", "mean_last_k", "pinned"};
    struct hret_config cfg = {0};
    static const char yaml[] = "kafka: {alerts_topic: alerts}\nmonitor: {cooldown_s: 3600}\n";
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(
        hret_cfg_load_text(&hret_config_table, &cfg, "t", yaml, strlen(yaml), NULL, &err), HRET_OK);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char dataset[32], pinned[40];
        snprintf(dataset, sizeof dataset, "deg_%s", kinds[k]);
        snprintf(pinned, sizeof pinned, "%s-0", dataset);
        degraded_fixture(dataset);
        struct hret_monitor_rule_config r =
            rule(HRET_MONITOR_REGRESSION, strcmp(kinds[k], "pinned") == 0 ? pinned : kinds[k]);
        r.k = 1;
        struct hret_monitor_record rec;
        judge_degraded(&cfg, &r, dataset, 0, &rec); /* no baseline yet */
        assert_int_equal(rec.raised + rec.resolved, 0);
        judge_degraded(&cfg, &r, dataset, 1, &rec); /* 0.70 -> 0.45 */
        if (rec.raised != 1) {
            fail_msg("%s: the 25-point drop did not raise", kinds[k]);
        }
        for (size_t i = 2; i <= 3; i++) { /* 0.45, 0.55: still more than 0.05 below 0.70 */
            judge_degraded(&cfg, &r, dataset, i, &rec);
            if (rec.resolved != 0) {
                fail_msg("%s: run %zu at %.2f resolved the alert raised against 0.70", kinds[k], i,
                         degraded_acc[i]);
            }
        }
        judge_degraded(&cfg, &r, dataset, 4, &rec); /* 0.68: back within max_drop */
        if (rec.resolved != 1) {
            fail_msg("%s: run 4 at 0.68 did not resolve the alert", kinds[k]);
        }
        char *sql = hret_xasprintf("SELECT count(*) FROM alerts WHERE dataset_name = '%s'"
                                   " AND resolved_by_run = '%s-4'",
                                   dataset, dataset);
        assert_true(count(sql) >= 1);
        free(sql);
        hret_monitor_rule_fini(&r);
    }
    hret_config_fini(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baselines),
        cmocka_unit_test(test_facts),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_regression_resolves_only_near_the_alert_baseline),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
