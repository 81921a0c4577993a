/* MLflow REST answers, pure (see hret_mlflow.h). */
#include "hret_mlflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"

/* A non-empty string member, or NULL. */
static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && *v->valuestring != '\0' ? v->valuestring : NULL;
}

bool hret_mlflow_error(const cJSON *doc, char code[64], char *msg, size_t cap)
{
    const char *ec = str(doc, "error_code"), *m = str(doc, "message");
    snprintf(code, 64, "%s", ec ? ec : "");
    if (cap > 0) {
        snprintf(msg, cap, "%s", ec && m ? m : "");
    }
    return ec != NULL;
}

enum hret_result hret_mlflow_experiment_id(const cJSON *resp, const char *name, char **id,
                                           struct hret_err *err)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(resp, "experiment");
    const char *stage = str(exp, "lifecycle_stage");
    if (stage != NULL && strcmp(stage, "deleted") == 0) {
        return hret_err_set(err, HRET_E_INVAL,
                            "MLflow experiment '%s' is deleted: restore it in MLflow, or name "
                            "another (tracking.mlflow.experiment, mlflow.experiment)",
                            name);
    }
    if (str(exp, "experiment_id") == NULL) {
        return hret_err_set(err, HRET_E_PROTO,
                            "MLflow get-by-name: the answer has no experiment_id");
    }
    *id = hret_xstrdup(str(exp, "experiment_id"));
    return HRET_OK;
}

const cJSON *hret_mlflow_search_first(const cJSON *resp)
{
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(resp, "runs");
    const cJSON *run = cJSON_IsArray(runs) ? cJSON_GetArrayItem(runs, 0) : NULL;
    return cJSON_IsObject(run) ? run : NULL;
}

const cJSON *hret_mlflow_created_run(const cJSON *resp)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(resp, "run");
    return cJSON_IsObject(run) ? run : NULL;
}

void hret_mlflow_run_info(const cJSON *run, char **run_id, char **artifact_uri)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(run, "info");
    const char *id = str(info, "run_id"), *uri = str(info, "artifact_uri");
    *run_id = id ? hret_xstrdup(id) : NULL;
    *artifact_uri = hret_xstrdup(uri ? uri : "");
}

cJSON *hret_mlflow_metrics_at(const cJSON *resp, long long step)
{
    cJSON *have = cJSON_CreateObject();
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(resp, "run");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(run, "data");
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(data, "metrics");
    if (!cJSON_IsArray(metrics)) {
        return have;
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, metrics)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(it, "step");
        long long at = 0; /* int64 may come as a string (§1.1) */
        if (cJSON_IsNumber(s) && s->valuedouble >= -9e18 && s->valuedouble <= 9e18) {
            at = (long long)s->valuedouble;
        } else if (cJSON_IsString(s)) {
            at = strtoll(s->valuestring, NULL, 10);
        }
        const char *key = str(it, "key");
        if (key != NULL && at == step && !cJSON_GetObjectItemCaseSensitive(have, key)) {
            cJSON_AddTrueToObject(have, key);
        }
    }
    return have;
}
