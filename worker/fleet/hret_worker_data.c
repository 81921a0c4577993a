/* hret worker: shared dataset loading and event pieces (see hret_worker_data.h). */
#include "hret_worker_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cloudevents.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_store_dscache.h"
#include "hret_store_dsfiles.h"
#include "hret_worker.h"

enum hret_result hret_worker_dataset_load(const struct hret_config *cfg, struct hret_store *store,
                                          const struct hret_request *req,
                                          const struct hret_request_dataset *d, const char *pinned,
                                          char data_version[65], struct hret_dataset **out,
                                          struct hret_err *err)
{
    bool files = d->data_dir != NULL || (pinned != NULL && pinned[0] == '\0');
    char *dir = hret_xasprintf("%s/%s", cfg->datasets.root, d->data_dir ? d->data_dir : d->name);
    struct hret_dataset_spec spec = {
        .name = d->name,
        .data_dir = dir,
        .root = cfg->datasets.root,
        .follow_symlinks = cfg->datasets.follow_symlinks,
        .subsets = &d->subsets,
        .split = d->split,
        .limit = d->limit,
        .sample_size = d->sample_size,
        .seed = d->seed >= 0 ? (unsigned long long)d->seed : 0,
        .num_few_shot = (int)req->num_few_shot,
        .few_shot_split = d->few_shot_split,
        .params = d->params,
    };
    enum hret_result r = hret_store_dataset_load(store, &cfg->datasets, &spec,
                                                 pinned && pinned[0] ? pinned : d->version, files,
                                                 true, data_version, out, err);
    free(dir);
    if (r != HRET_OK && !hret_result_is_retriable(r)) {
        err->code = HRET_E_INVAL; /* a dataset problem; the message names the dataset */
        return HRET_E_INVAL;
    }
    return r;
}

enum hret_result hret_worker_dataset_still_stored(struct hret_store *store, const char *name,
                                                  const char *version, struct hret_err *err)
{
    long long id;
    char found_version[65];
    bool found = false;
    if (hret_store_dsfiles_find(store, name, version, &id, found_version, &found, err) != HRET_OK) {
        return err->code;
    }
    return found ? HRET_OK
                 : hret_err_set(err, HRET_E_INVAL,
                                "dataset %s: version %.12s the run reads is no longer in the "
                                "store (removed with hret dataset rm); the run cannot go on",
                                name, version);
}

enum hret_result hret_worker_task_parse(const char *payload, size_t len, char *run_id, size_t cap,
                                        long long *shard_index, struct hret_err *err)
{
    struct hret_err perr = HRET_ERR_INIT;
    cJSON *task = hret_json_parse(payload ? payload : "", len, 1 << 20, &perr);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(task, "run_id"));
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(task, "shard_index");
    double v = cJSON_IsNumber(idx) ? idx->valuedouble : -1;
    enum hret_result r = HRET_OK;
    if (task == NULL) {
        r = hret_err_set(err, HRET_E_INVAL, "%s", perr.msg);
    } else if (id == NULL || id[0] == '\0' || strlen(id) >= cap || !(v >= 0) ||
               v > 9007199254740991.0 || v != floor(v)) {
        r = hret_err_set(err, HRET_E_INVAL, "run_id and shard_index are required");
    } else {
        snprintf(run_id, cap, "%s", id);
        *shard_index = (long long)v;
    }
    cJSON_Delete(task);
    return r;
}

cJSON *hret_worker_model_json(const struct hret_request_model *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", m->name);
    const char *id = m->config ? m->config->model : m->model_id;
    if (id != NULL) {
        cJSON_AddStringToObject(o, "model_id", id);
    }
    return o;
}

cJSON *hret_worker_dataset_json(const struct hret_request_dataset *d, const char *version,
                                const char *data_version)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "split", d->split);
    cJSON *s = cJSON_AddArrayToObject(o, "subsets");
    for (size_t i = 0; i < d->subsets.count; i++) {
        cJSON_AddItemToArray(s, cJSON_CreateString(d->subsets.items[i]));
    }
    if (version != NULL) {
        cJSON_AddStringToObject(o, "version", version);
    }
    if (data_version != NULL && data_version[0] != '\0') {
        cJSON_AddStringToObject(o, "data_version", data_version);
    }
    return o;
}

cJSON *hret_worker_failed_data(const char *request_id, const char *run_id, const char *cls,
                               const char *message, const char *path)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "request_id", request_id);
    if (run_id != NULL) {
        cJSON_AddStringToObject(o, "run_id", run_id);
    }
    cJSON_AddStringToObject(o, "status", "failed");
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "class", cls);
    char msg[2049];
    snprintf(msg, sizeof msg, "%s", message);
    cJSON_AddStringToObject(e, "message", msg);
    if (path != NULL && *path != '\0') {
        cJSON_AddStringToObject(e, "path", path);
    }
    char now[40];
    hret_cloudevent_now(now);
    cJSON_AddStringToObject(o, "failed_at", now);
    return o;
}
