/* hret compare RUN_A RUN_B: paired significance test between two runs.
 *
 * A run comes from a source: a results JSON file written by `hret run` (or by HRET itself), or
 * a run id stored in PostgreSQL (by a worker or `hret run --db`). Sources only fill a struct
 * hret_compare_run; the statistics (hret_compare.c) never know where the outcomes came from,
 * and the worker's comparison events use the same loader and the same statistics. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hret_buf.h"
#include "hret_cli.h"
#include "hret_compare.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_results.h"
#include "hret_store_cli.h"
#include "hret_store_query.h"

#define SUBSET_ROWS 20 /* subsets shown before "N more" */

/* ---- sources ---- */

/* Where stored runs come from: opened on the first run id. */
struct store_ctx {
    const char *config, *db; /* borrowed, nullable */
    bool opened;
    struct hret_store_cli cli;
};

struct source {
    const char *what; /* for messages */
    bool (*claims)(const char *arg);
    /* Fills run (initialised by the caller). HRET_E_INVAL: not this kind of run. */
    enum hret_result (*load)(struct store_ctx *ctx, const char *arg, struct hret_compare_run *run,
                             struct hret_err *err);
};

static bool is_file(const char *arg)
{
    struct stat st;
    return stat(arg, &st) == 0 && S_ISREG(st.st_mode);
}

static enum hret_result load_results_file(struct store_ctx *ctx, const char *path,
                                          struct hret_compare_run *run, struct hret_err *err)
{
    (void)ctx;
    cJSON *doc = hret_results_read(path, err);
    if (doc == NULL) {
        return HRET_E_INVAL;
    }
    enum hret_result r = hret_results_compare_run(doc, run, err);
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(doc, "run_metadata");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(md, "model");
    if (r != HRET_OK) {
        hret_err_prefix(err, "%s", path);
    } else if (cJSON_IsString(model)) {
        char *label = hret_xasprintf("%s (model %s)", path, model->valuestring);
        free(run->label);
        run->label = label;
    }
    cJSON_Delete(doc);
    return r;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Anything that is not a file, does not look like a path (a/b, x.json) and could be a run id
 * (the events' id pattern). */
static bool is_run_id(const char *arg)
{
    size_t n = strlen(arg);
    if (n == 0 || n > 128 || is_file(arg) || ends_with(arg, ".json") || ends_with(arg, ".jsonl")) {
        return false;
    }
    for (const char *p = arg; *p; p++) {
        if (!(isalnum((unsigned char)*p) || strchr("._:-", *p) != NULL)) {
            return false;
        }
    }
    return true;
}

static enum hret_result load_stored_run(struct store_ctx *ctx, const char *run_id,
                                        struct hret_compare_run *run, struct hret_err *err)
{
    if (!ctx->opened) {
        ctx->opened = true;
        int rc = hret_store_cli_open(&ctx->cli, "hret compare", ctx->config, ctx->db, false);
        if (rc != HRET_EXIT_OK) { /* no database configured is usage; one that fails is not */
            return hret_err_set(err, rc == HRET_EXIT_USAGE ? HRET_E_CONFIG : HRET_E_UNAVAILABLE,
                                "%s is not a file, and stored runs need the database (--db, "
                                "HRET_PG or postgres.conninfo)",
                                run_id);
        }
    }
    if (ctx->cli.store == NULL) {
        return hret_err_set(err, HRET_E_UNAVAILABLE, "no database for run %s", run_id);
    }
    struct hret_store_run_row r = {0};
    if (hret_store_run_find(ctx->cli.store, run_id, &r, err) != HRET_OK) {
        hret_err_prefix(err, "%s is not a results file", run_id);
        return err->code;
    }
    enum hret_result res = hret_store_samples_compare_run(ctx->cli.store, r.run_id, run, err);
    if (res == HRET_OK && run->count == 0) {
        res = hret_err_set(err, HRET_E_INVAL, "run %s (%s) has no stored samples", r.run_id,
                           r.status);
    }
    if (res == HRET_OK) {
        free(run->label);
        run->label = hret_xasprintf("run %s%s%s (model %s)", r.run_id, r.run_name ? " " : "",
                                    r.run_name ? r.run_name : "", r.model_name);
    }
    hret_store_run_row_fini(&r);
    return res;
}

/* Tried in order; the first that claims the argument loads it. */
static const struct source sources[] = {
    {"results file", is_file, load_results_file},
    {"stored run", is_run_id, load_stored_run},
};

static enum hret_result load_run(struct store_ctx *ctx, const char *arg,
                                 struct hret_compare_run *run, struct hret_err *err)
{
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        if (sources[i].claims(arg)) {
            return sources[i].load(ctx, arg, run, err);
        }
    }
    return hret_err_set(err, HRET_E_INVAL, "%s: no such results file", arg);
}

/* ---- human output ---- */

/* "0.0012" or "<0.0001" */
static void table_p(double p, char *out, size_t cap)
{
    char f[32];
    hret_compare_format_p(p, f, sizeof f);
    snprintf(out, cap, "%s", f[0] == '=' ? f + 2 : "<0.0001");
}

static void print_group_row(const char *name, const struct hret_compare_group *g, bool paired,
                            bool holm)
{
    char p[32], ph[32];
    table_p(g->p_value, p, sizeof p);
    table_p(g->p_holm, ph, sizeof ph);
    printf("%-28.28s %6zu", name, g->n_a);
    if (!paired) {
        printf(" %6zu", g->n_b);
    }
    printf(" %6.1f %6.1f %+7.1f [%+6.1f, %+6.1f]", 100 * g->acc_a, 100 * g->acc_b, 100 * g->diff,
           100 * g->diff_lo, 100 * g->diff_hi);
    if (paired) {
        printf(" %6" PRIu64 " %6" PRIu64, g->cells.a_only, g->cells.b_only);
    }
    if (holm) {
        printf("  %-8s %s\n", p, ph);
    } else {
        printf("  %s\n", p);
    }
}

static int cmp_subset_p(const void *x, const void *y)
{
    const struct hret_compare_group *a = *(const struct hret_compare_group *const *)x;
    const struct hret_compare_group *b = *(const struct hret_compare_group *const *)y;
    if (a->p_value != b->p_value) {
        return (a->p_value > b->p_value) - (a->p_value < b->p_value);
    }
    return strcmp(a->name, b->name);
}

static void print_header(bool paired, bool holm)
{
    printf("%-28s", "");
    if (paired) {
        printf(" %6s", "pairs");
    } else {
        printf(" %6s %6s", "n A", "n B");
    }
    printf(" %6s %6s %7s %-17s", "acc A", "acc B", "B-A", " 95% CI");
    if (paired) {
        printf(" %6s %6s", "A+B-", "A-B+");
    }
    const char *test = paired ? "McNemar" : "z-test";
    if (holm) {
        printf("  %-8s %s\n", test, "Holm");
    } else {
        printf("  %s\n", test);
    }
}

/* A run's own figures, over every item it answered (shared with the other run or not). */
static void print_side(const char *which, const char *label, const struct hret_compare_side *s)
{
    printf("%s: %s: %zu items, %zu errors; accuracy %.1f%% of %zu answered (Wilson 95%% %.1f to "
           "%.1f)\n",
           which, label, s->items, s->errors, 100 * s->acc, s->answered, 100 * s->acc_lo,
           100 * s->acc_hi);
}

static void print_human(const struct hret_compare *c)
{
    const struct hret_compare_group *g = &c->overall;
    print_side("A", c->label_a, &c->own_a);
    print_side("B", c->label_b, &c->own_b);
    if (c->paired) {
        printf("paired on %zu shared items (%zu excluded for errors; %zu only in A, %zu only in "
               "B): on them A %.1f%%, B %.1f%% (the table below)\n",
               g->n_a, c->excluded_errors, c->only_a, c->only_b, 100 * g->acc_a, 100 * g->acc_b);
    } else {
        printf("no shared items: independent samples, pooled two-proportion z-test\n");
    }
    if (c->duplicates > 0) {
        printf("%zu repeated item ids ignored (the first occurrence counts)\n", c->duplicates);
    }
    printf("accuracies and differences in points; bootstrap %zu replicates, seed %" PRIu64 "\n\n",
           c->options.bootstrap, c->options.seed);
    print_header(c->paired, false);
    print_group_row("overall", &c->overall, c->paired, false);
    if (c->n_subsets > 1) {
        const struct hret_compare_group **order = hret_xmalloc(c->n_subsets * sizeof *order);
        for (size_t i = 0; i < c->n_subsets; i++) {
            order[i] = &c->subsets[i];
        }
        qsort(order, c->n_subsets, sizeof *order, cmp_subset_p);
        printf("\nsubsets, lowest p first (Holm-adjusted across %zu subsets):\n", c->n_subsets);
        print_header(c->paired, true);
        size_t shown = c->n_subsets < SUBSET_ROWS ? c->n_subsets : SUBSET_ROWS;
        for (size_t i = 0; i < shown; i++) {
            print_group_row(order[i]->name, order[i], c->paired, true);
        }
        if (shown < c->n_subsets) {
            printf("... %zu more subsets (--json lists all)\n", c->n_subsets - shown);
        }
        free(order);
    }
    printf("\nverdict: %s\n", c->verdict);
    if (c->note[0] != '\0') {
        printf("note: %s\n", c->note);
    }
}

/* ---- command ---- */

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

int hret_cmd_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},       {"bootstrap", required_argument, NULL, 'b'},
        {"seed", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'D'},   {NULL, 0, NULL, 0},
    };
    struct store_ctx ctx = {0};
    struct hret_compare_options opt = HRET_COMPARE_OPTIONS_DEFAULT;
    bool json = false;
    uint64_t v;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'j':
            json = true;
            break;
        case 'c':
            ctx.config = optarg;
            break;
        case 'D':
            ctx.db = optarg;
            break;
        case 'b':
            if (!parse_u64(optarg, 10000000, &v) || v < 1) {
                fprintf(stderr, "hret compare: --bootstrap expects 1..10000000, got '%s'\n",
                        optarg);
                return HRET_EXIT_USAGE;
            }
            opt.bootstrap = (size_t)v;
            break;
        case 's':
            if (!parse_u64(optarg, (1ULL << 53) - 1, &v)) { /* exact in JSON */
                fprintf(stderr, "hret compare: --seed expects 0..2^53-1, got '%s'\n", optarg);
                return HRET_EXIT_USAGE;
            }
            opt.seed = v;
            break;
        default:
            fprintf(stderr, "hret compare: see hret help compare\n");
            return HRET_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: hret compare RUN_A RUN_B [--json] [--bootstrap N] [--seed S] "
                        "[--db CONNINFO] [--config FILE]\n");
        return HRET_EXIT_USAGE;
    }
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, argv[optind]);
    hret_compare_run_init(&b, argv[optind + 1]);
    struct hret_compare *c = NULL;
    struct hret_err err = HRET_ERR_INIT;
    int rc = HRET_EXIT_USAGE;
    if (load_run(&ctx, argv[optind], &a, &err) != HRET_OK ||
        load_run(&ctx, argv[optind + 1], &b, &err) != HRET_OK ||
        hret_compare_runs(&a, &b, &opt, &c, &err) != HRET_OK) {
        fprintf(stderr, "hret compare: %s\n", err.msg);
        rc = hret_result_is_retriable(err.code) ? HRET_EXIT_FAILURE : HRET_EXIT_USAGE;
        goto cleanup;
    }
    if (json) {
        cJSON *j = hret_compare_json(c);
        char *text = cJSON_Print(j);
        if (text == NULL) {
            abort(); /* cJSON fails only on OOM */
        }
        printf("%s\n", text);
        free(text);
        cJSON_Delete(j);
    } else {
        print_human(c);
    }
    rc = HRET_EXIT_OK;
cleanup:
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
    if (ctx.opened) {
        hret_store_cli_close(&ctx.cli);
    }
    return rc;
}
