/* hret runs list|show|export: stored runs, read back from PostgreSQL. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hret_buf.h"
#include "hret_cli.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_results.h"
#include "hret_store_bench.h"
#include "hret_sink_local.h"
#include "hret_store_cli.h"
#include "hret_store_import.h"
#include "hret_store_export.h"
#include "hret_store_query.h"

#define RESULTS_MAX ((size_t)1 << 30) /* bytes of a results JSON to import */

struct runs_args {
    const char *config, *db, *output;
    const char *track; /* export --track SINKS */
    struct hret_store_run_filter filter;
    bool json;
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"db", required_argument, NULL, 'B'},
    {"model", required_argument, NULL, 'm'},
    {"dataset", required_argument, NULL, 'd'},
    {"since", required_argument, NULL, 's'},
    {"status", required_argument, NULL, 'S'},
    {"limit", required_argument, NULL, 'l'},
    {"json", no_argument, NULL, 'j'},
    {"output", required_argument, NULL, 'o'},
    {"track", required_argument, NULL, 't'},
    {NULL, 0, NULL, 0},
};

static int parse_args(int argc, char **argv, struct runs_args *a)
{
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:m:d:o:", long_options, NULL)) != -1;) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'B':
            a->db = optarg;
            break;
        case 'm':
            a->filter.model = optarg;
            break;
        case 'd':
            a->filter.dataset = optarg;
            break;
        case 's':
            a->filter.since = optarg;
            break;
        case 'S':
            a->filter.status = optarg;
            break;
        case 'l':
            a->filter.limit = atol(optarg);
            break;
        case 'j':
            a->json = true;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 't':
            a->track = optarg;
            break;
        default:
            return HRET_EXIT_USAGE;
        }
    }
    return HRET_EXIT_OK;
}

static double metric(const cJSON *m, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void print_json(cJSON *doc)
{
    char *text = hret_json_print(doc);
    puts(text);
    free(text);
    cJSON_Delete(doc);
}

static int list(struct hret_store *s, const struct runs_args *a)
{
    struct hret_store_run_row *rows = NULL;
    size_t n = 0;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_runs_list(s, &a->filter, &rows, &n, &err) != HRET_OK) {
        return hret_store_cli_fail("hret runs list", &err);
    }
    if (a->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON_AddItemToArray(arr, hret_store_run_row_json(&rows[i]));
        }
        print_json(arr);
    } else {
        printf("%-8s  %-20s  %-9s  %-16s  %-12s  %7s  %8s  %s\n", "RUN", "CREATED", "STATUS",
               "MODEL", "DATASET", "SAMPLES", "ACCURACY", "NAME");
        for (size_t i = 0; i < n; i++) {
            const struct hret_store_run_row *r = &rows[i];
            double acc = metric(r->metrics, "accuracy");
            char accs[32] = "-";
            if (!isnan(acc)) {
                snprintf(accs, sizeof accs, "%.4f", acc);
            }
            printf("%-8.8s  %-20s  %-9s  %-16s  %-12s  %7lld  %8s  %s\n", r->run_id, r->created_at,
                   r->status, r->model_name, r->dataset_name, r->done, accs,
                   r->run_name ? r->run_name : "");
        }
        if (n == 0) {
            printf("(no runs match)\n");
        }
    }
    hret_store_run_rows_free(rows, n);
    return HRET_EXIT_OK;
}

static int by_key(const void *x, const void *y)
{
    const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
    bool sa = strchr(a->string, '/') != NULL, sb = strchr(b->string, '/') != NULL;
    return sa != sb ? (int)sa - (int)sb : strcmp(a->string, b->string);
}

/* Whole-run metrics first, then per-subset ones, each alphabetical. */
static void print_metrics(const cJSON *m)
{
    size_t n = (size_t)cJSON_GetArraySize(m), k = 0;
    const cJSON **items = hret_xcalloc(n ? n : 1, sizeof *items);
    for (const cJSON *it = m ? m->child : NULL; it != NULL; it = it->next) {
        items[k++] = it;
    }
    qsort(items, k, sizeof *items, by_key);
    for (size_t i = 0; i < k; i++) {
        if (cJSON_IsNumber(items[i])) {
            printf("  %-44s %.6g\n", items[i]->string, items[i]->valuedouble);
        }
    }
    free(items);
}

static void print_run(const struct hret_store_run_row *r)
{
    char *meta = r->metadata ? hret_json_print(r->metadata) : hret_xstrdup("{}");
    char started[40] = "-", finished[40] = "-";
    if (!isnan(r->started_at)) {
        hret_results_iso_time(r->started_at, started, sizeof started);
    }
    if (!isnan(r->finished_at)) {
        hret_results_iso_time(r->finished_at, finished, sizeof finished);
    }
    printf("run        %s%s%s\n", r->run_id, r->run_name ? "  name " : "",
           r->run_name ? r->run_name : "");
    printf("status     %s%s%s\n", r->status, r->error ? ": " : "", r->error ? r->error : "");
    printf("model      %s (%s, served as %s) at %s\n", r->model_name,
           r->model_id ? r->model_id : "-", r->served_model ? r->served_model : "-",
           r->endpoint ? r->endpoint : "-");
    printf("dataset    %s version %s, split %s, method %s\n", r->dataset_name,
           r->dataset_version ? r->dataset_version : "-", r->split ? r->split : "-",
           r->method ? r->method : "-");
    printf("samples    %lld planned, %lld done, %lld errors, %lld cached responses reused\n",
           r->planned, r->done, r->errors, r->cache_hits);
    printf("time       created %s, started %s, finished %s\n", r->created_at, started, finished);
    if (r->request_id != NULL) {
        printf("request    %s\n", r->request_id);
    }
    printf("metadata   %s\n", meta);
    printf("metrics%s\n", r->metrics ? "" : "    (none yet)");
    print_metrics(r->metrics);
    free(meta);
}

static int show(struct hret_store *s, const char *ref, const struct runs_args *a)
{
    struct hret_store_run_row r = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_run_find(s, ref, &r, &err) != HRET_OK) {
        return hret_store_cli_fail("hret runs show", &err);
    }
    if (a->json) {
        print_json(hret_store_run_row_json(&r));
    } else {
        print_run(&r);
    }
    hret_store_run_row_fini(&r);
    return HRET_EXIT_OK;
}

/* --track: the stored run to the sinks in this process, bridge_state kept in the database. */
static int track_run(struct hret_store_cli *cli, const struct hret_store_run_row *r,
                     const char *spec)
{
    struct hret_strlist sinks = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_sink_local_select(&cli->cfg, spec, &sinks, &err) != HRET_OK) {
        fprintf(stderr, "hret runs export: %s\n", err.msg);
        return HRET_EXIT_USAGE;
    }
    struct hret_results_meta meta;
    hret_store_run_results_meta(r, &meta);
    cJSON *md = hret_results_run_metadata(&meta);
    cJSON *empty = cJSON_CreateObject();
    int status = HRET_EXIT_OK;
    if (hret_sink_local_deliver(&cli->cfg, cli->store, &sinks, md, r->metrics ? r->metrics : empty,
                                &err) != HRET_OK) {
        fprintf(stderr, "hret runs export: tracking: %s\n", err.msg);
        status = HRET_EXIT_FAILURE;
    } else {
        fprintf(stderr, "tracked run %s in %zu sink%s\n", r->run_id, sinks.count,
                sinks.count == 1 ? "" : "s");
    }
    cJSON_Delete(empty);
    cJSON_Delete(md);
    hret_strlist_fini(&sinks);
    return status;
}

/* The results JSON `hret run` wrote, rebuilt from the rows: to --output or stdout (with --track
 * and no --output: only tracked). */
static int export_run(struct hret_store_cli *cli, const char *ref, const struct runs_args *a)
{
    struct hret_store_run_row r = {0};
    struct hret_err err = HRET_ERR_INIT;
    size_t n = 0;
    int status = HRET_EXIT_OK;
    bool write = a->output != NULL || a->track == NULL;
    if (hret_store_run_find(cli->store, ref, &r, &err) != HRET_OK ||
        (write &&
         hret_store_export_run(cli->store, &r, a->output ? a->output : "-", &n, &err) != HRET_OK)) {
        status = hret_store_cli_fail("hret runs export", &err);
    } else if (a->output != NULL) {
        fprintf(stderr, "exported run %s (%zu samples) to %s\n", r.run_id, n, a->output);
    }
    if (status == HRET_EXIT_OK && a->track != NULL) {
        status = track_run(cli, &r, a->track);
    }
    hret_store_run_row_fini(&r);
    return status;
}

/* The results JSON at path, or NULL after saying why (caller owns result). */
static cJSON *read_results(const char *path)
{
    struct hret_buf b;
    hret_buf_init(&b, RESULTS_MAX);
    struct hret_err err = HRET_ERR_INIT;
    cJSON *doc = NULL;
    if (hret_buf_append_file(&b, path, &err) == HRET_OK) {
        doc = hret_json_parse(b.data, b.len, RESULTS_MAX, &err);
    }
    hret_buf_fini(&b);
    if (doc == NULL) {
        fprintf(stderr, "hret runs import: %s: %s\n", path, err.msg);
    }
    return doc;
}

/* hret runs import: a kept results JSON stored as a run (hret_store_run_import). */
static int import_run(struct hret_store *s, const char *path, const cJSON *doc)
{
    char run_id[37];
    size_t n = 0;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_run_import(s, doc, run_id, &n, &err) != HRET_OK) {
        fprintf(stderr, "hret runs import: %s: %s\n", path, err.msg);
        return err.code == HRET_E_INVAL ? HRET_EXIT_USAGE : HRET_EXIT_FAILURE;
    }
    printf("imported %s as run %s (%zu samples)\n", path, run_id, n);
    return HRET_EXIT_OK;
}

/* Undocumented: `hret runs bench-write N` times the sample write path (tests/bench/run.sh). */
static int bench(int argc, char **argv)
{
    struct runs_args a = {0};
    if (parse_args(argc - 1, argv + 1, &a) != HRET_EXIT_OK || argc - 1 - optind != 1) {
        fprintf(stderr, "usage: hret runs bench-write N [--db CONNINFO]\n");
        return HRET_EXIT_USAGE;
    }
    size_t n = (size_t)strtoull(argv[1 + optind], NULL, 10);
    struct hret_store_cli cli;
    int status = hret_store_cli_open(&cli, "hret runs bench-write", a.config, a.db, true);
    if (status == HRET_EXIT_OK) {
        status = hret_store_bench_write(cli.store, n);
    }
    hret_store_cli_close(&cli);
    return status;
}

int hret_cmd_runs(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub != NULL && strcmp(sub, "bench-write") == 0) {
        return bench(argc, argv);
    }
    bool needs_run = sub && (strcmp(sub, "show") == 0 || strcmp(sub, "export") == 0 ||
                             strcmp(sub, "import") == 0);
    if (sub == NULL || (!needs_run && strcmp(sub, "list") != 0)) {
        fprintf(stderr, "hret runs: expected list, show RUN, export RUN or import RESULTS.json "
                        "(see hret help runs)\n");
        return HRET_EXIT_USAGE;
    }
    struct runs_args a = {0};
    if (parse_args(argc - 1, argv + 1, &a) != HRET_EXIT_OK) {
        return HRET_EXIT_USAGE;
    }
    int positional = argc - 1 - optind;
    if (positional != (needs_run ? 1 : 0)) {
        fprintf(stderr, "hret runs %s: %s\n", sub,
                strcmp(sub, "import") == 0 ? "expected one RESULTS.json"
                : needs_run                ? "expected one RUN (an id, a prefix or a run name)"
                                           : "unexpected argument");
        return HRET_EXIT_USAGE;
    }
    const char *ref = needs_run ? argv[1 + optind] : NULL;
    cJSON *doc = NULL;
    if (strcmp(sub, "import") == 0 && (doc = read_results(ref)) == NULL) {
        return HRET_EXIT_USAGE;
    }
    struct hret_store_cli cli;
    int status = hret_store_cli_open(&cli, "hret runs", a.config, a.db, false);
    if (status == HRET_EXIT_OK) {
        status = strcmp(sub, "list") == 0     ? list(cli.store, &a)
                 : strcmp(sub, "show") == 0   ? show(cli.store, ref, &a)
                 : strcmp(sub, "import") == 0 ? import_run(cli.store, ref, doc)
                                              : export_run(&cli, ref, &a);
    }
    cJSON_Delete(doc);
    hret_store_cli_close(&cli);
    return status;
}
