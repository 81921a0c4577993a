/* The canonical JSON of a parsed request (hret_request_to_json). */
#include <math.h>
#include <stdlib.h>

#include "hret_request.h"

static void add_str(cJSON *o, const char *key, const char *v)
{
    if (v != NULL) {
        cJSON_AddStringToObject(o, key, v);
    }
}

static void add_copy(cJSON *o, const char *key, const cJSON *v)
{
    if (v != NULL) {
        cJSON_AddItemToObject(o, key, cJSON_Duplicate(v, 1));
    }
}

static cJSON *strings(const struct hret_strlist *l)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < l->count; i++) {
        cJSON_AddItemToArray(a, cJSON_CreateString(l->items[i]));
    }
    return a;
}

static cJSON *dataset_json(const struct hret_request_dataset *d)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "name", d->name);
    if (d->subsets.count > 0) {
        cJSON_AddItemToObject(o, "subset", strings(&d->subsets));
    }
    add_str(o, "split", d->split);
    if (d->limit > 0) {
        cJSON_AddNumberToObject(o, "limit", (double)d->limit);
    }
    if (d->sample_size > 0) {
        cJSON_AddNumberToObject(o, "sample_size", (double)d->sample_size);
    }
    if (d->seed >= 0) {
        cJSON_AddNumberToObject(o, "seed", (double)d->seed);
    }
    add_str(o, "few_shot_split", d->few_shot_split);
    add_str(o, "data_dir", d->data_dir);
    add_str(o, "version", d->version);
    add_copy(o, "params", d->params);
    return o;
}

static cJSON *model_json(const struct hret_request_model *m)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "name", m->name);
    cJSON *p = cJSON_CreateObject();
    if (!isnan(m->gen.temperature)) {
        cJSON_AddNumberToObject(p, "temperature", m->gen.temperature);
    }
    if (!isnan(m->gen.top_p)) {
        cJSON_AddNumberToObject(p, "top_p", m->gen.top_p);
    }
    if (m->gen.max_tokens >= 0) {
        cJSON_AddNumberToObject(p, "max_tokens", (double)m->gen.max_tokens);
    }
    if (m->gen.has_seed) {
        cJSON_AddNumberToObject(p, "seed", (double)m->gen.seed);
    }
    if (p->child != NULL) {
        cJSON_AddItemToObject(o, "params", p);
    } else {
        cJSON_Delete(p);
    }
    if (m->base_url != NULL) {
        cJSON *e = cJSON_AddObjectToObject(o, "endpoint");
        add_str(e, "base_url", m->base_url);
        add_str(e, "model", m->model_id);
        add_str(e, "backend",
                m->backend == HRET_BACKEND_OPENAI_COMPLETIONS ? "openai_completions"
                                                              : "openai_chat");
    }
    return o;
}

static void add_track(cJSON *o, const char *key, int flag, const char *k1, const char *v1,
                      const char *k2, const char *v2)
{
    if (flag < 0) {
        return;
    }
    if (flag == 0 || (v1 == NULL && v2 == NULL)) {
        cJSON_AddBoolToObject(o, key, flag);
        return;
    }
    cJSON *t = cJSON_AddObjectToObject(o, key);
    add_str(t, k1, v1);
    if (k2 != NULL) {
        add_str(t, k2, v2);
    }
}

cJSON *hret_request_to_json(const struct hret_request *req)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "request_id", req->request_id);
    add_str(o, "run_name", req->run_name);
    cJSON *ds = cJSON_AddArrayToObject(o, "datasets");
    for (size_t i = 0; i < req->n_datasets; i++) {
        cJSON_AddItemToArray(ds, dataset_json(&req->datasets[i]));
    }
    cJSON *ms = cJSON_AddArrayToObject(o, "models");
    for (size_t i = 0; i < req->n_models; i++) {
        cJSON_AddItemToArray(ms, model_json(&req->models[i]));
    }
    cJSON *ev = cJSON_AddObjectToObject(o, "evaluation");
    add_str(ev, "method", req->method);
    add_copy(ev, "params", req->method_params);
    add_str(ev, "judge_model", req->judge_model);
    if (req->sc_paths > 0) {
        cJSON *sc = cJSON_AddObjectToObject(ev, "self_consistency");
        cJSON_AddNumberToObject(sc, "paths", (double)req->sc_paths);
        cJSON_AddNumberToObject(sc, "temperature", req->sc_temperature);
    }
    if (!isnan(req->language_penalty)) {
        cJSON_AddNumberToObject(ev, "language_penalty", req->language_penalty);
    }
    add_str(ev, "prompt_suffix", req->prompt_suffix);
    if (req->language_gate) {
        cJSON_AddBoolToObject(ev, "language_gate", true);
    }
    cJSON_AddNumberToObject(o, "num_few_shot", (double)req->num_few_shot);
    add_copy(o, "metadata", req->metadata);
    const struct hret_request_tracking *t = &req->tracking;
    if (t->mlflow >= 0 || t->wandb >= 0 || t->tensorboard >= 0) {
        cJSON *tr = cJSON_AddObjectToObject(o, "tracking");
        add_track(tr, "mlflow", t->mlflow, "experiment", t->mlflow_experiment, NULL, NULL);
        add_track(tr, "wandb", t->wandb, "project", t->wandb_project, "entity", t->wandb_entity);
        add_track(tr, "tensorboard", t->tensorboard, NULL, NULL, NULL, NULL);
    }
    if (req->track_metrics.count > 0) {
        cJSON_AddItemToObject(o, "track_metrics", strings(&req->track_metrics));
    }
    const struct hret_request_alerts *a = &req->alerts;
    if (!isnan(a->min_accuracy) || !isnan(a->max_drop) || a->baseline != NULL) {
        cJSON *al = cJSON_AddObjectToObject(o, "alerts");
        if (!isnan(a->min_accuracy)) {
            cJSON_AddNumberToObject(al, "min_accuracy", a->min_accuracy);
        }
        if (!isnan(a->max_drop)) {
            cJSON_AddNumberToObject(al, "max_drop", a->max_drop);
        }
        add_str(al, "baseline", a->baseline);
    }
    return o;
}
