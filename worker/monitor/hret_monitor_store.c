/* hret monitor, reading run facts and baselines (see hret_monitor_store.h). */
#include "hret_monitor_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"

/* The metric of a runs row as a number, NULL when it is not one. $M is the metric name. */
#define METRIC(m)                                                                                  \
    "CASE WHEN jsonb_typeof(metrics -> " m ") = 'number' THEN (metrics ->> " m ")::float8 END"

/* Completed runs of model $1 on dataset $2 that finished before run $3. */
#define EARLIER                                                                                    \
    " FROM runs WHERE model_name = $1 AND dataset_name = $2 AND status = 'completed'"              \
    " AND run_id <> $3 AND finished_at < COALESCE((SELECT finished_at FROM runs"                   \
    " WHERE run_id = $3), now())"

static const char facts_sql[] =
    "SELECT request_id, run_name, model_name, dataset_name, served_model, fingerprint, status"
    " FROM runs WHERE run_id = $1";

static const char previous_sql[] = "SELECT run_id, served_model, fingerprint, " METRIC("$4") EARLIER
    " ORDER BY finished_at DESC LIMIT 1";

static const char best_sql[] = "SELECT run_id, served_model, fingerprint, " METRIC("$4") EARLIER
    " AND jsonb_typeof(metrics -> $4) = 'number'"
    " ORDER BY (metrics ->> $4)::float8 DESC, finished_at DESC LIMIT 1";

static const char pinned_sql[] = "SELECT run_id, served_model, fingerprint, " METRIC(
    "$2") " FROM runs WHERE run_id = $1 AND status = 'completed'";

static const char mean_sql[] =
    "WITH last AS (SELECT run_id, metrics" EARLIER " ORDER BY finished_at DESC"
    " LIMIT $5::integer)"
    " SELECT count(*), avg(" METRIC(
        "$4") "),"
              " (SELECT count(*) FILTER (WHERE correct) FROM samples WHERE run_id IN"
              "  (SELECT run_id FROM last)),"
              " (SELECT count(correct) FROM samples WHERE run_id IN (SELECT run_id FROM last)),"
              " (SELECT count(*) FILTER (WHERE correct) FROM samples WHERE run_id = $3),"
              " (SELECT count(correct) FROM samples WHERE run_id = $3)"
              " FROM last";

/* Items are paired by dataset item id; correct is NULL when the endpoint failed (an error,
 * left out of the comparison, never a wrong answer). */
static const char items_sql[] =
    "SELECT COALESCE(item_id, sample_idx::text), subset, correct FROM samples WHERE run_id = $1"
    " ORDER BY sample_idx";

static char *col(const PGresult *res, int row, int c)
{
    return PQgetisnull(res, row, c) ? NULL : hret_xstrdup(PQgetvalue(res, row, c));
}

enum hret_result hret_monitor_store_facts(struct hret_pg *pg, const char *run_id,
                                          struct hret_monitor_facts *out, struct hret_err *err)
{
    *out = (struct hret_monitor_facts){0};
    const char *params[] = {run_id};
    PGresult *res = NULL;
    if (hret_pg_query(pg, "run facts", facts_sql, 1, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    if (PQntuples(res) == 1) {
        out->found = true;
        out->request_id = col(res, 0, 0);
        out->run_name = col(res, 0, 1);
        out->model = col(res, 0, 2);
        out->dataset = col(res, 0, 3);
        out->served_model = col(res, 0, 4);
        out->fingerprint = col(res, 0, 5);
        out->status = col(res, 0, 6);
    }
    PQclear(res);
    return HRET_OK;
}

void hret_monitor_facts_fini(struct hret_monitor_facts *f)
{
    free(f->request_id);
    free(f->run_name);
    free(f->model);
    free(f->dataset);
    free(f->served_model);
    free(f->fingerprint);
    free(f->status);
    *f = (struct hret_monitor_facts){0};
}

static enum hret_result load_items(struct hret_pg *pg, const char *run_id,
                                   struct hret_compare_run *out, struct hret_err *err)
{
    hret_compare_run_init(out, run_id);
    const char *params[] = {run_id};
    PGresult *res = NULL;
    if (hret_pg_query(pg, "run items", items_sql, 1, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        bool error = PQgetisnull(res, i, 2);
        bool correct = !error && strcmp(PQgetvalue(res, i, 2), "t") == 0;
        hret_compare_run_add(out, PQgetvalue(res, i, 0),
                             PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1), correct, error);
    }
    PQclear(res);
    return HRET_OK;
}

/* The one baseline run row (run_id, served_model, fingerprint, metric) of a query, if any. */
static enum hret_result one_run(struct hret_pg *pg, const char *sql, int n, const char *const *p,
                                struct hret_monitor_fetched *out, struct hret_err *err)
{
    PGresult *res = NULL;
    if (hret_pg_query(pg, "baseline run", sql, n, p, false, &res, err) != HRET_OK) {
        return err->code;
    }
    if (PQntuples(res) == 1) {
        out->b.found = true;
        out->b.run_id = out->run_id = col(res, 0, 0);
        out->b.served_model = out->served_model = col(res, 0, 1);
        out->b.fingerprint = out->fingerprint = col(res, 0, 2);
        out->b.value = PQgetisnull(res, 0, 3) ? 0 : strtod(PQgetvalue(res, 0, 3), NULL);
    }
    PQclear(res);
    return HRET_OK;
}

static enum hret_result mean_last_k(struct hret_pg *pg, const struct hret_monitor_rule_config *rule,
                                    const char *const p[4], struct hret_monitor_fetched *out,
                                    struct hret_err *err)
{
    char k[32];
    snprintf(k, sizeof k, "%lld", rule->k);
    const char *params[] = {p[0], p[1], p[2], p[3], k};
    PGresult *res = NULL;
    if (hret_pg_query(pg, "baseline runs", mean_sql, 5, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    if (PQntuples(res) == 1 && strtod(PQgetvalue(res, 0, 0), NULL) > 0) {
        out->b.found = true;
        out->b.value = PQgetisnull(res, 0, 1) ? 0 : strtod(PQgetvalue(res, 0, 1), NULL);
        out->b.base_correct = strtod(PQgetvalue(res, 0, 2), NULL);
        out->b.base_n = strtod(PQgetvalue(res, 0, 3), NULL);
        out->b.cur_correct = strtod(PQgetvalue(res, 0, 4), NULL);
        out->b.cur_n = strtod(PQgetvalue(res, 0, 5), NULL);
    }
    PQclear(res);
    return HRET_OK;
}

enum hret_result hret_monitor_store_baseline(struct hret_pg *pg,
                                             const struct hret_monitor_rule_config *rule,
                                             const struct hret_monitor_run *run,
                                             struct hret_monitor_fetched *out, struct hret_err *err)
{
    *out = (struct hret_monitor_fetched){0};
    if (rule->kind != HRET_MONITOR_REGRESSION && rule->kind != HRET_MONITOR_FINGERPRINT) {
        return HRET_OK;
    }
    if (run->model == NULL || run->dataset == NULL) {
        return HRET_OK; /* nothing to compare with */
    }
    const char *metric = rule->metric ? rule->metric : "accuracy";
    const char *p[] = {run->model, run->dataset, run->run_id, metric};
    const char *base = rule->kind == HRET_MONITOR_FINGERPRINT || rule->baseline == NULL
                           ? "previous"
                           : rule->baseline;
    enum hret_result r;
    out->b.kind = base;
    if (strcmp(base, "mean_last_k") == 0) {
        return mean_last_k(pg, rule, p, out, err);
    }
    if (strcmp(base, "previous") == 0) {
        r = one_run(pg, previous_sql, 4, p, out, err);
    } else if (strcmp(base, "best") == 0) {
        r = one_run(pg, best_sql, 4, p, out, err);
    } else {
        out->b.kind = "run";
        const char *pin[] = {base, metric};
        r = one_run(pg, pinned_sql, 2, pin, out, err);
    }
    if (r != HRET_OK || !out->b.found || rule->kind != HRET_MONITOR_REGRESSION ||
        strcmp(out->run_id, run->run_id) == 0) {
        out->b.found = out->b.found && strcmp(out->run_id, run->run_id) != 0;
        return r;
    }
    out->have_items = true;
    if (load_items(pg, out->run_id, &out->base, err) != HRET_OK ||
        load_items(pg, run->run_id, &out->cur, err) != HRET_OK) {
        return err->code;
    }
    out->b.base_items = &out->base;
    out->b.cur_items = &out->cur;
    return HRET_OK;
}

void hret_monitor_fetched_fini(struct hret_monitor_fetched *f)
{
    free(f->run_id);
    free(f->served_model);
    free(f->fingerprint);
    if (f->have_items) {
        hret_compare_run_fini(&f->base);
        hret_compare_run_fini(&f->cur);
    }
    *f = (struct hret_monitor_fetched){0};
}
