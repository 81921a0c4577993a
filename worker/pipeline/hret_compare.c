#include "hret_compare.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_hash.h"
#include "hret_mem.h"
#include "hret_metrics.h"

/* ---- runs ---- */

void hret_compare_run_init(struct hret_compare_run *run, const char *label)
{
    *run = (struct hret_compare_run){.label = hret_xstrdup(label ? label : "")};
}

void hret_compare_run_fini(struct hret_compare_run *run)
{
    if (run == NULL) {
        return;
    }
    for (size_t i = 0; i < run->count; i++) {
        free(run->items[i].id);
        free(run->items[i].subset);
    }
    free(run->items);
    free(run->label);
    *run = (struct hret_compare_run){0};
}

void hret_compare_run_add(struct hret_compare_run *run, const char *id, const char *subset,
                          bool correct, bool error)
{
    if (run->count == run->alloc) {
        run->alloc = run->alloc ? 2 * run->alloc : 256;
        run->items = hret_xrealloc(run->items, run->alloc * sizeof *run->items);
    }
    run->items[run->count++] = (struct hret_compare_item){hret_xstrdup(id ? id : ""),
                                                          hret_xstrdup(subset), correct, error};
}

/* ---- pairing ---- */

/* One item's contribution: a pair (both runs answered), or an answered item of one run. */
enum rec_kind { REC_PAIR, REC_A, REC_B };

struct rec {
    const char *subset; /* borrowed from the runs; NULL = no subset */
    enum rec_kind kind;
    bool ca, cb; /* correct in A / in B (for REC_A only ca, REC_B only cb) */
};

struct recs {
    struct rec *v;
    size_t n, alloc;
};

static void recs_push(struct recs *r, struct rec x)
{
    if (r->n == r->alloc) {
        r->alloc = r->alloc ? 2 * r->alloc : 256;
        r->v = hret_xrealloc(r->v, r->alloc * sizeof *r->v);
    }
    r->v[r->n++] = x;
}

struct keyed {
    const struct hret_compare_item *item;
    size_t pos;
};

static int cmp_keyed(const void *x, const void *y)
{
    const struct keyed *a = x, *b = y;
    int c = strcmp(a->item->id, b->item->id);
    if (c != 0) {
        return c;
    }
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* The run's items sorted by id, repeated ids dropped (counted in *dups). Caller frees. */
static struct keyed *sorted_unique(const struct hret_compare_run *run, size_t *n, size_t *dups)
{
    struct keyed *k = hret_xmalloc((run->count ? run->count : 1) * sizeof *k);
    for (size_t i = 0; i < run->count; i++) {
        k[i] = (struct keyed){&run->items[i], i};
    }
    qsort(k, run->count, sizeof *k, cmp_keyed);
    size_t w = 0;
    for (size_t i = 0; i < run->count; i++) {
        if (w > 0 && strcmp(k[w - 1].item->id, k[i].item->id) == 0) {
            (*dups)++;
            continue;
        }
        k[w++] = k[i];
    }
    *n = w;
    return k;
}

/* Pairs a with b by id; fills c's counts and the records of usable items. */
static void pair_runs(const struct hret_compare_run *a, const struct hret_compare_run *b,
                      struct hret_compare *c, struct recs *pairs, struct recs *singles)
{
    size_t na, nb;
    struct keyed *ka = sorted_unique(a, &na, &c->duplicates);
    struct keyed *kb = sorted_unique(b, &nb, &c->duplicates);
    c->items_a = na;
    c->items_b = nb;
    for (size_t i = 0; i < na; i++) {
        const struct hret_compare_item *x = ka[i].item;
        c->errors_a += x->error;
        c->own_a.correct += !x->error && x->correct;
        if (!x->error) {
            recs_push(singles, (struct rec){x->subset, REC_A, x->correct, false});
        }
    }
    for (size_t j = 0; j < nb; j++) {
        const struct hret_compare_item *y = kb[j].item;
        c->errors_b += y->error;
        c->own_b.correct += !y->error && y->correct;
        if (!y->error) {
            recs_push(singles, (struct rec){y->subset, REC_B, false, y->correct});
        }
    }
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        const struct hret_compare_item *x = ka[i].item, *y = kb[j].item;
        int cmp = strcmp(x->id, y->id);
        if (cmp < 0) {
            c->only_a++;
            i++;
        } else if (cmp > 0) {
            c->only_b++;
            j++;
        } else {
            c->shared++;
            if (x->error || y->error) {
                c->excluded_errors++;
            } else {
                const char *subset = x->subset ? x->subset : y->subset;
                recs_push(pairs, (struct rec){subset, REC_PAIR, x->correct, y->correct});
            }
            i++;
            j++;
        }
    }
    c->only_a += na - i;
    c->only_b += nb - j;
    free(ka);
    free(kb);
}

/* A run's own counts (correct already tallied by pair_runs) and accuracy. */
static void finish_side(struct hret_compare_side *side, size_t items, size_t errors, double z)
{
    side->items = items;
    side->errors = errors;
    side->answered = items - errors;
    side->acc = side->answered > 0 ? (double)side->correct / (double)side->answered : NAN;
    hret_metrics_wilson((double)side->correct, (double)side->answered, z, &side->acc_lo,
                        &side->acc_hi);
}

/* ---- statistics of one group ---- */

struct tally {
    struct hret_stats_paired cells;
    double ka, na, kb, nb;
};

static void tally_add(struct tally *t, const struct rec *r)
{
    if (r->kind == REC_PAIR) {
        uint64_t *cell = r->ca ? (r->cb ? &t->cells.both : &t->cells.a_only)
                               : (r->cb ? &t->cells.b_only : &t->cells.neither);
        (*cell)++;
    }
    if (r->kind != REC_B) {
        t->ka += r->ca;
        t->na++;
    }
    if (r->kind != REC_A) {
        t->kb += r->cb;
        t->nb++;
    }
}

static void finish_group(struct hret_compare_group *g, const struct tally *t, bool paired,
                         const struct hret_compare_options *opt, uint64_t seed, double *draws)
{
    double z = hret_stats_norm_ppf(1 - opt->alpha / 2);
    g->n_a = (size_t)t->na;
    g->n_b = (size_t)t->nb;
    g->cells = t->cells;
    g->correct_a = t->ka;
    g->correct_b = t->kb;
    g->acc_a = t->na > 0 ? t->ka / t->na : NAN;
    g->acc_b = t->nb > 0 ? t->kb / t->nb : NAN;
    hret_metrics_wilson(t->ka, t->na, z, &g->acc_a_lo, &g->acc_a_hi);
    hret_metrics_wilson(t->kb, t->nb, z, &g->acc_b_lo, &g->acc_b_hi);
    if (paired) {
        double n = t->na, disc = (double)(t->cells.a_only + t->cells.b_only);
        g->diff = n > 0 ? ((double)t->cells.b_only - (double)t->cells.a_only) / n : NAN;
        g->p_value = hret_stats_mcnemar_exact(t->cells.a_only, t->cells.b_only);
        g->mde = hret_stats_mde_paired(n, n > 0 ? disc / n : 0, opt->alpha, opt->power);
        hret_stats_bootstrap_paired(&t->cells, opt->bootstrap, seed, draws);
    } else {
        g->diff = t->na > 0 && t->nb > 0 ? g->acc_b - g->acc_a : NAN;
        g->p_value = hret_stats_two_prop_z(t->ka, t->na, t->kb, t->nb, NULL);
        double pooled = t->na + t->nb > 0 ? (t->ka + t->kb) / (t->na + t->nb) : 0;
        g->mde = hret_stats_mde_two_prop(t->na, t->nb, pooled, opt->alpha, opt->power);
        hret_stats_bootstrap_unpaired(t->ka, t->na, t->kb, t->nb, opt->bootstrap, seed, draws);
    }
    g->p_holm = g->p_value;
    if (isnan(g->diff)) {
        g->diff_lo = g->diff_hi = NAN;
    } else {
        g->diff_lo = hret_metrics_quantile(draws, opt->bootstrap, opt->alpha / 2);
        g->diff_hi = hret_metrics_quantile(draws, opt->bootstrap, 1 - opt->alpha / 2);
    }
}

static int cmp_rec_subset(const void *x, const void *y)
{
    const struct rec *a = x, *b = y;
    if (a->subset == NULL || b->subset == NULL) {
        return (a->subset == NULL) - (b->subset == NULL); /* no-subset items last */
    }
    return strcmp(a->subset, b->subset);
}

/* Overall and per-subset groups from the records (sorted here by subset). */
static void build_groups(struct hret_compare *c, struct recs *r, double *draws)
{
    const struct hret_compare_options *opt = &c->options;
    struct tally all = {0};
    for (size_t i = 0; i < r->n; i++) {
        tally_add(&all, &r->v[i]);
    }
    finish_group(&c->overall, &all, c->paired, opt, opt->seed, draws);
    qsort(r->v, r->n, sizeof *r->v, cmp_rec_subset);
    for (size_t i = 0; i < r->n && r->v[i].subset != NULL;) {
        const char *name = r->v[i].subset;
        struct tally t = {0};
        for (; i < r->n && r->v[i].subset != NULL && strcmp(r->v[i].subset, name) == 0; i++) {
            tally_add(&t, &r->v[i]);
        }
        c->subsets = hret_xrealloc(c->subsets, (c->n_subsets + 1) * sizeof *c->subsets);
        struct hret_compare_group *g = &c->subsets[c->n_subsets++];
        *g = (struct hret_compare_group){.name = hret_xstrdup(name)};
        /* per-subset seeds depend on the name only, not on which other subsets exist */
        uint64_t seed = opt->seed ^ hret_hash_fnv1a64(name, strlen(name));
        finish_group(g, &t, c->paired, opt, seed, draws);
    }
    if (c->n_subsets > 0) {
        double *p = hret_xmalloc(c->n_subsets * sizeof *p);
        for (size_t i = 0; i < c->n_subsets; i++) {
            p[i] = c->subsets[i].p_value;
        }
        hret_stats_holm(p, p, c->n_subsets);
        for (size_t i = 0; i < c->n_subsets; i++) {
            c->subsets[i].p_holm = p[i];
        }
        free(p);
    }
}

/* ---- verdict ---- */

void hret_compare_format_p(double p, char *out, size_t cap)
{
    if (isnan(p)) {
        snprintf(out, cap, "= n/a");
    } else if (p < 1e-4) {
        snprintf(out, cap, "< 0.0001");
    } else {
        snprintf(out, cap, "= %.2g", p);
    }
}

/* The bootstrap interval of the difference and the test answer different questions and can
 * disagree near the threshold, most often with few discordant items: say which one the verdict
 * follows and why, instead of leaving a reader with an interval that excludes 0 next to "no
 * significant difference". */
static void write_note(struct hret_compare *c)
{
    const struct hret_compare_group *g = &c->overall;
    bool excludes0 = g->diff_lo > 0 || g->diff_hi < 0;
    if (excludes0 == c->significant || isnan(g->diff_lo) || isnan(g->p_value)) {
        return;
    }
    char p[32];
    hret_compare_format_p(g->p_value, p, sizeof p);
    const char *test = c->paired ? "McNemar's exact p" : "the two-proportion test's p";
    char few[64];
    if (c->paired) {
        snprintf(few, sizeof few, "only %" PRIu64 " discordant items",
                 g->cells.a_only + g->cells.b_only);
    } else {
        snprintf(few, sizeof few, "%zu and %zu items", g->n_a, g->n_b);
    }
    if (excludes0) {
        snprintf(c->note, sizeof c->note,
                 "the bootstrap interval excludes 0 but %s %s is above %g: the verdict follows "
                 "the test; with %s the percentile bootstrap is too narrow to rely on (it cannot "
                 "draw what the sample never showed), and more items would settle it",
                 test, p, c->options.alpha, few);
    } else {
        snprintf(c->note, sizeof c->note,
                 "%s %s is below %g but the bootstrap interval includes 0: the verdict follows "
                 "the test; the interval is an approximation that is wide at this sample size",
                 test, p, c->options.alpha);
    }
}

static void write_verdict(struct hret_compare *c)
{
    const struct hret_compare_group *g = &c->overall;
    const char *test = c->paired ? "McNemar p" : "two-proportion p";
    const char *prefix =
        c->paired ? "" : "the runs share no items, compared as independent samples: ";
    char p[32];
    hret_compare_format_p(g->p_value, p, sizeof p);
    c->significant = g->p_value < c->options.alpha;
    c->direction = c->significant ? (g->diff > 0 ? 1 : g->diff < 0 ? -1 : 0) : 0;
    if (c->direction != 0) {
        snprintf(c->verdict, sizeof c->verdict,
                 "%sB is %s than A by %+.1f points (%g%% CI %+.1f to %+.1f), %s %s", prefix,
                 c->direction > 0 ? "better" : "worse", 100 * g->diff, 100 * (1 - c->options.alpha),
                 100 * g->diff_lo, 100 * g->diff_hi, test, p);
        return;
    }
    char tail[160];
    if (!isnan(g->mde)) {
        snprintf(tail, sizeof tail,
                 "a difference of %.1f points would be detectable at this sample size",
                 100 * g->mde);
    } else if (c->paired && g->cells.a_only + g->cells.b_only == 0) {
        snprintf(tail, sizeof tail, "the runs agree on every shared item");
    } else if (c->paired) {
        snprintf(tail, sizeof tail, "too few discordant items for any difference to be detectable");
    } else {
        snprintf(tail, sizeof tail, "every answered item is %s in both runs",
                 g->correct_a > 0 ? "right" : "wrong");
    }
    snprintf(c->verdict, sizeof c->verdict, "%sno significant difference (%s %s); %s", prefix, test,
             p, tail);
}

enum hret_result hret_compare_runs(const struct hret_compare_run *a,
                                   const struct hret_compare_run *b,
                                   const struct hret_compare_options *opt,
                                   struct hret_compare **out, struct hret_err *err)
{
    *out = NULL;
    if (opt->bootstrap < 1 || !(opt->alpha > 0 && opt->alpha < 1) ||
        !(opt->power > 0 && opt->power < 1)) {
        return hret_err_set(err, HRET_E_INVAL,
                            "compare: bootstrap must be >= 1, alpha and power in (0, 1)");
    }
    struct hret_compare *c = hret_xcalloc(1, sizeof *c);
    c->label_a = hret_xstrdup(a->label);
    c->label_b = hret_xstrdup(b->label);
    c->options = *opt;
    struct recs pairs = {0}, singles = {0};
    pair_runs(a, b, c, &pairs, &singles);
    double z = hret_stats_norm_ppf(1 - opt->alpha / 2);
    finish_side(&c->own_a, c->items_a, c->errors_a, z);
    finish_side(&c->own_b, c->items_b, c->errors_b, z);
    c->paired = pairs.n > 0;
    struct recs *use = c->paired ? &pairs : &singles;
    bool has_a = false, has_b = false;
    for (size_t i = 0; i < use->n; i++) {
        has_a |= use->v[i].kind != REC_B;
        has_b |= use->v[i].kind != REC_A;
    }
    if (!has_a || !has_b) {
        hret_err_set(err, HRET_E_INVAL,
                     "nothing to compare: the runs share no answered item and %s has no answered "
                     "item (%zu items, %zu errors)",
                     has_a ? "B" : "A", has_a ? c->items_b : c->items_a,
                     has_a ? c->errors_b : c->errors_a);
        free(pairs.v);
        free(singles.v);
        hret_compare_destroy(c);
        return HRET_E_INVAL;
    }
    double *draws = hret_xmalloc(opt->bootstrap * sizeof *draws);
    build_groups(c, use, draws);
    write_verdict(c);
    write_note(c);
    free(draws);
    free(pairs.v);
    free(singles.v);
    *out = c;
    return HRET_OK;
}

void hret_compare_destroy(struct hret_compare *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->n_subsets; i++) {
        free(c->subsets[i].name);
    }
    free(c->subsets);
    free(c->label_a);
    free(c->label_b);
    free(c);
}

/* ---- JSON ---- */

static void add_num(cJSON *o, const char *key, double v)
{
    if (isnan(v) || isinf(v)) {
        cJSON_AddNullToObject(o, key);
    } else {
        cJSON_AddNumberToObject(o, key, v);
    }
}

static void add_interval(cJSON *o, const char *key, double lo, double hi)
{
    cJSON *arr = cJSON_AddArrayToObject(o, key);
    cJSON_AddItemToArray(arr, isnan(lo) ? cJSON_CreateNull() : cJSON_CreateNumber(lo));
    cJSON_AddItemToArray(arr, isnan(hi) ? cJSON_CreateNull() : cJSON_CreateNumber(hi));
}

static cJSON *group_json(const struct hret_compare_group *g, bool paired, double alpha)
{
    cJSON *o = cJSON_CreateObject();
    if (g->name != NULL) {
        cJSON_AddStringToObject(o, "name", g->name);
    }
    add_num(o, "n_a", (double)g->n_a);
    add_num(o, "n_b", (double)g->n_b);
    add_num(o, "accuracy_a", g->acc_a);
    add_interval(o, "accuracy_a_ci", g->acc_a_lo, g->acc_a_hi);
    add_num(o, "accuracy_b", g->acc_b);
    add_interval(o, "accuracy_b_ci", g->acc_b_lo, g->acc_b_hi);
    add_num(o, "difference", g->diff);
    add_interval(o, "difference_ci", g->diff_lo, g->diff_hi);
    if (paired) {
        add_num(o, "pairs", (double)g->n_a);
        add_num(o, "both_right", (double)g->cells.both);
        add_num(o, "a_right_b_wrong", (double)g->cells.a_only);
        add_num(o, "a_wrong_b_right", (double)g->cells.b_only);
        add_num(o, "both_wrong", (double)g->cells.neither);
    }
    add_num(o, "p_value", g->p_value);
    if (g->name != NULL) {
        add_num(o, "p_holm", g->p_holm);
    }
    cJSON_AddBoolToObject(o, "significant", g->p_holm < alpha);
    add_num(o, "mde", g->mde);
    return o;
}

static cJSON *run_json(const char *label, const struct hret_compare_side *side)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", label);
    add_num(o, "items", (double)side->items);
    add_num(o, "errors", (double)side->errors);
    add_num(o, "answered", (double)side->answered);
    add_num(o, "correct", (double)side->correct);
    add_num(o, "accuracy", side->acc);
    add_interval(o, "accuracy_ci", side->acc_lo, side->acc_hi);
    return o;
}

cJSON *hret_compare_json(const struct hret_compare *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "a", run_json(c->label_a, &c->own_a));
    cJSON_AddItemToObject(o, "b", run_json(c->label_b, &c->own_b));
    cJSON_AddBoolToObject(o, "paired", c->paired);
    cJSON_AddStringToObject(o, "test", c->paired ? "mcnemar_exact" : "two_proportion_z");
    add_num(o, "shared_items", (double)c->shared);
    add_num(o, "excluded_errors", (double)c->excluded_errors);
    add_num(o, "only_in_a", (double)c->only_a);
    add_num(o, "only_in_b", (double)c->only_b);
    add_num(o, "duplicate_ids", (double)c->duplicates);
    add_num(o, "alpha", c->options.alpha);
    add_num(o, "power", c->options.power);
    cJSON *bs = cJSON_AddObjectToObject(o, "bootstrap");
    add_num(bs, "replicates", (double)c->options.bootstrap);
    add_num(bs, "seed", (double)c->options.seed);
    cJSON_AddStringToObject(bs, "interval", "percentile");
    cJSON_AddItemToObject(o, "overall", group_json(&c->overall, c->paired, c->options.alpha));
    cJSON *subsets = cJSON_AddArrayToObject(o, "subsets");
    for (size_t i = 0; i < c->n_subsets; i++) {
        cJSON_AddItemToArray(subsets, group_json(&c->subsets[i], c->paired, c->options.alpha));
    }
    cJSON_AddBoolToObject(o, "significant", c->significant);
    if (c->direction != 0) {
        cJSON_AddStringToObject(o, "better", c->direction > 0 ? "b" : "a");
    } else {
        cJSON_AddNullToObject(o, "better");
    }
    cJSON_AddStringToObject(o, "verdict", c->verdict);
    if (c->note[0] != '\0') {
        cJSON_AddStringToObject(o, "note", c->note);
    }
    return o;
}
