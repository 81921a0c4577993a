#include "hret_store_export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hret_mem.h"
#include "hret_pg.h"
#include "hret_results.h"

enum hret_result hret_store_export_run(struct hret_store *s, const struct hret_store_run_row *r,
                                       const char *path, size_t *samples, struct hret_err *err)
{
    struct hret_sample *rows = NULL;
    struct hret_outcome *outcomes = NULL;
    size_t n = 0;
    enum hret_result res = hret_store_samples_load(s, r->run_id, &rows, &outcomes, &n, err);
    if (res != HRET_OK) {
        return res;
    }
    struct hret_results_meta meta;
    hret_store_run_results_meta(r, &meta);
    cJSON *empty = cJSON_CreateObject();
    res =
        hret_results_write(path, 0, &meta, r->metrics ? r->metrics : empty, rows, outcomes, n, err);
    cJSON_Delete(empty);
    for (size_t i = 0; i < n; i++) {
        hret_sample_fini(&rows[i]);
        hret_outcome_fini(&outcomes[i]);
    }
    free(rows);
    free(outcomes);
    if (samples != NULL) {
        *samples = n;
    }
    return res;
}

static const char alerts_sql[] =
    "SELECT run_id, rule, message, threshold FROM alerts "
    "WHERE model_name = $1 AND dataset_name = $2 AND run_id IS NOT NULL "
    "ORDER BY created_at LIMIT 10000";

enum hret_result hret_store_alert_marks(struct hret_store *s, const char *model,
                                        const char *dataset, struct hret_store_alert_mark **marks,
                                        size_t *n, struct hret_err *err)
{
    const char *params[] = {model, dataset};
    PGresult *res = NULL;
    *marks = NULL;
    *n = 0;
    enum hret_result r = hret_pg_query(hret_store_pg(s), "alerts of a model", alerts_sql, 2, params,
                                       false, &res, err);
    if (r != HRET_OK) {
        return r;
    }
    int rows = PQntuples(res);
    *marks = hret_xcalloc((size_t)rows + 1, sizeof **marks);
    for (int i = 0; i < rows; i++) {
        struct hret_store_alert_mark *m = &(*marks)[i];
        m->run_id = hret_xstrdup(PQgetvalue(res, i, 0));
        m->rule = hret_xstrdup(PQgetvalue(res, i, 1));
        m->message = hret_xstrdup(PQgetvalue(res, i, 2));
        m->threshold = PQgetisnull(res, i, 3) ? NAN : strtod(PQgetvalue(res, i, 3), NULL);
    }
    *n = (size_t)rows;
    PQclear(res);
    return HRET_OK;
}

void hret_store_alert_marks_free(struct hret_store_alert_mark *marks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(marks[i].run_id);
        free(marks[i].rule);
        free(marks[i].message);
    }
    free(marks);
}
