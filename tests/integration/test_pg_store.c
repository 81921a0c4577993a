/* The store against a real PostgreSQL: migrations, idempotent sample and run writes, literal
 * storage of hostile text, samples read back exactly as hret_results_sample wrote them, the
 * response cache, metric history and comparison queries. (Connection loss: test_pg_conn.c.) */
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
#include "hret_metrics.h"
#include "hret_pg_test.h"
#include "hret_results.h"
#include "hret_run.h"
#include "hret_store.h"
#include "hret_store_cache.h"
#include "hret_store_migrate.h"
#include "hret_store_query.h"
#include "hret_pg_copy.h"
#include "hret_store_samples_fixture.h"

static struct hret_pg_test db;
static struct hret_store *store;

static int setup(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_pg_test_start(&db, false) != 0) {
        fprintf(stderr, "cannot start PostgreSQL for the test\n");
        return -1;
    }
    if (hret_store_open(db.conninfo, NULL, false, &store, &err) != HRET_OK) {
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

/* One value of a one-row query (static SQL). Caller frees. */
static char *scalar(const char *sql, const char *param)
{
    PGresult *res = NULL;
    struct hret_err err = HRET_ERR_INIT;
    const char *params[] = {param};
    assert_int_equal(
        hret_pg_query(hret_store_pg(store), "test", sql, param ? 1 : 0, params, false, &res, &err),
        HRET_OK);
    assert_int_equal(PQntuples(res), 1);
    char *v = hret_xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

static long long count(const char *sql, const char *param)
{
    char *v = scalar(sql, param);
    long long n = atoll(v);
    free(v);
    return n;
}

static void test_migrations(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    struct hret_migration_report rep = {0};
    assert_int_equal(hret_store_migrate(hret_store_pg(store), false, &rep, &err), HRET_OK);
    assert_int_equal(rep.count, hret_migrations_count);
    assert_int_equal(rep.items[0].state, HRET_MIGRATION_PENDING);
    hret_migration_report_fini(&rep);
    assert_int_equal(hret_store_migrate(hret_store_pg(store), true, &rep, &err), HRET_OK);
    assert_int_equal(rep.applied_now, hret_migrations_count);
    hret_migration_report_fini(&rep);
    assert_int_equal(hret_store_migrate(hret_store_pg(store), true, &rep, &err), HRET_OK);
    assert_int_equal(rep.applied_now, 0);
    for (size_t i = 0; i < rep.count; i++) {
        assert_int_equal(rep.items[i].state, HRET_MIGRATION_APPLIED);
        assert_non_null(rep.items[i].applied_at);
    }
    hret_migration_report_fini(&rep);
}

static void begin(const char *run_id, const char *name, const char *model, const cJSON *meta)
{
    struct hret_store_run run = {
        .run_id = run_id,
        .run_name = name,
        .model_name = model,
        .model_id = "fake-model",
        .dataset_name = "kmmlu",
        .split = "test",
        .method = "string_match",
        .planned = 10,
        .metadata = meta,
        .started_at = 1700000000.123456789,
    };
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_store_run_begin(store, &run, &err), HRET_OK);
}

static void test_samples_idempotent(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, 1000, 0);
    begin("run-idem", "idem", "m", NULL);
    struct hret_err err = HRET_ERR_INIT;
    size_t inserted = 0;
    assert_int_equal(
        hret_store_samples_write(store, "run-idem", f.samples, f.outcomes, f.n, &inserted, &err),
        HRET_OK);
    assert_int_equal(inserted, 1000 - f.not_done);
    assert_int_equal(
        hret_store_samples_write(store, "run-idem", f.samples, f.outcomes, f.n, &inserted, &err),
        HRET_OK);
    assert_int_equal(inserted, 0);
    assert_int_equal(count("SELECT count(*) FROM samples WHERE run_id = $1", "run-idem"),
                     1000 - f.not_done);
    /* prompts are stored once: another run of the same items adds none */
    long long prompts = count("SELECT count(*) FROM sample_inputs", NULL);
    assert_int_equal(prompts, 1000 - f.not_done);
    begin("run-idem-2", "idem", "m", NULL);
    assert_int_equal(
        hret_store_samples_write(store, "run-idem-2", f.samples, f.outcomes, f.n, &inserted, &err),
        HRET_OK);
    assert_int_equal(inserted, 1000 - f.not_done);
    assert_int_equal(count("SELECT count(*) FROM sample_inputs", NULL), prompts);
    /* samples of a run that does not exist are refused, like a foreign key would */
    assert_int_equal(
        hret_store_samples_write(store, "no-such-run", f.samples, f.outcomes, f.n, &inserted, &err),
        HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "no run no-such-run"));
    assert_int_equal(count("SELECT count(*) FROM samples WHERE run_id = $1", "no-such-run"), 0);
    fixture_free(&f);
}

static void complete(const char *run_id, struct fixture *f, cJSON *metrics, size_t *inserted)
{
    struct hret_store_result res = {
        .status = "completed",
        .metrics = metrics,
        .served_model = "fake-model-v2",
        .done = f->n - f->not_done,
        .finished_at = 1700000012.987654321,
    };
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(
        hret_store_run_complete(store, run_id, f->samples, f->outcomes, f->n, &res, inserted, &err),
        HRET_OK);
}

static void test_same_run_twice(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, 50, 1);
    cJSON *metrics = hret_json_parse("{\"accuracy\":0.5,\"Law/accuracy\":0.25,\"errors\":3,"
                                     "\"note\":\"text is not a metric\"}",
                                     77, 1000, NULL);
    assert_non_null(metrics);
    size_t inserted = 0;
    for (int round = 0; round < 2; round++) {
        begin("run-twice", "twice", "m", NULL);
        complete("run-twice", &f, metrics, &inserted);
        assert_int_equal(inserted, round == 0 ? 50 - f.not_done : 0);
    }
    begin("run-twice", "twice", "m", NULL); /* a finished run stays finished */
    char *status = scalar("SELECT status FROM runs WHERE run_id = $1", "run-twice");
    assert_string_equal(status, "completed");
    free(status);
    assert_int_equal(count("SELECT count(*) FROM runs WHERE run_id = $1", "run-twice"), 1);
    assert_int_equal(count("SELECT count(*) FROM samples WHERE run_id = $1", "run-twice"),
                     50 - f.not_done);
    assert_int_equal(count("SELECT count(*) FROM metrics WHERE run_id = $1", "run-twice"), 3);
    char *law = scalar("SELECT value FROM metrics WHERE run_id = $1 AND subset = 'Law'"
                       " AND name = 'accuracy'",
                       "run-twice");
    assert_string_equal(law, "0.25");
    free(law);
    cJSON_Delete(metrics);
    fixture_free(&f);
}

/* What hret_results_sample makes of each stored sample equals what it made of the original. */
static void test_samples_read_back_exactly(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, 300, 2);
    cJSON *metrics = cJSON_CreateObject();
    size_t inserted = 0;
    begin("run-exact", NULL, "m", NULL);
    complete("run-exact", &f, metrics, &inserted);
    struct hret_sample *s = NULL;
    struct hret_outcome *o = NULL;
    size_t n = 0;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_store_samples_load(store, "run-exact", &s, &o, &n, &err), HRET_OK);
    assert_int_equal(n, 300 - f.not_done);
    size_t k = 0;
    for (size_t i = 0; i < f.n; i++) {
        if (!f.outcomes[i].done) {
            continue;
        }
        cJSON *want = hret_results_sample(&f.samples[i], &f.outcomes[i]);
        cJSON *got = hret_results_sample(&s[k], &o[k]);
        char *a = hret_json_print(want), *b = hret_json_print(got);
        assert_string_equal(a, b);
        assert_int_equal(s[k].idx, f.samples[i].idx);
        free(a);
        free(b);
        cJSON_Delete(want);
        cJSON_Delete(got);
        hret_sample_fini(&s[k]);
        hret_outcome_fini(&o[k]);
        k++;
    }
    free(s);
    free(o);
    cJSON_Delete(metrics);
    fixture_free(&f);
}

/* The metrics of a run from the scoring columns alone equal those from every column, and the
 * scoring load carries no prompt, reference or prediction (issue 16 item 7: the last shard
 * aggregates with these while it holds the request's lock). */
static void test_scores_load_same_metrics(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, 300, 2);
    cJSON *metrics = cJSON_CreateObject();
    size_t inserted = 0;
    begin("run-scores", NULL, "m", NULL);
    complete("run-scores", &f, metrics, &inserted);
    cJSON_Delete(metrics);
    fixture_free(&f);
    struct hret_sample *s[2] = {NULL, NULL};
    struct hret_outcome *o[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_store_samples_load(store, "run-scores", &s[0], &o[0], &n[0], &err),
                     HRET_OK);
    assert_int_equal(hret_store_samples_load_scores(store, "run-scores", &s[1], &o[1], &n[1], &err),
                     HRET_OK);
    assert_int_equal(n[0], n[1]);
    assert_true(n[0] > 0);
    struct hret_prices prices = {1.5, 4.0};
    cJSON *m[2] = {hret_metrics_compute(s[0], o[0], n[0], &prices),
                   hret_metrics_compute(s[1], o[1], n[1], &prices)};
    char *want = hret_json_print(m[0]), *got = hret_json_print(m[1]);
    assert_string_equal(got, want);
    free(want);
    free(got);
    cJSON_Delete(m[0]);
    cJSON_Delete(m[1]);
    for (size_t i = 0; i < n[1]; i++) {
        assert_string_equal(s[1][i].id, s[0][i].id);
        assert_string_equal(s[1][i].input, "");
        assert_null(s[1][i].reference);
        assert_null(o[1][i].prediction);
    }
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n[k]; i++) {
            hret_sample_fini(&s[k][i]);
            hret_outcome_fini(&o[k][i]);
        }
        free(s[k]);
        free(o[k]);
    }
}

static void test_hostile_text_is_stored_literally(void **state)
{
    (void)state;
    const char *name = "x'); DROP TABLE runs; --";
    const char *meta_text = "{\"k\":\"'; DELETE FROM samples; --\",\"$1\":\"\\\\N\"}";
    cJSON *meta = hret_json_parse(meta_text, strlen(meta_text), 1000, NULL);
    assert_non_null(meta);
    begin("run-evil'--", name, "m\"; DROP TABLE metrics; --", meta);
    struct fixture f;
    fixture_make(&f, 3, 3);
    free(f.samples[0].input);
    f.samples[0].input = hret_xstrdup("\\N \\\\ \\t\ttab"); /* COPY's escapes, literally */
    size_t inserted = 0;
    cJSON *metrics = cJSON_CreateObject();
    complete("run-evil'--", &f, metrics, &inserted);
    struct hret_store_run_row r = {0};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_store_run_find(store, name, &r, &err), HRET_OK);
    assert_string_equal(r.run_id, "run-evil'--");
    assert_string_equal(r.run_name, name);
    assert_string_equal(r.model_name, "m\"; DROP TABLE metrics; --");
    char *a = hret_json_print(meta), *b = hret_json_print(r.metadata);
    assert_string_equal(a, b);
    free(a);
    free(b);
    hret_store_run_row_fini(&r);
    char *input = scalar("SELECT input FROM samples JOIN sample_inputs USING (input_hash)"
                         " WHERE run_id = $1 AND sample_idx = 0",
                         "run-evil'--");
    assert_string_equal(input, f.samples[0].input);
    free(input);
    input = scalar("SELECT input FROM samples JOIN sample_inputs USING (input_hash)"
                   " WHERE run_id = $1 AND sample_idx = 1",
                   "run-evil'--");
    assert_string_equal(input, "'); DELETE FROM samples; --\t\\N");
    free(input);
    char *pred = scalar("SELECT prediction FROM samples WHERE run_id = $1 AND sample_idx = 2",
                        "run-evil'--");
    assert_string_equal(pred, "bad \xef\xbf\xbd byte"); /* invalid UTF-8 -> U+FFFD */
    free(pred);
    assert_int_equal(count("SELECT count(*) FROM pg_tables WHERE tablename IN"
                           " ('runs', 'samples', 'metrics')",
                           NULL),
                     3);
    cJSON_Delete(meta);
    cJSON_Delete(metrics);
    fixture_free(&f);
}

/* Both COPY formats write the same values; binary refuses an integer its int4 column cannot hold
 * instead of truncating it. */
static void test_copy_formats_agree(void **state)
{
    (void)state;
    struct hret_pg *pg = hret_store_pg(store);
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_pg_exec_static(pg, "test",
                                         "CREATE TABLE copy_fmt (f text, i integer,"
                                         " d double precision, l double precision, b boolean,"
                                         " j jsonb, x bytea, s text, n text)",
                                         &err),
                     HRET_OK);
    static const char *const sql[] = {"COPY copy_fmt FROM STDIN",
                                      "COPY copy_fmt FROM STDIN WITH (FORMAT binary)"};
    for (int binary = 0; binary < 2; binary++) {
        struct hret_pg_copy c;
        assert_int_equal(
            (binary ? hret_pg_copy_begin_binary : hret_pg_copy_begin)(pg, &c, sql[binary], &err),
            HRET_OK);
        for (int row = 0; row < 2; row++) {
            hret_pg_copy_text(&c, binary ? "binary" : "text");
            hret_pg_copy_int(&c, row ? -2147483648LL : 42);
            hret_pg_copy_double(&c, row ? NAN : -0.50000000000000011);
            hret_pg_copy_fixed3(&c, row ? 1e13 : 1.2345678901234 * 7);
            hret_pg_copy_bool(&c, row ? -1 : 1);
            hret_pg_copy_jsonb(&c, row ? NULL : "[\"가\", {\"k\": 1.5}]");
            hret_pg_copy_bytea(&c, "\0\xff\\", row ? 0 : 3);
            hret_pg_copy_text(&c, row ? "bad \xff byte" : "탭\t줄\n\\N \\ 끝");
            hret_pg_copy_text(&c, NULL);
            assert_int_equal(hret_pg_copy_end_row(&c, &err), HRET_OK);
        }
        assert_int_equal(hret_pg_copy_finish(&c, &err), HRET_OK);
    }
    assert_int_equal(count("SELECT count(*) FROM (SELECT i, d, l, b, j, x, s, n FROM copy_fmt"
                           " WHERE f = 'text' EXCEPT SELECT i, d, l, b, j, x, s, n FROM copy_fmt"
                           " WHERE f = $1) AS diff",
                           "binary"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM copy_fmt WHERE f = $1", "binary"), 2);
    char *v = scalar("SELECT l::text || ' ' || j::text || ' ' || s FROM copy_fmt"
                     " WHERE f = $1 AND i = 42",
                     "binary");
    assert_string_equal(v, "8.642 [\"가\", {\"k\": 1.5}] 탭\t줄\n\\N \\ 끝");
    free(v);
    v = scalar("SELECT s FROM copy_fmt WHERE f = $1 AND i < 0", "binary");
    assert_string_equal(v, "bad \xef\xbf\xbd byte");
    free(v);
    struct hret_pg_copy c;
    assert_int_equal(hret_pg_copy_begin_binary(pg, &c, sql[1], &err), HRET_OK);
    hret_pg_copy_text(&c, "too big");
    hret_pg_copy_int(&c, 1LL << 40);
    assert_int_equal(hret_pg_copy_end_row(&c, &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "out of range"));
    hret_pg_copy_abort(&c);
    assert_int_equal(count("SELECT count(*) FROM copy_fmt WHERE f = $1", "too big"), 0);
}

static void test_find_and_list(void **state)
{
    (void)state;
    struct hret_store_run_row r = {0};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_store_run_find(store, "run-twic", &r, &err), HRET_OK); /* 8+ prefix */
    assert_string_equal(r.run_id, "run-twice");
    assert_true(r.start_time == 1700000000.123456789); /* exact, not rounded */
    assert_true(r.end_time == 1700000012.987654321);
    hret_store_run_row_fini(&r);
    assert_int_equal(hret_store_run_find(store, "run-twi", &r, &err), HRET_E_INVAL); /* 7 */
    assert_non_null(strstr(err.msg, "8+ characters"));
    hret_err_clear(&err);
    begin("run-ambiguous-1", NULL, "m", NULL);
    begin("run-ambiguous-2", NULL, "m", NULL);
    assert_int_equal(hret_store_run_find(store, "run-ambig", &r, &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "ambiguous"));
    hret_err_clear(&err);
    assert_int_equal(hret_store_run_find(store, "nope", &r, &err), HRET_E_INVAL);
    struct hret_store_run_row *rows = NULL;
    size_t n = 0;
    struct hret_store_run_filter filter = {.status = "completed", .since = "1h"};
    assert_int_equal(hret_store_runs_list(store, &filter, &rows, &n, &err), HRET_OK);
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(rows[i].status, "completed");
    }
    hret_store_run_rows_free(rows, n);
    filter = (struct hret_store_run_filter){.since = "2999-01-01"};
    assert_int_equal(hret_store_runs_list(store, &filter, &rows, &n, &err), HRET_OK);
    assert_int_equal(n, 0);
    hret_store_run_rows_free(rows, n);
    filter = (struct hret_store_run_filter){.since = "not a time"};
    assert_int_equal(hret_store_runs_list(store, &filter, &rows, &n, &err), HRET_E_INVAL);
}

static void test_cache(void **state)
{
    (void)state;
    char name[] = "m", url[] = "http://x/v1", a[] = "a", b[] = "b";
    struct hret_model_config model = {.name = name, .base_url = url, .model = a};
    struct hret_model_config other = model;
    other.model = b;
    struct hret_store_cache *c = hret_store_cache_new(store, &model);
    struct hret_run_cache hooks;
    hret_store_cache_hooks(c, &hooks);
    char key[65], body[64];
    for (int i = 0; i < 700; i++) {
        snprintf(body, sizeof body, "{\"n\":%d}", i);
        hret_run_cache_key(&model, body, strlen(body), key);
        hooks.store(hooks.user, key, body, strlen(body));
    }
    hret_store_cache_destroy(c); /* flushes the rest */
    assert_int_equal(count("SELECT count(*) FROM response_cache", NULL), 700);

    c = hret_store_cache_new(store, &model);
    hret_store_cache_hooks(c, &hooks);
    for (int i = 0; i < 700; i++) {
        snprintf(body, sizeof body, "{\"n\":%d}", i);
        hret_run_cache_key(&model, body, strlen(body), key);
        size_t len = 0;
        char *got = hooks.lookup(hooks.user, key, &len);
        assert_non_null(got);
        assert_int_equal(len, strlen(body));
        assert_string_equal(got, body);
        free(got);
    }
    struct hret_store_cache_stats st;
    hret_store_cache_get_stats(c, &st);
    assert_int_equal(st.hits, 700);
    assert_true(st.round_trips <= 3); /* windows of 512 */
    hret_run_cache_key(&model, "{\"n\":-1}", 8, key);
    size_t len = 0;
    assert_null(hooks.lookup(hooks.user, key, &len));
    hret_store_cache_get_stats(c, &st);
    assert_true(st.round_trips <= 4); /* a miss costs one */
    hret_store_cache_destroy(c);

    /* a shard whose samples are not cached reads nothing, whatever the endpoint holds for other
     * shards and runs (issue 16 item 7) */
    c = hret_store_cache_new(store, &model);
    hret_store_cache_hooks(c, &hooks);
    for (int i = 0; i < 20; i++) {
        snprintf(body, sizeof body, "{\"fresh\":%d}", i);
        hret_run_cache_key(&model, body, strlen(body), key);
        assert_null(hooks.lookup(hooks.user, key, &len));
    }
    hret_store_cache_get_stats(c, &st);
    assert_int_equal(st.rows, 0);
    /* a hit reads one window of bodies at most, not the endpoint's keys */
    snprintf(body, sizeof body, "{\"n\":%d}", 650);
    hret_run_cache_key(&model, body, strlen(body), key);
    char *got = hooks.lookup(hooks.user, key, &len);
    assert_non_null(got);
    free(got);
    hret_store_cache_get_stats(c, &st);
    assert_int_equal(st.rows, 50); /* entries 650..699: the window from the hit on */
    hret_store_cache_destroy(c);

    c = hret_store_cache_new(store, &other); /* another model never sees these */
    hret_store_cache_hooks(c, &hooks);
    hret_run_cache_key(&model, "{\"n\":1}", 7, key);
    assert_null(hooks.lookup(hooks.user, key, &len));
    hret_store_cache_destroy(c);
}

static void add_run(const char *id, const char *model, const char *lr, double acc, double lat)
{
    char meta_text[128];
    snprintf(meta_text, sizeof meta_text, "{\"hyperparameters\":{\"lr\":%s}}", lr);
    cJSON *meta = hret_json_parse(meta_text, strlen(meta_text), 1000, NULL);
    begin(id, id, model, meta);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "accuracy", acc);
    cJSON_AddNumberToObject(m, "latency_p50_ms", lat);
    struct fixture f;
    fixture_make(&f, 0, 0);
    size_t inserted;
    complete(id, &f, m, &inserted);
    fixture_free(&f);
    cJSON_Delete(m);
    cJSON_Delete(meta);
}

static void test_metric_points(void **state)
{
    (void)state;
    add_run("sweep-1", "sweep", "0.001", 0.5, 30);
    add_run("sweep-2", "sweep", "0.01", 0.75, 10);
    add_run("sweep-3", "sweep", "0.001", 0.25, 20);
    add_run("sweep-4", "other", "0.1", 1.0, 5);
    struct hret_store_metric_query q = {
        .metric = "accuracy", .model = "sweep", .group_by = "metadata.hyperparameters.lr"};
    struct hret_store_metric_point *p = NULL;
    size_t n = 0;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_store_metric_points(store, &q, &p, &n, &err), HRET_OK);
    assert_int_equal(n, 3);
    const char *ids[] = {"sweep-1", "sweep-2", "sweep-3"};
    const char *groups[] = {"0.001", "0.01", "0.001"};
    const double values[] = {0.5, 0.75, 0.25};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(p[i].run_id, ids[i]);
        assert_string_equal(p[i].group, groups[i]);
        assert_true(p[i].value == values[i]);
    }
    hret_store_metric_points_free(p, n);
    struct hret_strlist runs = {0};
    hret_strlist_push(&runs, hret_xstrdup("sweep-4"));
    hret_strlist_push(&runs, hret_xstrdup("sweep-2"));
    q = (struct hret_store_metric_query){.metric = "latency_p50_ms", .runs = &runs};
    assert_int_equal(hret_store_metric_points(store, &q, &p, &n, &err), HRET_OK);
    assert_int_equal(n, 2);
    assert_true(p[0].value == 10 && p[1].value == 5);
    assert_null(p[0].group);
    hret_store_metric_points_free(p, n);
    hret_strlist_fini(&runs);
    q = (struct hret_store_metric_query){.metric = "accuracy", .group_by = "password"};
    assert_int_equal(hret_store_metric_points(store, &q, &p, &n, &err), HRET_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations),
        cmocka_unit_test(test_samples_idempotent),
        cmocka_unit_test(test_same_run_twice),
        cmocka_unit_test(test_samples_read_back_exactly),
        cmocka_unit_test(test_scores_load_same_metrics),
        cmocka_unit_test(test_copy_formats_agree),
        cmocka_unit_test(test_hostile_text_is_stored_literally),
        cmocka_unit_test(test_find_and_list),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_metric_points),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
