/* hret metrics history|compare: one metric across stored runs (HRET's get_metrics_history and
 * compare_metric, over PostgreSQL instead of an in-process tracker). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cli.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_store_cli.h"
#include "hret_store_query.h"
#include "hret_store_stats.h"

struct metrics_args {
    const char *config, *db, *runs;
    struct hret_store_metric_query q;
    bool json;
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},  {"db", required_argument, NULL, 'B'},
    {"metric", required_argument, NULL, 'M'},  {"model", required_argument, NULL, 'm'},
    {"dataset", required_argument, NULL, 'd'}, {"subset", required_argument, NULL, 's'},
    {"runs", required_argument, NULL, 'r'},    {"group-by", required_argument, NULL, 'g'},
    {"json", no_argument, NULL, 'j'},          {NULL, 0, NULL, 0},
};

static int parse_args(int argc, char **argv, struct metrics_args *a)
{
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:m:d:", long_options, NULL)) != -1;) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'B':
            a->db = optarg;
            break;
        case 'M':
            a->q.metric = optarg;
            break;
        case 'm':
            a->q.model = optarg;
            break;
        case 'd':
            a->q.dataset = optarg;
            break;
        case 's':
            a->q.subset = optarg;
            break;
        case 'r':
            a->runs = optarg;
            break;
        case 'g':
            a->q.group_by = optarg;
            break;
        case 'j':
            a->json = true;
            break;
        default:
            return HRET_EXIT_USAGE;
        }
    }
    return HRET_EXIT_OK;
}

static void print_json(cJSON *doc)
{
    char *text = hret_json_print(doc);
    puts(text);
    free(text);
    cJSON_Delete(doc);
}

static void history_out(const struct metrics_args *a, const struct hret_store_metric_point *p,
                        size_t n)
{
    if (a->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON_AddItemToArray(arr,
                                 hret_store_metric_point_json(&p[i], a->q.metric, a->q.subset));
        }
        print_json(arr);
        return;
    }
    printf("%s%s%s over %zu run%s, oldest first\n", a->q.metric, a->q.subset ? " of subset " : "",
           a->q.subset ? a->q.subset : "", n, n == 1 ? "" : "s");
    printf("%-20s  %-8s  %-16s  %-12s  %-9s  %12s  %s\n", "CREATED", "RUN", "MODEL", "DATASET",
           "STATUS", "VALUE", "NAME");
    for (size_t i = 0; i < n; i++) {
        printf("%-20s  %-8.8s  %-16s  %-12s  %-9s  %12.6g  %s\n", p[i].created_at, p[i].run_id,
               p[i].model_name, p[i].dataset_name, p[i].status, p[i].value,
               p[i].run_name ? p[i].run_name : "");
    }
}

static cJSON *stats_json(const struct hret_store_stats *st, const char *key, const char *best,
                         const char *worst)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "best", st->best);
    cJSON_AddItemToObject(j, key, best ? cJSON_CreateString(best) : cJSON_CreateNull());
    cJSON_AddNumberToObject(j, "worst", st->worst);
    char worst_key[32];
    snprintf(worst_key, sizeof worst_key, "worst_%s", strchr(key, '_') + 1);
    cJSON_AddItemToObject(j, worst_key, worst ? cJSON_CreateString(worst) : cJSON_CreateNull());
    cJSON_AddNumberToObject(j, "average", st->average);
    cJSON_AddNumberToObject(j, "count", (double)st->count);
    return j;
}

static const char *label(const char *group)
{
    return group ? group : "(none)";
}

static void compare_runs_out(const struct metrics_args *a, const struct hret_store_metric_point *p,
                             size_t n, const double *values, bool lower)
{
    struct hret_store_stats st;
    hret_store_stats_compute(values, n, lower, &st);
    const char *best = n ? p[st.best_idx].run_id : NULL, *worst = n ? p[st.worst_idx].run_id : NULL;
    if (a->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "metric", a->q.metric);
        cJSON_AddStringToObject(doc, "subset", a->q.subset ? a->q.subset : "");
        cJSON_AddStringToObject(doc, "direction", lower ? "lower_is_better" : "higher_is_better");
        cJSON *runs = cJSON_AddObjectToObject(doc, "runs");
        for (size_t i = 0; i < n; i++) {
            cJSON_AddItemToObject(runs, p[i].run_id,
                                  hret_store_metric_point_json(&p[i], a->q.metric, a->q.subset));
        }
        cJSON_AddItemToObject(doc, "_stats", stats_json(&st, "best_run", best, worst));
        print_json(doc);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        printf("%-36s  %-16s  %-12s  %12.6g  %s\n", p[i].run_id, p[i].model_name, p[i].dataset_name,
               p[i].value, p[i].run_name ? p[i].run_name : "");
    }
    if (n > 0) {
        printf("%s (%s is better) over %zu runs: best %.6g (run %s), worst %.6g (run %s), "
               "average %.6g\n",
               a->q.metric, lower ? "lower" : "higher", st.count, st.best, best, st.worst, worst,
               st.average);
    }
}

static void compare_groups_out(const struct metrics_args *a,
                               const struct hret_store_metric_point *p, size_t n,
                               const double *values, bool lower)
{
    const char **labels = hret_xcalloc(n ? n : 1, sizeof *labels);
    struct hret_store_group *groups = hret_xcalloc(n ? n : 1, sizeof *groups);
    double *means = hret_xcalloc(n ? n : 1, sizeof *means);
    for (size_t i = 0; i < n; i++) {
        labels[i] = p[i].group;
    }
    size_t ng = hret_store_group(labels, values, n, groups);
    for (size_t g = 0; g < ng; g++) {
        means[g] = groups[g].mean;
    }
    struct hret_store_stats st;
    hret_store_stats_compute(means, ng, lower, &st);
    const char *best = ng ? label(groups[st.best_idx].label) : NULL;
    const char *worst = ng ? label(groups[st.worst_idx].label) : NULL;
    if (a->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "metric", a->q.metric);
        cJSON_AddStringToObject(doc, "subset", a->q.subset ? a->q.subset : "");
        cJSON_AddStringToObject(doc, "direction", lower ? "lower_is_better" : "higher_is_better");
        cJSON_AddStringToObject(doc, "group_by", a->q.group_by);
        cJSON *gj = cJSON_AddObjectToObject(doc, "groups");
        for (size_t g = 0; g < ng; g++) {
            cJSON *one = cJSON_AddObjectToObject(gj, label(groups[g].label));
            cJSON_AddNumberToObject(one, "value", groups[g].mean);
            cJSON_AddNumberToObject(one, "runs", (double)groups[g].count);
            cJSON *ids = cJSON_AddArrayToObject(one, "run_ids");
            for (size_t i = 0; i < n; i++) {
                bool same = p[i].group && groups[g].label ? strcmp(p[i].group, groups[g].label) == 0
                                                          : p[i].group == groups[g].label;
                if (same) {
                    cJSON_AddItemToArray(ids, cJSON_CreateString(p[i].run_id));
                }
            }
        }
        cJSON_AddItemToObject(doc, "_stats", stats_json(&st, "best_group", best, worst));
        print_json(doc);
    } else {
        printf("%-24s  %5s  %12s\n", a->q.group_by, "RUNS", "MEAN");
        for (size_t g = 0; g < ng; g++) {
            printf("%-24s  %5zu  %12.6g\n", label(groups[g].label), groups[g].count,
                   groups[g].mean);
        }
        if (ng > 0) {
            printf("%s (%s is better) over %zu groups: best %.6g (%s), worst %.6g (%s), average "
                   "%.6g\n",
                   a->q.metric, lower ? "lower" : "higher", st.count, st.best, best, st.worst,
                   worst, st.average);
        }
    }
    free(labels);
    free(groups);
    free(means);
}

/* --runs a,b,c: each a run id, prefix or name, resolved to ids. */
static enum hret_result resolve_runs(struct hret_store *s, const char *list,
                                     struct hret_strlist *ids, struct hret_err *err)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 0) {
            char *ref = hret_xstrndup(p, n);
            struct hret_store_run_row r = {0};
            enum hret_result res = hret_store_run_find(s, ref, &r, err);
            free(ref);
            if (res != HRET_OK) {
                return res;
            }
            hret_strlist_push(ids, r.run_id);
            r.run_id = NULL;
            hret_store_run_row_fini(&r);
        }
        p += n + (p[n] == ',');
    }
    return HRET_OK;
}

/* No values: when no stored run has the metric at all, say so (exit 2) with the nearest stored
 * name; else (the filters left nothing) the empty result stands. */
static int unknown_metric(struct hret_store *s, const struct metrics_args *a, const char *who)
{
    struct hret_strlist names = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_metric_names(s, a->q.subset, &names, &err) != HRET_OK) {
        hret_strlist_fini(&names);
        return hret_store_cli_fail(who, &err);
    }
    bool known = false;
    for (size_t i = 0; i < names.count && !known; i++) {
        known = strcmp(names.items[i], a->q.metric) == 0;
    }
    int rc = HRET_EXIT_OK;
    if (!known) {
        const char *near =
            hret_cfg_suggest(a->q.metric, (const char *const *)names.items, names.count);
        fprintf(stderr, "%s: no stored run has metric '%s'%s%s%s%s%s\n", who, a->q.metric,
                a->q.subset ? " for subset " : "", a->q.subset ? a->q.subset : "",
                near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        rc = HRET_EXIT_USAGE;
    }
    hret_strlist_fini(&names);
    return rc;
}

static int run_query(struct hret_store *s, struct metrics_args *a, bool compare)
{
    const char *who = compare ? "hret metrics compare" : "hret metrics history";
    struct hret_err err = HRET_ERR_INIT;
    struct hret_strlist ids = {0};
    struct hret_store_metric_point *p = NULL;
    size_t n = 0;
    if (a->runs != NULL && resolve_runs(s, a->runs, &ids, &err) != HRET_OK) {
        hret_strlist_fini(&ids);
        return hret_store_cli_fail(who, &err);
    }
    a->q.runs = a->runs ? &ids : NULL;
    if (hret_store_metric_points(s, &a->q, &p, &n, &err) != HRET_OK) {
        hret_strlist_fini(&ids);
        return hret_store_cli_fail(who, &err);
    }
    int rc = n == 0 ? unknown_metric(s, a, who) : HRET_EXIT_OK;
    if (rc == HRET_EXIT_OK && !compare) {
        history_out(a, p, n);
    } else if (rc == HRET_EXIT_OK) {
        double *values = hret_xcalloc(n ? n : 1, sizeof *values);
        for (size_t i = 0; i < n; i++) {
            values[i] = p[i].value;
        }
        bool lower = hret_store_lower_is_better(a->q.metric);
        if (a->q.group_by != NULL) {
            compare_groups_out(a, p, n, values, lower);
        } else {
            compare_runs_out(a, p, n, values, lower);
        }
        free(values);
    }
    hret_store_metric_points_free(p, n);
    hret_strlist_fini(&ids);
    return rc;
}

int hret_cmd_metrics(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    bool compare = strcmp(sub, "compare") == 0;
    if (!compare && strcmp(sub, "history") != 0) {
        fprintf(stderr, "hret metrics: expected history or compare (see hret help metrics)\n");
        return HRET_EXIT_USAGE;
    }
    struct metrics_args a = {0};
    if (parse_args(argc - 1, argv + 1, &a) != HRET_EXIT_OK) {
        return HRET_EXIT_USAGE;
    }
    int rest = argc - 1 - optind;
    if (compare && rest == 1 && a.q.metric == NULL) {
        a.q.metric = argv[1 + optind];
        rest = 0;
    }
    if (rest != 0 || a.q.metric == NULL || (a.q.group_by != NULL && !compare)) {
        fprintf(stderr, "hret metrics %s: %s\n", sub,
                a.q.group_by && !compare ? "--group-by belongs to compare"
                : rest != 0              ? "unexpected argument"
                                         : "which metric? (--metric accuracy)");
        return HRET_EXIT_USAGE;
    }
    struct hret_store_cli cli;
    int status = hret_store_cli_open(&cli, "hret metrics", a.config, a.db, false);
    if (status == HRET_EXIT_OK) {
        status = run_query(cli.store, &a, compare);
    }
    hret_store_cli_close(&cli);
    return status;
}
