/* hret report RUN_OR_FILE... --html FILE: the runs as one self-contained HTML page
 * (hret_report.c draws it). A run is a results JSON file or a stored run (id, 8+ character
 * prefix or name, through the one resolver the other commands use); with a database the page
 * also shows the metric's history of the first run's model on its dataset, with the monitor's
 * threshold rules and the alerts it raised. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hret_cli.h"
#include "hret_mem.h"
#include "hret_outfile.h"
#include "hret_report.h"
#include "hret_results.h"
#include "hret_store_cli.h"
#include "hret_store_export.h"
#include "hret_store_query.h"

#define MAX_RUNS 32

struct report_args {
    const char *html, *config, *db, *title, *metric;
    long samples;
    bool history; /* --db given: read the history */
};

/* Where stored runs come from: opened on the first stored run or for the history. */
struct report_ctx {
    const struct report_args *a;
    bool opened;
    int open_status;
    struct hret_store_cli cli;
};

static int open_store(struct report_ctx *c)
{
    if (!c->opened) {
        c->opened = true;
        c->open_status = hret_store_cli_open(&c->cli, "hret report", c->a->config, c->a->db, false);
        if (c->open_status == HRET_EXIT_OK && c->cli.store == NULL) {
            fprintf(stderr, "hret report: stored runs need the database (--db, HRET_PG or "
                            "postgres.conninfo)\n");
            c->open_status = HRET_EXIT_USAGE;
        }
    }
    return c->open_status;
}

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A stored run's results document, through a temporary file (the export hret runs export
 * writes). *label gets the run id (caller owns). */
static cJSON *load_stored(struct report_ctx *c, const char *ref, char **label, int *status)
{
    struct hret_store_run_row r = {0};
    struct hret_err err = HRET_ERR_INIT;
    char tmp[] = "/tmp/hret_report_XXXXXX";
    int fd = -1;
    cJSON *doc = NULL;
    if ((*status = open_store(c)) != HRET_EXIT_OK) {
        return NULL;
    }
    if (hret_store_run_find(c->cli.store, ref, &r, &err) != HRET_OK || (fd = mkstemp(tmp)) < 0 ||
        hret_store_export_run(c->cli.store, &r, tmp, NULL, &err) != HRET_OK ||
        (doc = hret_results_read(tmp, &err)) == NULL) {
        if (fd < 0 && err.code == HRET_OK) {
            hret_err_set(&err, HRET_E_UNAVAILABLE, "cannot create a temporary file: %s",
                         strerror(errno));
        }
        *status = hret_store_cli_fail("hret report", &err);
    } else {
        *label = hret_xasprintf("run %.8s%s%s", r.run_id, r.run_name ? " " : "",
                                r.run_name ? r.run_name : "");
    }
    if (fd >= 0) {
        close(fd);
        remove(tmp);
    }
    hret_store_run_row_fini(&r);
    return doc;
}

static cJSON *load_input(struct report_ctx *c, const char *arg, char **label, int *status)
{
    if (is_regular_file(arg)) {
        struct hret_err err = HRET_ERR_INIT;
        cJSON *doc = hret_results_read(arg, &err);
        if (doc == NULL) {
            fprintf(stderr, "hret report: %s\n", err.msg);
            *status = HRET_EXIT_USAGE;
        }
        *label = hret_xstrdup(arg);
        return doc;
    }
    return load_stored(c, arg, label, status);
}

/* ---- the history (with a database) ---- */

struct history {
    struct hret_report_history h;
    struct hret_store_metric_point *points;
    size_t n_points;
    struct hret_store_alert_mark *alerts;
    size_t n_alerts;
    struct hret_report_point *drawn;
    struct hret_report_mark *marks;
    char **labels; /* owned: the marks' labels */
};

static const char *const op_names[] = {"<", "<=", ">", ">="};

/* The threshold rules of the monitor that watch metric on model and dataset. */
static void threshold_marks(struct history *hs, const struct hret_config *cfg, const char *metric,
                            const char *model, const char *dataset)
{
    const struct hret_monitor_rule_config *rules = cfg->monitor.rules.items;
    size_t n = cfg->monitor.rules.count;
    hs->marks = hret_xcalloc(n + 1, sizeof *hs->marks);
    hs->labels = hret_xcalloc(n + 1, sizeof *hs->labels);
    for (size_t i = 0; i < n; i++) {
        const struct hret_monitor_rule_config *rule = &rules[i];
        if (rule->kind != HRET_MONITOR_THRESHOLD || rule->metric == NULL ||
            strcmp(rule->metric, metric) != 0 ||
            (rule->model != NULL && fnmatch(rule->model, model, 0) != 0) ||
            (rule->dataset != NULL && fnmatch(rule->dataset, dataset, 0) != 0)) {
            continue;
        }
        size_t k = hs->h.n_marks++;
        hs->labels[k] = hret_xasprintf("%s: alert when %s %s %g", rule->name, metric,
                                       op_names[rule->op], rule->threshold);
        hs->marks[k] = (struct hret_report_mark){hs->labels[k], rule->threshold};
    }
    hs->h.marks = hs->marks;
}

static const char *alert_of(const struct history *hs, const char *run_id)
{
    for (size_t i = 0; i < hs->n_alerts; i++) {
        if (strcmp(hs->alerts[i].run_id, run_id) == 0) {
            return hs->alerts[i].message;
        }
    }
    return NULL;
}

static int load_history(struct report_ctx *c, const cJSON *doc, struct history *hs)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(doc, "run_metadata");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(md, "model");
    const cJSON *dataset = cJSON_GetObjectItemCaseSensitive(md, "dataset");
    int status = open_store(c);
    if (status != HRET_EXIT_OK) {
        return status;
    }
    if (!cJSON_IsString(model) || !cJSON_IsString(dataset)) {
        fprintf(stderr, "hret report: the first run names no model and dataset; no history\n");
        return HRET_EXIT_USAGE;
    }
    struct hret_err err = HRET_ERR_INIT;
    struct hret_store_metric_query q = {
        .metric = c->a->metric, .model = model->valuestring, .dataset = dataset->valuestring};
    if (hret_store_metric_points(c->cli.store, &q, &hs->points, &hs->n_points, &err) != HRET_OK ||
        hret_store_alert_marks(c->cli.store, q.model, q.dataset, &hs->alerts, &hs->n_alerts,
                               &err) != HRET_OK) {
        return hret_store_cli_fail("hret report", &err);
    }
    hs->drawn = hret_xcalloc(hs->n_points + 1, sizeof *hs->drawn);
    for (size_t i = 0; i < hs->n_points; i++) {
        const struct hret_store_metric_point *p = &hs->points[i];
        hs->drawn[i] = (struct hret_report_point){p->run_name ? p->run_name : p->run_id,
                                                  p->created_at, p->value, alert_of(hs, p->run_id)};
    }
    hs->h = (struct hret_report_history){c->a->metric, q.model, q.dataset, hs->drawn,
                                         hs->n_points, NULL,    0};
    threshold_marks(hs, &c->cli.cfg, c->a->metric, q.model, q.dataset);
    return HRET_EXIT_OK;
}

static void history_fini(struct history *hs)
{
    hret_store_metric_points_free(hs->points, hs->n_points);
    hret_store_alert_marks_free(hs->alerts, hs->n_alerts);
    for (size_t i = 0; i < hs->h.n_marks; i++) {
        free(hs->labels[i]);
    }
    free(hs->labels);
    free(hs->marks);
    free(hs->drawn);
}

/* ---- the command ---- */

static int write_page(const char *path, const char *html)
{
    struct hret_outfile *f = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_outfile_open(path, 0, &f, &err) != HRET_OK) {
        fprintf(stderr, "hret report: %s\n", err.msg);
        return HRET_EXIT_FAILURE;
    }
    fputs(html, hret_outfile_stream(f));
    if (hret_outfile_commit(f, &err) != HRET_OK) {
        fprintf(stderr, "hret report: %s\n", err.msg);
        return HRET_EXIT_FAILURE;
    }
    return HRET_EXIT_OK;
}

static int parse_args(int argc, char **argv, struct report_args *a)
{
    static const struct option longopts[] = {
        {"html", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'D'},
        {"title", required_argument, NULL, 't'},
        {"metric", required_argument, NULL, 'm'},
        {"samples", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    *a = (struct report_args){.metric = "accuracy", .samples = 20};
    optind = 1;
    for (int ch; (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
        char *end = NULL;
        switch (ch) {
        case 'o':
            a->html = optarg;
            break;
        case 'c':
            a->config = optarg;
            break;
        case 'D':
            a->db = optarg;
            a->history = true;
            break;
        case 't':
            a->title = optarg;
            break;
        case 'm':
            a->metric = optarg;
            break;
        case 's':
            errno = 0;
            a->samples = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || a->samples < 0 || a->samples > 100000) {
                fprintf(stderr, "hret report: --samples expects 0..100000, got '%s'\n", optarg);
                return HRET_EXIT_USAGE;
            }
            break;
        default:
            fprintf(stderr, "hret report: see hret help report\n");
            return HRET_EXIT_USAGE;
        }
    }
    if (a->html == NULL || optind >= argc || argc - optind > MAX_RUNS) {
        fprintf(stderr,
                "usage: hret report RUN_OR_FILE [RUN_OR_FILE ...] --html FILE "
                "[--db CONNINFO] (at most %d runs; see hret help report)\n",
                MAX_RUNS);
        return HRET_EXIT_USAGE;
    }
    return HRET_EXIT_OK;
}

int hret_cmd_report(int argc, char **argv)
{
    struct report_args a;
    int status = parse_args(argc, argv, &a);
    if (status != HRET_EXIT_OK) {
        return status;
    }
    struct report_ctx ctx = {.a = &a};
    size_t n = (size_t)(argc - optind);
    cJSON **docs = hret_xcalloc(n, sizeof *docs);
    char **labels = hret_xcalloc(n, sizeof *labels);
    struct hret_report_run *runs = hret_xcalloc(n, sizeof *runs);
    struct history hs = {0};
    char *html = NULL;
    for (size_t i = 0; i < n && status == HRET_EXIT_OK; i++) {
        docs[i] = load_input(&ctx, argv[optind + (int)i], &labels[i], &status);
        runs[i] = (struct hret_report_run){labels[i], docs[i]};
    }
    if (status == HRET_EXIT_OK && a.history) {
        status = load_history(&ctx, docs[0], &hs);
    }
    if (status == HRET_EXIT_OK) {
        struct hret_err err = HRET_ERR_INIT;
        struct hret_report_options opt = {a.title, (size_t)a.samples, HRET_COMPARE_OPTIONS_DEFAULT,
                                          (double)time(NULL)};
        if (hret_report_html(runs, n, a.history ? &hs.h : NULL, &opt, &html, &err) != HRET_OK) {
            fprintf(stderr, "hret report: %s\n", err.msg);
            status = HRET_EXIT_USAGE;
        }
    }
    if (status == HRET_EXIT_OK && (status = write_page(a.html, html)) == HRET_EXIT_OK &&
        strcmp(a.html, "-") != 0) {
        fprintf(stderr, "report of %zu run%s written to %s\n", n, n == 1 ? "" : "s", a.html);
    }
    free(html);
    history_fini(&hs);
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(docs[i]);
        free(labels[i]);
    }
    free(docs);
    free(labels);
    free(runs);
    if (ctx.opened) {
        hret_store_cli_close(&ctx.cli);
    }
    return status;
}
