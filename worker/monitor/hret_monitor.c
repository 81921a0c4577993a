/* hret monitor, the decisions (see hret_monitor.h). */
#include "hret_monitor.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_hash.h"
#include "hret_mem.h"
#include "hret_stats.h"

const char *const hret_monitor_severity_names[] = {"info", "warning", "critical", NULL};
const char *const hret_monitor_kind_names[] = {"threshold", "regression", "fingerprint", "failure",
                                               NULL};
static const char *const op_names[] = {"<", "<=", ">", ">="};

static const char *str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

bool hret_monitor_run_from_event(const char *type, const cJSON *data, struct hret_monitor_run *run)
{
    *run = (struct hret_monitor_run){0};
    run->run_id = str(data, "run_id");
    if (run->run_id == NULL) {
        return false;
    }
    run->failed = type != NULL && strcmp(type, "hret.run.failed.v1") == 0;
    run->request_id = str(data, "request_id");
    run->run_name = str(data, "run_name");
    run->model = str(cJSON_GetObjectItemCaseSensitive(data, "model"), "name");
    run->dataset = str(cJSON_GetObjectItemCaseSensitive(data, "dataset"), "name");
    run->error = str(cJSON_GetObjectItemCaseSensitive(data, "error"), "message");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(data, "metrics");
    run->metrics = cJSON_IsObject(m) ? m : NULL;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(data, "metadata");
    run->metadata = cJSON_IsObject(md) ? md : NULL;
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(data, "alerts");
    run->alerts = cJSON_IsObject(al) ? al : NULL;
    return true;
}

/* ---- rules ---------------------------------------------------------------------------------- */

static void rule_defaults(struct hret_monitor_rule_config *r, const char *name, int kind)
{
    *r = (struct hret_monitor_rule_config){
        .name = hret_xstrdup(name),
        .kind = kind,
        .metric = hret_xstrdup("accuracy"),
        .k = 5,
        .severity = HRET_MONITOR_WARNING,
    };
}

size_t hret_monitor_request_rules(const cJSON *alerts, struct hret_monitor_rule_config out[2])
{
    size_t n = 0;
    double min_acc = number(alerts, "min_accuracy");
    if (isfinite(min_acc)) {
        rule_defaults(&out[n], "request:min_accuracy", HRET_MONITOR_THRESHOLD);
        out[n].op = 0; /* "<" */
        out[n++].threshold = min_acc;
    }
    double max_drop = number(alerts, "max_drop");
    if (isfinite(max_drop)) {
        rule_defaults(&out[n], "request:max_drop", HRET_MONITOR_REGRESSION);
        const char *b = str(alerts, "baseline");
        out[n].baseline = hret_xstrdup(b != NULL ? b : "previous");
        out[n++].max_drop = max_drop;
    }
    return n;
}

void hret_monitor_rule_fini(struct hret_monitor_rule_config *rule)
{
    free(rule->name);
    free(rule->metric);
    free(rule->baseline);
    *rule = (struct hret_monitor_rule_config){0};
}

static bool glob_ok(const char *pattern, const char *value)
{
    return pattern == NULL || (value != NULL && fnmatch(pattern, value, 0) == 0);
}

/* A top-level metadata value as the text a config value is compared with. */
static bool metadata_is(const cJSON *md, const char *key, const char *want)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, key);
    char buf[64];
    const char *have = NULL;
    if (cJSON_IsString(v)) {
        have = v->valuestring;
    } else if (cJSON_IsNumber(v)) {
        snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
        have = buf;
    } else if (cJSON_IsBool(v)) {
        have = cJSON_IsTrue(v) ? "true" : "false";
    }
    if (have == NULL) {
        return false;
    }
    if (cJSON_IsNumber(v)) { /* 3 and 3.0 are the same epoch */
        char *end = NULL;
        double w = strtod(want, &end);
        return end != want && *end == '\0' && w == v->valuedouble;
    }
    return strcmp(have, want) == 0;
}

bool hret_monitor_rule_matches(const struct hret_monitor_rule_config *rule,
                               const struct hret_monitor_run *run)
{
    if (!glob_ok(rule->model, run->model) || !glob_ok(rule->dataset, run->dataset) ||
        !glob_ok(rule->run_name, run->run_name)) {
        return false;
    }
    for (size_t i = 0; i < rule->metadata.count; i++) {
        if (!metadata_is(run->metadata, rule->metadata.keys[i], rule->metadata.values[i])) {
            return false;
        }
    }
    return true;
}

/* ---- evaluation ----------------------------------------------------------------------------- */

static bool compare_op(double v, int op, double t)
{
    switch (op) {
    case 0:
        return v < t;
    case 1:
        return v <= t;
    case 2:
        return v > t;
    default:
        return v >= t;
    }
}

static void threshold(const struct hret_monitor_rule_config *rule,
                      const struct hret_monitor_run *run, struct hret_monitor_finding *f)
{
    f->value = number(run->metrics, rule->metric);
    f->threshold = rule->threshold;
    if (!isfinite(f->value)) {
        return; /* not reported (a failed run): UNKNOWN */
    }
    bool fires = compare_op(f->value, rule->op, rule->threshold);
    f->verdict = fires ? HRET_MONITOR_FIRING : HRET_MONITOR_OK;
    snprintf(f->message, sizeof f->message, "%s of %s on %s is %.4g (%s%s %.4g)", rule->metric,
             run->model, run->dataset, f->value, fires ? "" : "not ", op_names[rule->op],
             rule->threshold);
}

static void failure(const struct hret_monitor_rule_config *rule, const struct hret_monitor_run *run,
                    struct hret_monitor_finding *f)
{
    if (run->failed) {
        f->verdict = HRET_MONITOR_FIRING;
        snprintf(f->message, sizeof f->message, "run %s of %s on %s failed: %.700s", run->run_id,
                 run->model ? run->model : "?", run->dataset ? run->dataset : "?",
                 run->error ? run->error : "no reason given");
        return;
    }
    f->verdict = HRET_MONITOR_OK;
    f->value = number(run->metrics, "error_rate");
    if (rule->threshold > 0 && isfinite(f->value)) {
        f->threshold = rule->threshold;
        if (f->value > rule->threshold) {
            f->verdict = HRET_MONITOR_FIRING;
            snprintf(f->message, sizeof f->message,
                     "error_rate of %s on %s is %.4g (> %.4g): the endpoint is failing", run->model,
                     run->dataset, f->value, rule->threshold);
            return;
        }
    }
    snprintf(f->message, sizeof f->message, "run %s of %s on %s completed", run->run_id, run->model,
             run->dataset);
}

/* An identity one side did not report is no evidence of a change. */
static bool same(const char *a, const char *b)
{
    return a == NULL || b == NULL || strcmp(a, b) == 0;
}

static void fingerprint(const struct hret_monitor_run *run, const struct hret_monitor_baseline *b,
                        struct hret_monitor_finding *f)
{
    if (b == NULL || !b->found || (run->served_model == NULL && run->fingerprint == NULL)) {
        return;
    }
    bool changed =
        !same(run->served_model, b->served_model) || !same(run->fingerprint, b->fingerprint);
    f->verdict = changed ? HRET_MONITOR_FIRING : HRET_MONITOR_OK;
    f->details = cJSON_CreateObject();
    cJSON *prev = cJSON_AddObjectToObject(f->details, "previous");
    cJSON_AddStringToObject(prev, "run_id", b->run_id ? b->run_id : "");
    cJSON_AddItemToObject(prev, "served_model",
                          b->served_model ? cJSON_CreateString(b->served_model)
                                          : cJSON_CreateNull());
    cJSON_AddItemToObject(prev, "fingerprint",
                          b->fingerprint ? cJSON_CreateString(b->fingerprint) : cJSON_CreateNull());
    cJSON *cur = cJSON_AddObjectToObject(f->details, "current");
    cJSON_AddItemToObject(cur, "served_model",
                          run->served_model ? cJSON_CreateString(run->served_model)
                                            : cJSON_CreateNull());
    cJSON_AddItemToObject(cur, "fingerprint",
                          run->fingerprint ? cJSON_CreateString(run->fingerprint)
                                           : cJSON_CreateNull());
    snprintf(f->message, sizeof f->message,
             "%s on %s: the endpoint %s (served model %s -> %s, fingerprint %s -> %s) since run "
             "%s",
             run->model, run->dataset, changed ? "changed" : "is unchanged",
             b->served_model ? b->served_model : "-", run->served_model ? run->served_model : "-",
             b->fingerprint ? b->fingerprint : "-", run->fingerprint ? run->fingerprint : "-",
             b->run_id ? b->run_id : "?");
}

static void points(double d, char *out, size_t cap)
{
    if (isfinite(d)) {
        snprintf(out, cap, "%.1f points", 100 * d);
    } else {
        snprintf(out, cap, "undefined (too few discordant items)");
    }
}

/* Against one baseline run, item by item (hret_compare: paired or independent). */
static void regression_runs(const struct hret_monitor_rule_config *rule,
                            const struct hret_monitor_baseline *b, double alpha,
                            struct hret_monitor_finding *f)
{
    struct hret_compare_options opt = HRET_COMPARE_OPTIONS_DEFAULT;
    opt.alpha = alpha;
    struct hret_compare *c = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_compare_runs(b->base_items, b->cur_items, &opt, &c, &err) != HRET_OK) {
        snprintf(f->message, sizeof f->message, "cannot compare with baseline run %s: %s",
                 b->run_id, err.msg);
        return; /* UNKNOWN */
    }
    f->test = c->paired ? "mcnemar_exact" : "two_proportion_z";
    f->effect = c->overall.diff;
    f->p_value = c->overall.p_value;
    f->mde = c->overall.mde;
    f->n = c->paired ? c->overall.n_a : c->overall.n_b;
    bool overall = -f->effect > rule->max_drop && f->p_value < alpha;
    cJSON *subsets = cJSON_CreateArray();
    for (size_t i = 0; i < c->n_subsets; i++) {
        const struct hret_compare_group *g = &c->subsets[i];
        if (-g->diff > rule->max_drop && g->p_holm < alpha) {
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "name", g->name);
            cJSON_AddNumberToObject(s, "effect", g->diff);
            cJSON_AddNumberToObject(s, "p_value", g->p_value);
            cJSON_AddNumberToObject(s, "p_holm", g->p_holm);
            cJSON_AddNumberToObject(s, "n", (double)(c->paired ? g->n_a : g->n_b));
            cJSON_AddItemToArray(subsets, s);
        }
    }
    int n_sub = cJSON_GetArraySize(subsets);
    f->significant = overall || n_sub > 0;
    f->verdict = f->significant ? HRET_MONITOR_FIRING : HRET_MONITOR_OK;
    f->details = cJSON_CreateObject();
    cJSON_AddItemToObject(f->details, "subsets", subsets);
    cJSON_AddNumberToObject(f->details, "subsets_compared", (double)c->n_subsets);
    char p[32], eff[48], mde[64];
    hret_compare_format_p(f->p_value, p, sizeof p);
    points(f->effect, eff, sizeof eff);
    points(f->mde, mde, sizeof mde);
    snprintf(f->message, sizeof f->message,
             "%s %s against %s run %s: %+.1f points (%.4g -> %.4g on %zu %s items), %s p %s; "
             "%d of %zu subsets dropped significantly (Holm); minimum detectable effect %s",
             rule->metric, f->significant ? "regressed" : "held", b->kind, b->run_id,
             100 * f->effect, c->overall.acc_a, c->overall.acc_b, f->n,
             c->paired ? "paired" : "independent", c->paired ? "McNemar exact" : "two-proportion z",
             p, n_sub, c->n_subsets, mde);
    hret_compare_destroy(c);
}

/* Against the mean of the last K runs: pooled counts, two-proportion z-test. */
static void regression_mean(const struct hret_monitor_rule_config *rule,
                            const struct hret_monitor_baseline *b, double alpha,
                            struct hret_monitor_finding *f)
{
    if (b->base_n <= 0 || b->cur_n <= 0) {
        return;
    }
    double pa = b->base_correct / b->base_n, pb = b->cur_correct / b->cur_n;
    double pooled = (b->base_correct + b->cur_correct) / (b->base_n + b->cur_n);
    f->test = "two_proportion_z";
    f->effect = pb - pa;
    f->p_value = hret_stats_two_prop_z(b->cur_correct, b->cur_n, b->base_correct, b->base_n, NULL);
    f->mde = hret_stats_mde_two_prop(b->base_n, b->cur_n, pooled, alpha, HRET_STATS_POWER);
    f->n = (size_t)b->cur_n;
    f->significant = -f->effect > rule->max_drop && f->p_value < alpha;
    f->verdict = f->significant ? HRET_MONITOR_FIRING : HRET_MONITOR_OK;
    char p[32], mde[64];
    hret_compare_format_p(f->p_value, p, sizeof p);
    points(f->mde, mde, sizeof mde);
    snprintf(f->message, sizeof f->message,
             "%s %s against the mean of the last %lld runs: %+.1f points (%.4g -> %.4g, %.0f "
             "items), two-proportion z p %s; minimum detectable effect %s",
             rule->metric, f->significant ? "regressed" : "held", rule->k, 100 * f->effect, pa, pb,
             b->cur_n, p, mde);
}

static void regression(const struct hret_monitor_rule_config *rule,
                       const struct hret_monitor_run *run, const struct hret_monitor_baseline *b,
                       double alpha, struct hret_monitor_finding *f)
{
    f->value = number(run->metrics, rule->metric);
    if (b == NULL || !b->found || run->failed) {
        return;
    }
    f->baseline_value = b->value;
    snprintf(f->baseline_run, sizeof f->baseline_run, "%s", b->run_id ? b->run_id : "");
    if (b->base_items != NULL && b->cur_items != NULL) {
        regression_runs(rule, b, alpha, f);
    } else {
        regression_mean(rule, b, alpha, f);
    }
}

void hret_monitor_evaluate(const struct hret_monitor_rule_config *rule,
                           const struct hret_monitor_run *run,
                           const struct hret_monitor_baseline *baseline, double alpha,
                           struct hret_monitor_finding *out)
{
    *out = (struct hret_monitor_finding){
        .verdict = HRET_MONITOR_UNKNOWN,
        .value = NAN,
        .threshold = NAN,
        .baseline_value = NAN,
        .effect = NAN,
        .p_value = NAN,
        .mde = NAN,
    };
    alpha = rule->alpha > 0 ? rule->alpha : alpha;
    switch (rule->kind) {
    case HRET_MONITOR_THRESHOLD:
        threshold(rule, run, out);
        break;
    case HRET_MONITOR_REGRESSION:
        regression(rule, run, baseline, alpha, out);
        break;
    case HRET_MONITOR_FINGERPRINT:
        fingerprint(run, baseline, out);
        break;
    default:
        failure(rule, run, out);
        break;
    }
}

void hret_monitor_finding_fini(struct hret_monitor_finding *f)
{
    cJSON_Delete(f->details);
    f->details = NULL;
}

void hret_monitor_hold_open(const struct hret_monitor_rule_config *rule, const cJSON *open_alert,
                            struct hret_monitor_finding *f)
{
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(open_alert, "baseline");
    double at_raise = number(base, "value");
    if (rule->kind != HRET_MONITOR_REGRESSION || f->verdict != HRET_MONITOR_OK ||
        !isfinite(at_raise) || (isfinite(f->value) && f->value >= at_raise - rule->max_drop)) {
        return;
    }
    const char *base_run = str(base, "run_id");
    f->verdict = HRET_MONITOR_FIRING;
    f->baseline_value = at_raise;
    snprintf(f->baseline_run, sizeof f->baseline_run, "%s", base_run ? base_run : "");
    f->effect = f->value - at_raise;
    f->test = NULL; /* the statistics were against this run's own baseline, not the alert's */
    f->significant = false;
    snprintf(f->message, sizeof f->message,
             "%s still degraded: %.4g is %.1f points below %.4g, the baseline of the open alert "
             "(%s%s), more than max_drop %.1f points; the alert resolves when a run is back "
             "within max_drop",
             rule->metric, f->value, -100 * f->effect, at_raise, base_run ? "run " : "",
             base_run ? base_run : "mean of earlier runs", 100 * rule->max_drop);
}

/* ---- dedupe, cooldown, resolve -------------------------------------------------------------- */

enum hret_monitor_action hret_monitor_decide(const struct hret_monitor_key_state *st,
                                             enum hret_monitor_verdict verdict, double now,
                                             double cooldown_s)
{
    switch (verdict) {
    case HRET_MONITOR_FIRING:
        /* A key that is not open raises at once (a new incident is news); one that is open
         * repeats at most once per cooldown. */
        if (st->open && now - st->last_raised_at < cooldown_s) {
            return HRET_MONITOR_SUPPRESS;
        }
        return HRET_MONITOR_RAISE;
    case HRET_MONITOR_OK:
        return st->open ? HRET_MONITOR_RESOLVE : HRET_MONITOR_NOTHING;
    default:
        return HRET_MONITOR_NOTHING;
    }
}

void hret_monitor_dedupe_key(const char *rule, const char *model, const char *dataset, char *out,
                             size_t cap)
{
    snprintf(out, cap, "%s|%s|%s", rule, model ? model : "", dataset ? dataset : "");
}

void hret_monitor_id(const char *what, const char *run_id, char out[33])
{
    char *text = hret_xasprintf("%s\n%s", what, run_id);
    char hex[65];
    hret_hash_sha256_hex(text, strlen(text), hex);
    free(text);
    memcpy(out, hex, 32);
    out[32] = '\0';
}

/* ---- events --------------------------------------------------------------------------------- */

static void add_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) {
        cJSON_AddNumberToObject(o, key, v);
    }
}

cJSON *hret_monitor_alert_json(const struct hret_monitor_rule_config *rule,
                               const struct hret_monitor_run *run,
                               const struct hret_monitor_finding *f, const char *alert_id,
                               const char *dedupe_key, const char *raised_at)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "alert_id", alert_id);
    cJSON_AddStringToObject(o, "rule", rule->name);
    cJSON_AddStringToObject(o, "kind", hret_monitor_kind_names[rule->kind]);
    cJSON_AddStringToObject(o, "severity", hret_monitor_severity_names[rule->severity]);
    cJSON_AddStringToObject(o, "dedupe_key", dedupe_key);
    if (run->request_id != NULL) {
        cJSON_AddStringToObject(o, "request_id", run->request_id);
    }
    cJSON_AddStringToObject(o, "run_id", run->run_id);
    cJSON_AddStringToObject(o, "model", run->model ? run->model : "unknown");
    cJSON_AddStringToObject(o, "dataset", run->dataset ? run->dataset : "unknown");
    bool failure = rule->kind == HRET_MONITOR_FAILURE || rule->kind == HRET_MONITOR_FINGERPRINT;
    const char *metric = rule->kind == HRET_MONITOR_FAILURE       ? "error_rate"
                         : rule->kind == HRET_MONITOR_FINGERPRINT ? "served_model_changed"
                                                                  : rule->metric;
    cJSON_AddStringToObject(o, "metric", metric);
    double value = failure && !isfinite(f->value) ? 1 : f->value;
    cJSON_AddNumberToObject(o, "value", isfinite(value) ? value : 0);
    if (rule->kind == HRET_MONITOR_THRESHOLD) {
        cJSON_AddStringToObject(o, "op", op_names[rule->op]);
    }
    add_number(o, "threshold", f->threshold);
    if (rule->kind == HRET_MONITOR_REGRESSION) {
        cJSON_AddNumberToObject(o, "max_drop", rule->max_drop);
        cJSON *b = cJSON_AddObjectToObject(o, "baseline");
        if (rule->baseline != NULL && strcmp(rule->baseline, "previous") != 0 &&
            strcmp(rule->baseline, "best") != 0 && strcmp(rule->baseline, "mean_last_k") != 0) {
            cJSON_AddStringToObject(b, "kind", "run");
        } else {
            cJSON_AddStringToObject(b, "kind", rule->baseline ? rule->baseline : "previous");
        }
        if (f->baseline_run[0] != '\0') {
            cJSON_AddStringToObject(b, "run_id", f->baseline_run);
        }
        add_number(b, "value", f->baseline_value);
        cJSON_AddBoolToObject(o, "significant", f->significant);
    }
    if (f->test != NULL) {
        cJSON *s = cJSON_AddObjectToObject(o, "statistics");
        cJSON_AddStringToObject(s, "test", f->test);
        add_number(s, "effect", f->effect);
        add_number(s, "p_value", f->p_value);
        cJSON_AddItemToObject(s, "mde",
                              isfinite(f->mde) ? cJSON_CreateNumber(f->mde) : cJSON_CreateNull());
        cJSON_AddNumberToObject(s, "n", (double)f->n);
    }
    if (f->details != NULL) {
        cJSON_AddItemToObject(o, "details", cJSON_Duplicate(f->details, 1));
    }
    cJSON_AddStringToObject(o, "message", f->message);
    cJSON_AddStringToObject(o, "raised_at", raised_at);
    return o;
}

cJSON *hret_monitor_resolved_json(const cJSON *alert, const struct hret_monitor_run *run,
                                  const struct hret_monitor_finding *f, const char *resolved_at)
{
    cJSON *o = cJSON_CreateObject();
    static const char *const copied[] = {"alert_id",   "rule",  "kind",    "severity",
                                         "dedupe_key", "model", "dataset", "metric"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(alert, copied[i]);
        if (v != NULL) {
            cJSON_AddItemToObject(o, copied[i], cJSON_Duplicate(v, 1));
        }
    }
    cJSON_AddStringToObject(o, "raised_by_run", str(alert, "run_id") ? str(alert, "run_id") : "");
    cJSON_AddStringToObject(o, "run_id", run->run_id);
    add_number(o, "value", f->value);
    cJSON_AddStringToObject(o, "message", f->message);
    cJSON_AddStringToObject(o, "resolved_at", resolved_at);
    return o;
}
