/* hret_monitor: rule evaluation replayed over the fixture event sequence
 * tests/data/monitor/sequence.json (healthy -> degraded -> recovered, cooldown, a swapped
 * endpoint, a failure) with the dedupe/cooldown/resolve state machine; the request's alerts
 * block; rule matching; regression significance (paired McNemar, subsets with Holm, the
 * mean-of-last-K two-proportion test against statsmodels values computed when the test was
 * written); the alert JSON; the channel bodies (Slack, PagerDuty, signed webhook). */
#include "hret_test.h"

#include <math.h>
#include <string.h>

#include "hret_config.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_monitor.h"
#include "hret_monitor_channel.h"

#define MAX_STEPS 32
#define ITEMS 100

#define assert_near(got, want, tol)                                                                \
    do {                                                                                           \
        double got_ = (got), want_ = (want);                                                       \
        if (!(fabs(got_ - want_) <= (tol))) {                                                      \
            fail_msg("%s = %.17g, want %.17g", #got, got_, want_);                                 \
        }                                                                                          \
    } while (0)

/* A rule as the config loader would make it (owned strings; hret_monitor_rule_fini). */
static struct hret_monitor_rule_config mkrule(const char *name, int kind, const char *metric)
{
    return (struct hret_monitor_rule_config){.name = hret_xstrdup(name),
                                             .kind = kind,
                                             .metric = hret_xstrdup(metric),
                                             .k = 5,
                                             .severity = HRET_MONITOR_WARNING};
}

static cJSON *load_json(const char *rel)
{
    FILE *f = fopen(hret_test_path(rel), "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cJSON *doc = hret_json_parse(buf, n, sizeof buf, NULL);
    assert_non_null(doc);
    return doc;
}

static void load_config(struct hret_config *cfg, const char *yaml)
{
    *cfg = (struct hret_config){0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_cfg_load_text(&hret_config_table, cfg, "fixture", yaml, strlen(yaml), NULL, &err) !=
        HRET_OK) {
        fail_msg("config: %s", err.msg);
    }
}

/* The first `right` of ITEMS items correct; subsets A and B alternate. */
static void make_items(struct hret_compare_run *run, const char *label, int right)
{
    hret_compare_run_init(run, label);
    for (int i = 0; i < ITEMS; i++) {
        char id[16];
        snprintf(id, sizeof id, "i%d", i);
        hret_compare_run_add(run, id, i % 2 ? "B" : "A", i < right, false);
    }
}

/* The event data of a fixture step. */
static cJSON *step_event(const cJSON *step)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "request_id", "q1");
    cJSON_AddItemToObject(o, "run_id", cJSON_Duplicate(cJSON_GetObjectItem(step, "run_id"), 1));
    cJSON_AddItemToObject(cJSON_AddObjectToObject(o, "model"), "name", cJSON_CreateString("b"));
    cJSON *d = cJSON_AddObjectToObject(o, "dataset");
    cJSON_AddStringToObject(d, "name", "kmmlu");
    cJSON_AddStringToObject(d, "split", "test");
    const cJSON *m = cJSON_GetObjectItem(step, "metrics");
    if (m != NULL) {
        cJSON_AddItemToObject(o, "metrics", cJSON_Duplicate(m, 1));
    }
    const char *error = cJSON_GetStringValue(cJSON_GetObjectItem(step, "error"));
    if (error != NULL) {
        cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "error"), "message", error);
    }
    return o;
}

static const char *action_name(enum hret_monitor_action a)
{
    static const char *const names[] = {"nothing", "raise", "suppress", "resolve"};
    return names[a];
}

static void test_monitor_sequence(void **state)
{
    (void)state;
    cJSON *fx = load_json("tests/data/monitor/sequence.json");
    struct hret_config cfg;
    load_config(&cfg, cJSON_GetStringValue(cJSON_GetObjectItem(fx, "config")));
    const struct hret_monitor_rule_config *rules = cfg.monitor.rules.items;
    size_t n_rules = cfg.monitor.rules.count;
    assert_int_equal(n_rules, 5);
    struct hret_monitor_key_state keys[8] = {{0}};
    struct hret_compare_run items[MAX_STEPS];
    const cJSON *prev = NULL; /* the last completed step */
    int prev_idx = -1, step_no = 0, raised = 0;
    const cJSON *step;
    cJSON_ArrayForEach(step, cJSON_GetObjectItem(fx, "steps"))
    {
        int i = step_no++;
        bool failed = cJSON_IsTrue(cJSON_GetObjectItem(step, "failed"));
        const cJSON *right = cJSON_GetObjectItem(step, "right");
        make_items(&items[i], cJSON_GetStringValue(cJSON_GetObjectItem(step, "run_id")),
                   right ? right->valueint : 0);
        cJSON *ev = step_event(step);
        struct hret_monitor_run run;
        assert_true(hret_monitor_run_from_event(
            failed ? "hret.run.failed.v1" : "hret.run.completed.v1", ev, &run));
        run.served_model = cJSON_GetStringValue(cJSON_GetObjectItem(step, "served_model"));
        run.fingerprint = cJSON_GetStringValue(cJSON_GetObjectItem(step, "fingerprint"));
        double at = cJSON_GetObjectItem(step, "at")->valuedouble;
        const cJSON *expect = cJSON_GetObjectItem(step, "expect");
        for (size_t r = 0; r < n_rules; r++) {
            const struct hret_monitor_rule_config *rule = &rules[r];
            const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(expect, rule->name));
            want = want ? want : "nothing";
            if (!hret_monitor_rule_matches(rule, &run)) {
                assert_string_equal(want, "nothing");
                continue;
            }
            struct hret_monitor_baseline b = {0};
            if (prev != NULL) {
                b = (struct hret_monitor_baseline){
                    .found = true,
                    .kind = "previous",
                    .run_id = cJSON_GetStringValue(cJSON_GetObjectItem(prev, "run_id")),
                    .value = cJSON_GetObjectItem(cJSON_GetObjectItem(prev, "metrics"), "accuracy")
                                 ->valuedouble,
                    .served_model = cJSON_GetStringValue(cJSON_GetObjectItem(prev, "served_model")),
                    .fingerprint = cJSON_GetStringValue(cJSON_GetObjectItem(prev, "fingerprint")),
                    .base_items = &items[prev_idx],
                    .cur_items = &items[i],
                };
            }
            struct hret_monitor_finding f;
            hret_monitor_evaluate(rule, &run, &b, cfg.monitor.alpha, &f);
            enum hret_monitor_action a =
                hret_monitor_decide(&keys[r], f.verdict, at, (double)cfg.monitor.cooldown_s);
            if (strcmp(action_name(a), want) != 0) {
                fail_msg("step %s, rule %s: %s, want %s (%s)",
                         cJSON_GetStringValue(cJSON_GetObjectItem(step, "run_id")), rule->name,
                         action_name(a), want, f.message);
            }
            if (a == HRET_MONITOR_RAISE) {
                keys[r] = (struct hret_monitor_key_state){true, at};
                raised++;
                assert_true(f.message[0] != '\0');
            } else if (a == HRET_MONITOR_RESOLVE) {
                keys[r].open = false;
            }
            hret_monitor_finding_fini(&f);
        }
        if (!failed) {
            prev = step;
            prev_idx = i;
        }
        cJSON_Delete(ev);
    }
    assert_int_equal(raised, 6);
    for (int i = 0; i < step_no; i++) {
        hret_compare_run_fini(&items[i]);
    }
    hret_config_fini(&cfg);
    cJSON_Delete(fx);
}

/* r2 of the fixture against r1: 30 discordant pairs, all A right / B wrong. */
static void test_monitor_regression_states_the_test(void **state)
{
    (void)state;
    struct hret_monitor_rule_config rule = mkrule("regress", HRET_MONITOR_REGRESSION, "accuracy");
    rule.max_drop = 0.05;
    struct hret_compare_run a, b;
    make_items(&a, "r1", 70);
    make_items(&b, "r2", 40);
    struct hret_monitor_baseline base = {.found = true,
                                         .kind = "previous",
                                         .run_id = "r1",
                                         .value = 0.7,
                                         .base_items = &a,
                                         .cur_items = &b};
    cJSON *metrics = cJSON_CreateObject();
    cJSON_AddNumberToObject(metrics, "accuracy", 0.4);
    struct hret_monitor_run run = {
        .run_id = "r2", .model = "b", .dataset = "kmmlu", .metrics = metrics};
    struct hret_monitor_finding f;
    hret_monitor_evaluate(&rule, &run, &base, 0.05, &f);
    assert_int_equal(f.verdict, HRET_MONITOR_FIRING);
    assert_string_equal(f.test, "mcnemar_exact");
    assert_near(f.effect, -0.30, 1e-12);
    /* scipy.stats.binomtest(0, 30, 0.5).pvalue */
    assert_near(f.p_value, 1.862645149230957e-09, 1e-20);
    assert_true(isfinite(f.mde) && f.mde > 0 && f.mde < 0.30);
    assert_int_equal(f.n, 100);
    assert_string_equal(f.baseline_run, "r1");
    assert_non_null(strstr(f.message, "McNemar exact"));
    assert_non_null(strstr(f.message, "minimum detectable effect"));
    /* both subsets dropped 15 of 50 pairs: significant after Holm */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.details, "subsets")), 2);

    cJSON *alert = hret_monitor_alert_json(&rule, &run, &f, "id1", "regress|b|kmmlu",
                                           "2026-01-01T00:00:00.000Z");
    const cJSON *st = cJSON_GetObjectItem(alert, "statistics");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(st, "test")), "mcnemar_exact");
    assert_near(cJSON_GetObjectItem(st, "effect")->valuedouble, -0.30, 1e-12);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(st, "mde")));
    const cJSON *bl = cJSON_GetObjectItem(alert, "baseline");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(bl, "run_id")), "r1");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(bl, "kind")), "previous");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(alert, "significant")));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(alert, "severity")), "warning");
    cJSON_Delete(alert);
    hret_monitor_finding_fini(&f);

    /* A drop bigger than max_drop that chance explains does not fire: 10 items, 2 discordant */
    struct hret_compare_run c, d;
    hret_compare_run_init(&c, "c");
    hret_compare_run_init(&d, "d");
    for (int i = 0; i < 10; i++) {
        char id[8];
        snprintf(id, sizeof id, "x%d", i);
        hret_compare_run_add(&c, id, NULL, i < 7, false);
        hret_compare_run_add(&d, id, NULL, i < 5, false);
    }
    base.base_items = &c;
    base.cur_items = &d;
    hret_monitor_evaluate(&rule, &run, &base, 0.05, &f);
    assert_int_equal(f.verdict, HRET_MONITOR_OK);
    assert_near(f.p_value, 0.5, 1e-12); /* binomtest(0, 2, 0.5) */
    assert_false(f.significant);
    hret_monitor_finding_fini(&f);

    /* No shared item: the independent-samples fallback says so */
    struct hret_compare_run e;
    hret_compare_run_init(&e, "e");
    for (int i = 0; i < 100; i++) {
        char id[8];
        snprintf(id, sizeof id, "y%d", i);
        hret_compare_run_add(&e, id, NULL, i < 10, false);
    }
    base.base_items = &a;
    base.cur_items = &e;
    hret_monitor_evaluate(&rule, &run, &base, 0.05, &f);
    assert_string_equal(f.test, "two_proportion_z");
    assert_int_equal(f.verdict, HRET_MONITOR_FIRING);
    hret_monitor_finding_fini(&f);

    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
    hret_compare_run_fini(&c);
    hret_compare_run_fini(&d);
    hret_compare_run_fini(&e);
    cJSON_Delete(metrics);
    hret_monitor_rule_fini(&rule);
}

/* One subset collapses while the other improves as much: overall unchanged, the subset fires. */
static void test_monitor_regression_per_subset(void **state)
{
    (void)state;
    struct hret_monitor_rule_config rule = mkrule("r", HRET_MONITOR_REGRESSION, "accuracy");
    rule.max_drop = 0.05;
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, "a");
    hret_compare_run_init(&b, "b");
    for (int i = 0; i < 60; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        bool in_x = i < 30;
        /* X: A right on all 30, B on 5; Y: A right on 5, B on 30 */
        hret_compare_run_add(&a, id, in_x ? "X" : "Y", in_x ? true : i - 30 < 5, false);
        hret_compare_run_add(&b, id, in_x ? "X" : "Y", in_x ? i < 5 : true, false);
    }
    struct hret_monitor_baseline base = {
        .found = true, .kind = "run", .run_id = "a", .base_items = &a, .cur_items = &b};
    struct hret_monitor_run run = {.run_id = "b", .model = "m", .dataset = "d"};
    struct hret_monitor_finding f;
    hret_monitor_evaluate(&rule, &run, &base, 0.05, &f);
    assert_near(f.effect, 0, 1e-12);
    assert_int_equal(f.verdict, HRET_MONITOR_FIRING);
    const cJSON *subs = cJSON_GetObjectItem(f.details, "subsets");
    assert_int_equal(cJSON_GetArraySize(subs), 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(subs->child, "name")), "X");
    /* Holm over 2 subsets: p_holm = 2 * binomtest(0, 25).pvalue */
    assert_near(cJSON_GetObjectItem(subs->child, "p_holm")->valuedouble, 2 * 5.960464477539063e-08,
                1e-18);
    hret_monitor_finding_fini(&f);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
    hret_monitor_rule_fini(&rule);
}

/* mean_last_k: pooled counts, statsmodels' proportions_ztest values. */
static void test_monitor_mean_last_k(void **state)
{
    (void)state;
    struct hret_monitor_rule_config rule = mkrule("m", HRET_MONITOR_REGRESSION, "accuracy");
    rule.baseline = hret_xstrdup("mean_last_k");
    rule.max_drop = 0.05;
    struct hret_monitor_run run = {.run_id = "r", .model = "m", .dataset = "d"};
    struct hret_monitor_baseline base = {.found = true,
                                         .kind = "mean_last_k",
                                         .value = 0.6,
                                         .base_correct = 300,
                                         .base_n = 500,
                                         .cur_correct = 50,
                                         .cur_n = 100};
    struct hret_monitor_finding f;
    hret_monitor_evaluate(&rule, &run, &base, 0.05, &f);
    /* proportions_ztest([50, 300], [100, 500])[1]: a 10-point drop that is not significant */
    assert_near(f.p_value, 0.06407750645105956, 1e-12);
    assert_string_equal(f.test, "two_proportion_z");
    assert_int_equal(f.verdict, HRET_MONITOR_OK);
    hret_monitor_finding_fini(&f);
    base.cur_correct = 40;
    hret_monitor_evaluate(&rule, &run, &base, 0.05, &f);
    /* proportions_ztest([40, 300], [100, 500])[1] */
    assert_near(f.p_value, 0.00022925943370481067, 1e-14);
    assert_int_equal(f.verdict, HRET_MONITOR_FIRING);
    assert_non_null(strstr(f.message, "mean of the last 5 runs"));
    hret_monitor_finding_fini(&f);
    base.found = false; /* no history yet */
    hret_monitor_evaluate(&rule, &run, &base, 0.05, &f);
    assert_int_equal(f.verdict, HRET_MONITOR_UNKNOWN);
    hret_monitor_finding_fini(&f);
    hret_monitor_rule_fini(&rule);
}

static void test_monitor_request_rules_and_matching(void **state)
{
    (void)state;
    cJSON *alerts =
        cJSON_Parse("{\"min_accuracy\": 0.6, \"max_drop\": 0.1, \"baseline\": \"best\"}");
    struct hret_monitor_rule_config rules[2];
    assert_int_equal(hret_monitor_request_rules(alerts, rules), 2);
    assert_string_equal(rules[0].name, "request:min_accuracy");
    assert_int_equal(rules[0].kind, HRET_MONITOR_THRESHOLD);
    assert_near(rules[0].threshold, 0.6, 0);
    assert_string_equal(rules[1].name, "request:max_drop");
    assert_int_equal(rules[1].kind, HRET_MONITOR_REGRESSION);
    assert_string_equal(rules[1].baseline, "best");
    assert_near(rules[1].max_drop, 0.1, 0);
    cJSON *metrics = cJSON_Parse("{\"accuracy\": 0.55}");
    struct hret_monitor_run run = {
        .run_id = "r", .model = "b", .dataset = "kmmlu", .metrics = metrics};
    assert_true(hret_monitor_rule_matches(&rules[0], &run));
    struct hret_monitor_finding f;
    hret_monitor_evaluate(&rules[0], &run, NULL, 0.05, &f);
    assert_int_equal(f.verdict, HRET_MONITOR_FIRING);
    hret_monitor_finding_fini(&f);
    hret_monitor_rule_fini(&rules[0]);
    hret_monitor_rule_fini(&rules[1]);
    cJSON_Delete(alerts);
    alerts = cJSON_Parse("{\"max_drop\": 0.02}");
    assert_int_equal(hret_monitor_request_rules(alerts, rules), 1);
    assert_string_equal(rules[0].baseline, "previous");
    hret_monitor_rule_fini(&rules[0]);
    cJSON_Delete(alerts);
    assert_int_equal(hret_monitor_request_rules(NULL, rules), 0);

    struct hret_config cfg;
    load_config(&cfg, "monitor:\n  rules:\n"
                      "    - {name: g, model: \"gpt-*\", run_name: \"nightly-*\",\n"
                      "       metadata: {epoch: \"3\", branch: main}}\n");
    const struct hret_monitor_rule_config *g = cfg.monitor.rules.items;
    cJSON *md = cJSON_Parse("{\"epoch\": 3, \"branch\": \"main\", \"lr\": 0.1}");
    struct hret_monitor_run r2 = {.run_id = "x",
                                  .model = "gpt-4o",
                                  .dataset = "kmmlu",
                                  .run_name = "nightly-12",
                                  .metadata = md};
    assert_true(hret_monitor_rule_matches(g, &r2));
    r2.run_name = "adhoc";
    assert_false(hret_monitor_rule_matches(g, &r2));
    r2.run_name = "nightly-1";
    r2.model = "claude";
    assert_false(hret_monitor_rule_matches(g, &r2));
    r2.model = "gpt-4o";
    cJSON_ReplaceItemInObject(md, "epoch", cJSON_CreateNumber(4));
    assert_false(hret_monitor_rule_matches(g, &r2));
    r2.metadata = NULL;
    assert_false(hret_monitor_rule_matches(g, &r2));
    cJSON_Delete(md);
    cJSON_Delete(metrics);
    hret_config_fini(&cfg);
}

static void test_monitor_keys_and_ids(void **state)
{
    (void)state;
    char key[128], a[33], b[33], c[33];
    hret_monitor_dedupe_key("floor", "b", "kmmlu", key, sizeof key);
    assert_string_equal(key, "floor|b|kmmlu");
    hret_monitor_id(key, "run-1", a);
    hret_monitor_id(key, "run-1", b);
    hret_monitor_id(key, "run-2", c);
    assert_string_equal(a, b); /* a replayed event gets the same alert id */
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 32);
    struct hret_monitor_key_state st = {0};
    assert_int_equal(hret_monitor_decide(&st, HRET_MONITOR_UNKNOWN, 10, 60), HRET_MONITOR_NOTHING);
    assert_int_equal(hret_monitor_decide(&st, HRET_MONITOR_OK, 10, 60), HRET_MONITOR_NOTHING);
    assert_int_equal(hret_monitor_decide(&st, HRET_MONITOR_FIRING, 10, 60), HRET_MONITOR_RAISE);
    st = (struct hret_monitor_key_state){true, 10};
    assert_int_equal(hret_monitor_decide(&st, HRET_MONITOR_FIRING, 69, 60), HRET_MONITOR_SUPPRESS);
    assert_int_equal(hret_monitor_decide(&st, HRET_MONITOR_FIRING, 70, 60), HRET_MONITOR_RAISE);
    assert_int_equal(hret_monitor_decide(&st, HRET_MONITOR_UNKNOWN, 70, 60), HRET_MONITOR_NOTHING);
    assert_int_equal(hret_monitor_decide(&st, HRET_MONITOR_OK, 20, 60), HRET_MONITOR_RESOLVE);
}

static void test_monitor_channel_bodies(void **state)
{
    (void)state;
    cJSON *alert = cJSON_Parse("{\"alert_id\": \"a1\", \"rule\": \"floor\", \"severity\": "
                               "\"critical\", \"dedupe_key\": \"floor|b|kmmlu\", \"model\": \"b\", "
                               "\"dataset\": \"kmmlu\", \"run_id\": \"r2\", \"message\": "
                               "\"accuracy is 0.4\"}");
    char *s = hret_monitor_channel_body(HRET_CHANNEL_SLACK, "trigger", alert, NULL);
    cJSON *o = cJSON_Parse(s);
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(o, "text"));
    assert_non_null(text);
    assert_non_null(strstr(text, "[critical] floor: accuracy is 0.4"));
    assert_non_null(strstr(text, "run r2"));
    assert_int_equal(cJSON_GetArraySize(o), 1);
    cJSON_Delete(o);
    free(s);

    s = hret_monitor_channel_body(HRET_CHANNEL_PAGERDUTY, "trigger", alert, "rk-123");
    o = cJSON_Parse(s);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "routing_key")), "rk-123");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "event_action")), "trigger");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "dedup_key")), "floor|b|kmmlu");
    const cJSON *pl = cJSON_GetObjectItem(o, "payload");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(pl, "severity")), "critical");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(pl, "source")), "hret monitor");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(pl, "summary")),
                        "floor: accuracy is 0.4");
    cJSON_Delete(o);
    free(s);

    s = hret_monitor_channel_body(HRET_CHANNEL_PAGERDUTY, "resolve", alert, "rk-123");
    o = cJSON_Parse(s);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "event_action")), "resolve");
    assert_null(cJSON_GetObjectItem(o, "payload"));
    cJSON_Delete(o);
    free(s);

    s = hret_monitor_channel_body(HRET_CHANNEL_WEBHOOK, "trigger", alert, NULL);
    o = cJSON_Parse(s);
    assert_true(cJSON_Compare(o, alert, true)); /* the event data itself */
    cJSON_Delete(o);
    free(s);
    cJSON_Delete(alert);
}

/* Failure rule, fingerprint rule without a baseline, threshold without the metric. */
static void test_monitor_unknowns(void **state)
{
    (void)state;
    struct hret_monitor_rule_config thr = mkrule("t", HRET_MONITOR_THRESHOLD, "latency_p90_ms");
    thr.op = 2; /* ">" */
    thr.threshold = 4000;
    struct hret_monitor_rule_config fp = mkrule("f", HRET_MONITOR_FINGERPRINT, "accuracy");
    cJSON *m = cJSON_Parse("{\"latency_p90_ms\": 4500}");
    struct hret_monitor_run run = {
        .run_id = "r", .model = "b", .dataset = "d", .metrics = m, .fingerprint = "fp1"};
    struct hret_monitor_finding f;
    hret_monitor_evaluate(&thr, &run, NULL, 0.05, &f);
    assert_int_equal(f.verdict, HRET_MONITOR_FIRING); /* latency_p90_ms > 4000 */
    hret_monitor_finding_fini(&f);
    run.metrics = NULL;
    hret_monitor_evaluate(&thr, &run, NULL, 0.05, &f);
    assert_int_equal(f.verdict, HRET_MONITOR_UNKNOWN);
    hret_monitor_finding_fini(&f);
    hret_monitor_evaluate(&fp, &run, NULL, 0.05, &f);
    assert_int_equal(f.verdict, HRET_MONITOR_UNKNOWN);
    hret_monitor_finding_fini(&f);
    struct hret_monitor_baseline prev = {.found = true, .run_id = "p", .fingerprint = "fp0"};
    hret_monitor_evaluate(&fp, &run, &prev, 0.05, &f);
    assert_int_equal(f.verdict, HRET_MONITOR_FIRING);
    cJSON *alert = hret_monitor_alert_json(&fp, &run, &f, "x", "f|b|d", "t");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(alert, "metric")),
                        "served_model_changed");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(alert, "details"), "previous"), "fingerprint")),
        "fp0");
    cJSON_Delete(alert);
    hret_monitor_finding_fini(&f);
    cJSON_Delete(m);
    hret_monitor_rule_fini(&thr);
    hret_monitor_rule_fini(&fp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monitor_sequence),
        cmocka_unit_test(test_monitor_regression_states_the_test),
        cmocka_unit_test(test_monitor_regression_per_subset),
        cmocka_unit_test(test_monitor_mean_last_k),
        cmocka_unit_test(test_monitor_request_rules_and_matching),
        cmocka_unit_test(test_monitor_keys_and_ids),
        cmocka_unit_test(test_monitor_channel_bodies),
        cmocka_unit_test(test_monitor_unknowns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
