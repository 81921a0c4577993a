#include "hret_store_import.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "hret_pg.h"
#include "hret_results_load.h"

static const char existing_sql[] =
    "SELECT status, status = 'running' AND heartbeat_at < now() - interval '2 minutes'"
    " FROM runs WHERE run_id = $1";
static const char delete_sql[] = "DELETE FROM runs WHERE run_id = $1"; /* samples cascade */

/* Refuses to replace a run that is not abandoned or partial; deletes one that is. */
static enum hret_result make_room(struct hret_store *s, const char *run_id, struct hret_err *err)
{
    const char *params[] = {run_id};
    PGresult *res = NULL;
    struct hret_pg *pg = hret_store_pg(s);
    enum hret_result r = hret_pg_query(pg, "find run", existing_sql, 1, params, false, &res, err);
    if (r != HRET_OK || PQntuples(res) == 0) {
        PQclear(res);
        return r;
    }
    const char *status = PQgetvalue(res, 0, 0);
    bool abandoned = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    if (!abandoned && strcmp(status, "partial") != 0) {
        r = hret_err_set(err, HRET_E_CONFLICT,
                         "run %s exists and is %s: refused (only an abandoned or a partial run is "
                         "replaced)",
                         run_id, status);
    }
    PQclear(res);
    return r == HRET_OK ? hret_pg_query(pg, "replace run", delete_sql, 1, params, false, NULL, err)
                        : r;
}

static enum hret_result store(struct hret_store *s, const struct hret_results_run *in,
                              const char *run_id, struct hret_err *err)
{
    double start = isnan(in->started_at) ? (double)time(NULL) : in->started_at;
    struct hret_store_run run = {
        .run_id = run_id,
        .run_name = in->run_name,
        .model_name = in->model ? in->model : "unknown",
        .dataset_name = in->dataset ? in->dataset : "unknown",
        .dataset_version = in->dataset_version,
        .split = in->split,
        .method = in->method,
        .planned = in->planned,
        .metadata = in->metadata,
        .config = in->config,
        .started_at = start,
    };
    struct hret_store_result res = {
        .status = in->partial  ? "partial"
                  : in->scored ? "completed"
                               : "failed",
        .metrics = in->metrics,
        .info = in->info,
        .error = in->partial || in->scored ? NULL : "nothing scored (imported)",
        .done = in->n,
        .errors = in->errors,
        .finished_at = start + in->duration,
    };
    size_t inserted = 0;
    enum hret_result r = hret_store_run_begin(s, &run, err);
    return r == HRET_OK ? hret_store_run_complete(s, run_id, in->samples, in->outcomes, in->n, &res,
                                                  &inserted, err)
                        : r;
}

enum hret_result hret_store_run_import(struct hret_store *s, const cJSON *doc, char run_id[37],
                                       size_t *count, struct hret_err *err)
{
    struct hret_results_run in;
    enum hret_result r = hret_results_load(doc, &in, err);
    if (r != HRET_OK) {
        return r;
    }
    if (in.run_id[0] != '\0') {
        memcpy(run_id, in.run_id, 37);
    } else {
        hret_store_new_run_id(run_id);
    }
    r = make_room(s, run_id, err);
    if (r == HRET_OK) {
        r = store(s, &in, run_id, err);
    }
    *count = in.n;
    hret_results_run_fini(&in);
    return r;
}
