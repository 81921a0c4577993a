/* hret worker, comparisons: when the last run of a request with several models finishes, each
 * candidate model (models[1..]) is compared with the baseline (models[0]) on every dataset from
 * the stored samples (hret_compare.h: paired McNemar exact test, bootstrap interval), and the
 * hret.comparison.completed.v1 event goes to the outbox in the same transaction, with a
 * comparisons row. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cloudevents.h"
#include "hret_compare.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_outbox.h"
#include "hret_store_query.h"
#include "hret_worker.h"
#include "hret_worker_data.h"

#define WHO "worker"

static const char run_sql[] = "SELECT run_id FROM runs WHERE request_id = $1 AND model_name = $2"
                              " AND dataset_name = $3 AND status = 'completed'";

static const char insert_sql[] =
    "INSERT INTO comparisons (comparison_id, request_id, run_a, run_b, metric, diff, ci_low,"
    " ci_high, p_value, significant, result)"
    " VALUES ($1, $2, $3, $4, 'accuracy', $5::float8, $6::float8, $7::float8, $8::float8,"
    " $9::boolean, $10::jsonb) ON CONFLICT DO NOTHING";

/* The completed run of (model, dataset) into out (37 bytes); false when there is none. */
static bool find_run(struct hret_pg *pg, const char *request_id, const char *model,
                     const char *dataset, char *out, struct hret_err *err)
{
    const char *params[] = {request_id, model, dataset};
    PGresult *res = NULL;
    bool found =
        hret_pg_query(pg, "comparison run", run_sql, 3, params, false, &res, err) == HRET_OK &&
        PQntuples(res) == 1;
    if (found) {
        snprintf(out, 37, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return found;
}

static cJSON *side(const char *run_id, const char *model, double value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "run_id", run_id);
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddNumberToObject(o, "value", isfinite(value) ? value : 0);
    return o;
}

static double num(double v)
{
    return isfinite(v) ? v : 0;
}

/* The hret.comparison.completed.v1 data (schemas/events/). */
static cJSON *event_data(const char *id, const struct hret_request *q,
                         const struct hret_request_dataset *ds, const char *const runs[2],
                         const char *const models[2], const struct hret_compare *c)
{
    const struct hret_compare_group *g = &c->overall;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "request_id", q->request_id);
    cJSON_AddStringToObject(o, "comparison_id", id);
    cJSON_AddItemToObject(o, "dataset", hret_worker_dataset_json(ds, NULL, NULL));
    cJSON_AddStringToObject(o, "metric", "accuracy");
    cJSON_AddItemToObject(o, "baseline", side(runs[0], models[0], g->acc_a));
    cJSON_AddItemToObject(o, "candidate", side(runs[1], models[1], g->acc_b));
    cJSON_AddNumberToObject(o, "n_pairs", (double)(c->paired ? g->n_a : 0));
    cJSON_AddNumberToObject(o, "difference", num(g->diff));
    if (isfinite(g->diff_lo) && isfinite(g->diff_hi)) {
        cJSON *ci = cJSON_AddArrayToObject(o, "ci95");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(g->diff_lo));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(g->diff_hi));
    }
    cJSON *m = cJSON_AddObjectToObject(o, "mcnemar");
    cJSON_AddNumberToObject(m, "b", (double)g->cells.a_only);
    cJSON_AddNumberToObject(m, "c", (double)g->cells.b_only);
    cJSON_AddNumberToObject(m, "p_value", isfinite(g->p_value) ? g->p_value : 1);
    cJSON_AddBoolToObject(o, "significant", c->significant);
    char now[40];
    hret_cloudevent_now(now);
    cJSON_AddStringToObject(o, "completed_at", now);
    return o;
}

static enum hret_result store_comparison(struct hret_worker *w, struct hret_pg *pg,
                                         const struct hret_request *q,
                                         const struct hret_request_dataset *ds,
                                         const char *const runs[2], const char *const models[2],
                                         const struct hret_compare *c, struct hret_err *err)
{
    char id[64], v[4][40];
    snprintf(id, sizeof id, "cmp-%.8s-%s", runs[0], runs[1]);
    const struct hret_compare_group *g = &c->overall;
    double vals[4] = {g->diff, g->diff_lo, g->diff_hi, g->p_value};
    const char *pv[4];
    for (int i = 0; i < 4; i++) {
        snprintf(v[i], sizeof v[i], "%.17g", vals[i]);
        pv[i] = isfinite(vals[i]) ? v[i] : NULL;
    }
    cJSON *details = hret_compare_json(c);
    char *result = hret_json_print(details);
    cJSON_Delete(details);
    const char *params[] = {id,      q->request_id, runs[0],
                            runs[1], pv[0],         pv[1],
                            pv[2],   pv[3],         c->significant ? "true" : "false",
                            result};
    enum hret_result r =
        hret_pg_query(pg, "store comparison", insert_sql, 10, params, false, NULL, err);
    free(result);
    if (r != HRET_OK) {
        return r;
    }
    cJSON *data = event_data(id, q, ds, runs, models, c);
    struct hret_outbox_event ev = {id, w->cfg->kafka.results_topic, q->request_id,
                                   "hret.comparison.completed.v1", data};
    r = hret_outbox_add(pg, &ev, err);
    cJSON_Delete(data);
    hret_log_info(WHO, q->request_id, "compared %s with %s on %s: %s", models[1], models[0],
                  ds->name, c->verdict);
    return r;
}

static enum hret_result compare_pair(struct hret_worker *w, struct hret_pg *pg,
                                     const struct hret_request *q,
                                     const struct hret_request_dataset *ds, size_t cand,
                                     struct hret_err *err)
{
    char run_a[37], run_b[37];
    const char *models[2] = {q->models[0].name, q->models[cand].name};
    if (!find_run(pg, q->request_id, models[0], ds->name, run_a, err) ||
        !find_run(pg, q->request_id, models[1], ds->name, run_b, err)) {
        return err->code; /* a failed run has nothing to compare */
    }
    struct hret_compare_run a, b;
    hret_compare_run_init(&a, run_a);
    hret_compare_run_init(&b, run_b);
    enum hret_result r = hret_store_samples_compare_run(w->store, run_a, &a, err);
    if (r == HRET_OK) {
        r = hret_store_samples_compare_run(w->store, run_b, &b, err);
    }
    if (r != HRET_OK) {
        hret_compare_run_fini(&a);
        hret_compare_run_fini(&b);
        return r;
    }
    struct hret_compare_options opt = HRET_COMPARE_OPTIONS_DEFAULT;
    struct hret_compare *c = NULL;
    r = hret_compare_runs(&a, &b, &opt, &c, err);
    if (r == HRET_OK) {
        const char *const runs[2] = {run_a, run_b};
        r = store_comparison(w, pg, q, ds, runs, models, c, err);
    } else if (r == HRET_E_INVAL) {
        hret_log_warn(WHO, q->request_id, "nothing to compare on %s: %s", ds->name, err->msg);
        hret_err_clear(err);
        r = HRET_OK;
    }
    hret_compare_destroy(c);
    hret_compare_run_fini(&a);
    hret_compare_run_fini(&b);
    return r;
}

enum hret_result hret_worker_compare(struct hret_worker *w, struct hret_pg *pg,
                                     const struct hret_request *q, struct hret_err *err)
{
    for (size_t d = 0; d < q->n_datasets; d++) {
        for (size_t m = 1; m < q->n_models; m++) {
            if (compare_pair(w, pg, q, &q->datasets[d], m, err) != HRET_OK) {
                return err->code;
            }
        }
    }
    return HRET_OK;
}
