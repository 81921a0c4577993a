#include "hret_request.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hret_dataset.h"
#include "hret_eval.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_request_check.h"
#include "hret_request_walk.h"

/* What the top level parses into: the request plus the PipelineRunner-style keys. */
struct raw {
    struct hret_request req;
    struct hret_request_dataset p_ds; /* dataset_name, subset, split, limit, ... */
    char *p_model;                    /* model_backend_name */
    const cJSON *p_backend_params;    /* model_backend_params */
    char *p_method;                   /* evaluation_method_name */
    const cJSON *p_eval_params;       /* evaluator_params */
    char *p_judge;                    /* judge_model */
    bool p_model_given;               /* model_backend_name was given */
    struct hret_request_runner run;   /* the other PipelineRunner keys */
};

static void dataset_init(void *p)
{
    ((struct hret_request_dataset *)p)->seed = -1;
}

static void model_init(void *p)
{
    hret_request_gen_init(&((struct hret_request_model *)p)->gen);
}

#define AT(type, member) .key = #member, .offset = offsetof(type, member)

#define G struct hret_request_gen
static const struct hret_request_field gen_fields[] = {
    {AT(G, temperature), .type = HRET_REQUEST_F_NUM, .min = 0, .max = 2},
    {AT(G, top_p), .type = HRET_REQUEST_F_NUM, .min = 0, .max = 1},
    {AT(G, max_tokens), .type = HRET_REQUEST_F_INT, .min = 0, .max = 10000000},
    {AT(G, seed), .type = HRET_REQUEST_F_INT, .min = -HRET_REQUEST_BIG, .max = HRET_REQUEST_BIG},
    {0},
};
#undef G
static const struct hret_request_table gen_table = {sizeof(struct hret_request_gen), gen_fields,
                                                    NULL};

#define E struct hret_request_model
static const struct hret_request_field endpoint_fields[] = {
    {.key = "base_url",
     .type = HRET_REQUEST_F_LABEL,
     .offset = offsetof(E, base_url),
     .required = true},
    {.key = "model",
     .type = HRET_REQUEST_F_LABEL,
     .offset = offsetof(E, model_id),
     .required = true},
    {AT(E, backend), .type = HRET_REQUEST_F_BACKEND},
    {0},
};
static const struct hret_request_table endpoint_table = {0, endpoint_fields, NULL};

static const struct hret_request_field model_fields[] = {
    {AT(E, name), .type = HRET_REQUEST_F_NAME, .required = true},
    {.key = "params",
     .type = HRET_REQUEST_F_SECTION,
     .offset = offsetof(E, gen),
     .sub = &gen_table},
    {.key = "endpoint", .type = HRET_REQUEST_F_SECTION, .offset = 0, .sub = &endpoint_table},
    {0},
};
#undef E
static const struct hret_request_table model_table = {sizeof(struct hret_request_model),
                                                      model_fields, model_init};

#define D struct hret_request_dataset
static const struct hret_request_field dataset_fields[] = {
    {AT(D, name), .type = HRET_REQUEST_F_PART, .required = true},
    {.key = "subset", .type = HRET_REQUEST_F_SUBSET, .offset = offsetof(D, subsets), .max = 512},
    {AT(D, split), .type = HRET_REQUEST_F_PART},
    {AT(D, limit), .type = HRET_REQUEST_F_INT, .max = HRET_REQUEST_BIG},
    {AT(D, sample_size), .type = HRET_REQUEST_F_INT, .max = HRET_REQUEST_BIG},
    {AT(D, seed), .type = HRET_REQUEST_F_INT, .max = HRET_REQUEST_BIG},
    {AT(D, few_shot_split), .type = HRET_REQUEST_F_PART},
    {AT(D, data_dir), .type = HRET_REQUEST_F_DIR},
    {AT(D, version), .type = HRET_REQUEST_F_PART},
    {AT(D, params), .type = HRET_REQUEST_F_OBJECT},
    {0},
};
#undef D
static const struct hret_request_table dataset_table = {sizeof(struct hret_request_dataset),
                                                        dataset_fields, dataset_init};

#define R struct hret_request
static const struct hret_request_field sc_fields[] = {
    {.key = "paths",
     .type = HRET_REQUEST_F_INT,
     .offset = offsetof(R, sc_paths),
     .min = 2,
     .max = 64,
     .required = true},
    {.key = "temperature",
     .type = HRET_REQUEST_F_NUM,
     .offset = offsetof(R, sc_temperature),
     .max = 2},
    {0},
};
static const struct hret_request_table sc_table = {0, sc_fields, NULL};

static const struct hret_request_field eval_fields[] = {
    {.key = "method", .type = HRET_REQUEST_F_NAME, .offset = offsetof(R, method)},
    {.key = "params", .type = HRET_REQUEST_F_OBJECT, .offset = offsetof(R, method_params)},
    {AT(R, judge_model), .type = HRET_REQUEST_F_NAME},
    {.key = "self_consistency", .type = HRET_REQUEST_F_SECTION, .sub = &sc_table},
    {AT(R, language_penalty), .type = HRET_REQUEST_F_NUM, .max = 1},
    {AT(R, language_gate), .type = HRET_REQUEST_F_BOOL},
    {AT(R, prompt_suffix), .type = HRET_REQUEST_F_LABEL},
    {0},
};
static const struct hret_request_table eval_table = {0, eval_fields, NULL};

#define T struct hret_request_tracking
static const struct hret_request_field mlflow_fields[] = {
    {.key = "experiment", .type = HRET_REQUEST_F_LABEL, .offset = offsetof(T, mlflow_experiment)},
    {0},
};
static const struct hret_request_field wandb_fields[] = {
    {.key = "project", .type = HRET_REQUEST_F_LABEL, .offset = offsetof(T, wandb_project)},
    {.key = "entity", .type = HRET_REQUEST_F_LABEL, .offset = offsetof(T, wandb_entity)},
    {0},
};
static const struct hret_request_table mlflow_table = {0, mlflow_fields, NULL};
static const struct hret_request_table wandb_table = {0, wandb_fields, NULL};
static const struct hret_request_field tracking_fields[] = {
    {AT(T, mlflow), .type = HRET_REQUEST_F_TRACK, .sub = &mlflow_table},
    {AT(T, wandb), .type = HRET_REQUEST_F_TRACK, .sub = &wandb_table},
    {AT(T, tensorboard), .type = HRET_REQUEST_F_TRACK},
    {0},
};
#undef T
static const struct hret_request_table tracking_table = {0, tracking_fields, NULL};

#define A struct hret_request_alerts
static const struct hret_request_field alerts_fields[] = {
    {AT(A, min_accuracy), .type = HRET_REQUEST_F_NUM, .max = 1},
    {AT(A, max_drop), .type = HRET_REQUEST_F_NUM, .max = 1},
    {AT(A, baseline), .type = HRET_REQUEST_F_NAME},
    {0},
};
#undef A
static const struct hret_request_table alerts_table = {0, alerts_fields, NULL};

#define W struct raw
static const struct hret_request_field request_fields[] = {
    {.key = "request_id", .type = HRET_REQUEST_F_ID, .offset = offsetof(W, req.request_id)},
    {.key = "run_name", .type = HRET_REQUEST_F_LABEL, .offset = offsetof(W, req.run_name)},
    {.key = "datasets",
     .type = HRET_REQUEST_F_LIST,
     .offset = offsetof(W, req.datasets),
     .max = 64,
     .sub = &dataset_table,
     .count_off = offsetof(W, req.n_datasets)},
    {.key = "models",
     .type = HRET_REQUEST_F_LIST,
     .offset = offsetof(W, req.models),
     .max = 16,
     .sub = &model_table,
     .count_off = offsetof(W, req.n_models)},
    {.key = "evaluation",
     .type = HRET_REQUEST_F_SECTION,
     .offset = offsetof(W, req),
     .sub = &eval_table},
    {.key = "num_few_shot",
     .type = HRET_REQUEST_F_INT,
     .offset = offsetof(W, req.num_few_shot),
     .max = 64},
    {.key = "metadata", .type = HRET_REQUEST_F_OBJECT, .offset = offsetof(W, req.metadata)},
    {.key = "tracking",
     .type = HRET_REQUEST_F_SECTION,
     .offset = offsetof(W, req.tracking),
     .sub = &tracking_table},
    {.key = "track_metrics",
     .type = HRET_REQUEST_F_NAMES,
     .offset = offsetof(W, req.track_metrics),
     .max = 64},
    {.key = "alerts",
     .type = HRET_REQUEST_F_SECTION,
     .offset = offsetof(W, req.alerts),
     .sub = &alerts_table},
    /* PipelineRunner style */
    {.key = "dataset_name", .type = HRET_REQUEST_F_PART, .offset = offsetof(W, p_ds.name)},
    {.key = "subset",
     .type = HRET_REQUEST_F_SUBSET,
     .offset = offsetof(W, p_ds.subsets),
     .max = 512},
    {.key = "split", .type = HRET_REQUEST_F_PART, .offset = offsetof(W, p_ds.split)},
    {.key = "limit",
     .type = HRET_REQUEST_F_INT,
     .offset = offsetof(W, p_ds.limit),
     .max = HRET_REQUEST_BIG},
    {.key = "few_shot_split",
     .type = HRET_REQUEST_F_PART,
     .offset = offsetof(W, p_ds.few_shot_split)},
    {.key = "dataset_params", .type = HRET_REQUEST_F_OBJECT, .offset = offsetof(W, p_ds.params)},
    {.key = "model_backend_name", .type = HRET_REQUEST_F_NAME, .offset = offsetof(W, p_model)},
    {.key = "model_backend_params",
     .type = HRET_REQUEST_F_OBJECT,
     .offset = offsetof(W, p_backend_params)},
    {.key = "evaluation_method_name", .type = HRET_REQUEST_F_NAME, .offset = offsetof(W, p_method)},
    {.key = "evaluator_params",
     .type = HRET_REQUEST_F_OBJECT,
     .offset = offsetof(W, p_eval_params)},
    {.key = "judge_model", .type = HRET_REQUEST_F_NAME, .offset = offsetof(W, p_judge)},
    {.key = "scaling_method_name", .type = HRET_REQUEST_F_NAME, .offset = offsetof(W, run.scaling)},
    {.key = "scaling_params",
     .type = HRET_REQUEST_F_OBJECT,
     .offset = offsetof(W, run.scaling_params)},
    {.key = "language_penalize",
     .type = HRET_REQUEST_F_TRACK,
     .offset = offsetof(W, run.language_penalize)},
    {.key = "target_lang", .type = HRET_REQUEST_F_NAME, .offset = offsetof(W, run.target_lang)},
    {.key = "custom_cot_parser",
     .type = HRET_REQUEST_F_LABEL,
     .offset = offsetof(W, run.custom_cot_parser)},
    {.key = "few_shot_instruction",
     .type = HRET_REQUEST_F_LABEL,
     .offset = offsetof(W, run.few_shot_instruction)},
    {.key = "few_shot_example_template",
     .type = HRET_REQUEST_F_LABEL,
     .offset = offsetof(W, run.few_shot_example_template)},
    {0},
};
#undef W
static const struct hret_request_table request_table = {sizeof(struct raw), request_fields, NULL};

/* ---- normalisation: PipelineRunner keys, defaults, names resolved against the config ---- */

static const char *const pipeline_ds_keys[] = {"dataset_name",
                                               "subset",
                                               "split",
                                               "limit",
                                               "dataset_params",
                                               "few_shot_split",
                                               "few_shot_instruction",
                                               "few_shot_example_template",
                                               NULL};
static const char *const pipeline_model_keys[] = {"model_backend_name", "model_backend_params",
                                                  NULL};
static const char *const pipeline_eval_keys[] = {"evaluation_method_name",
                                                 "evaluator_params",
                                                 "judge_model",
                                                 "scaling_method_name",
                                                 "scaling_params",
                                                 "language_penalize",
                                                 "target_lang",
                                                 "custom_cot_parser",
                                                 NULL};

/* The first of keys present in doc, or NULL. */
static const char *first_key(const cJSON *doc, const char *const *keys)
{
    for (; *keys != NULL; keys++) {
        if (cJSON_GetObjectItemCaseSensitive(doc, *keys) != NULL) {
            return *keys;
        }
    }
    return NULL;
}

static enum hret_result not_both(struct hret_request_ctx *c, const cJSON *doc,
                                 const char *canonical, const char *const *pipeline)
{
    const char *k = first_key(doc, pipeline);
    if (k != NULL && cJSON_GetObjectItemCaseSensitive(doc, canonical) != NULL) {
        snprintf(c->path, sizeof c->path, "%s", k);
        return hret_request_fail(c, "use either '%s' or the PipelineRunner-style keys, not both",
                                 canonical);
    }
    return HRET_OK;
}

/* "a, b, ..." of a named config array whose entries (size bytes each) start with their name. */
static void entry_names(const struct hret_cfg_array *a, size_t size, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->count && used < cap; i++) {
        const char *name = *(char *const *)((const char *)a->items + i * size);
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", name);
    }
    if (a->count == 0) {
        snprintf(buf, cap, "none are configured");
    }
}

static void model_names(const struct hret_config *cfg, char *buf, size_t cap)
{
    entry_names(&cfg->models, sizeof(struct hret_model_config), buf, cap);
}

static void evaluator_names(const struct hret_config *cfg, char *buf, size_t cap)
{
    entry_names(&cfg->evaluators, sizeof(struct hret_evaluator_config), buf, cap);
}

static void free_dataset(struct hret_request_dataset *d)
{
    free(d->name);
    hret_strlist_fini(&d->subsets);
    free(d->split);
    free(d->few_shot_split);
    free(d->data_dir);
    free(d->version);
}

static enum hret_result pipeline(struct hret_request_ctx *c, struct raw *w,
                                 const struct hret_config *cfg)
{
    const cJSON *doc = w->req.doc;
    struct hret_request *q = &w->req;
    if (not_both(c, doc, "datasets", pipeline_ds_keys) != HRET_OK ||
        not_both(c, doc, "models", pipeline_model_keys) != HRET_OK ||
        not_both(c, doc, "evaluation", pipeline_eval_keys) != HRET_OK) {
        return HRET_E_INVAL;
    }
    if (q->n_datasets == 0) {
        if (w->p_ds.name == NULL && cfg->default_dataset == NULL) {
            return hret_request_fail(c, "no dataset given and the config has no default_dataset");
        }
        if (w->p_ds.name == NULL) {
            w->p_ds.name = hret_xstrdup(cfg->default_dataset);
        }
        q->datasets = hret_xmalloc(sizeof *q->datasets);
        q->datasets[0] = w->p_ds;
        q->n_datasets = 1;
        memset(&w->p_ds, 0, sizeof w->p_ds);
    }
    if (q->n_models == 0) {
        if (w->p_backend_params != NULL && w->p_model == NULL) {
            snprintf(c->path, sizeof c->path, "model_backend_params");
            return hret_request_fail(c, "needs model_backend_name");
        }
        if (w->p_model == NULL && cfg->default_model == NULL) {
            char names[300];
            model_names(cfg, names, sizeof names);
            return hret_request_fail(
                c, "no model given and the config has no default_model (configured: %s)", names);
        }
        q->models = hret_xcalloc(1, sizeof *q->models);
        q->n_models = 1;
        model_init(q->models);
        w->p_model_given = w->p_model != NULL;
        q->models[0].name = w->p_model ? w->p_model : hret_xstrdup(cfg->default_model);
        w->p_model = NULL;
        if (w->p_model_given &&
            hret_request_runner_model(c, cfg, w->p_backend_params, q->models) != HRET_OK) {
            return HRET_E_INVAL;
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(doc, "evaluation") == NULL) {
        q->method = w->p_method;
        w->p_method = NULL;
        q->method_params = w->p_eval_params;
        q->judge_model = w->p_judge;
        w->p_judge = NULL;
    }
    bool piped = first_key(doc, pipeline_ds_keys) || first_key(doc, pipeline_model_keys) ||
                 first_key(doc, pipeline_eval_keys);
    return hret_request_runner_apply(c, &w->run, piped, q);
}

/* Self-consistency and the language gate, as hret run takes them (its setup_modes). */
static enum hret_result check_modes(struct hret_request_ctx *c, struct hret_request *q, bool piped)
{
    if (q->language_gate && isnan(q->language_penalty)) {
        q->language_penalty = 0.5;
    }
    if (q->prompt_suffix != NULL && strcmp(q->method, "log_likelihood") == 0) {
        snprintf(c->path, sizeof c->path, "%s",
                 piped ? "scaling_method_name" : "evaluation.prompt_suffix");
        return hret_request_fail(c, "a prompt suffix (HRET's prompt_cot) does not go with "
                                    "log_likelihood, which scores each option right after the "
                                    "prompt");
    }
    if (q->sc_paths == 0) {
        return HRET_OK;
    }
    snprintf(c->path, sizeof c->path, "%s",
             piped ? "scaling_method_name" : "evaluation.self_consistency");
    if (hret_eval_find(q->method) == NULL || strcmp(q->method, "log_likelihood") == 0 ||
        strcmp(q->method, "llm_judge") == 0 || q->judge_model != NULL) {
        return hret_request_fail(c,
                                 "self-consistency needs a built-in evaluator that parses "
                                 "answers (string_match, partial_match, math_match), not '%s'",
                                 q->method);
    }
    if (q->sc_temperature <= 0) {
        return hret_request_fail(c, "self-consistency needs a temperature above 0");
    }
    return HRET_OK;
}

static enum hret_result check_evaluation(struct hret_request_ctx *c, struct raw *w,
                                         const struct hret_config *cfg)
{
    struct hret_request *q = &w->req;
    bool piped = cJSON_GetObjectItemCaseSensitive(q->doc, "evaluation") == NULL;
    if (q->method == NULL) {
        q->method = hret_xstrdup(cfg->default_evaluation_method ? cfg->default_evaluation_method
                                                                : "string_match");
    }
    const struct hret_evaluator_ops *ops = hret_eval_find(q->method);
    snprintf(c->path, sizeof c->path, "%s", piped ? "evaluation_method_name" : "evaluation.method");
    if (ops == NULL && hret_config_evaluator(cfg, q->method) == NULL) {
        char names[300], external[300];
        evaluator_names(cfg, external, sizeof external);
        return hret_request_fail(c,
                                 "unknown evaluation method '%s' (known: %s; configured "
                                 "evaluators: %s)",
                                 q->method, hret_eval_names(names, sizeof names), external);
    }
    snprintf(c->path, sizeof c->path, "%s", piped ? "evaluator_params" : "evaluation.params");
    void *state = NULL;
    struct hret_err e = HRET_ERR_INIT;
    if (ops != NULL && ops->init(q->method_params, &state, &e) != HRET_OK) {
        return hret_request_fail(c, "%s", e.msg);
    }
    if (ops != NULL) {
        ops->destroy(state);
    }
    snprintf(c->path, sizeof c->path, "%s", piped ? "judge_model" : "evaluation.judge_model");
    if (q->judge_model != NULL && hret_config_model(cfg, q->judge_model) == NULL) {
        char names[300];
        model_names(cfg, names, sizeof names);
        return hret_request_fail(c, "unknown model '%s' (configured: %s)", q->judge_model, names);
    }
    bool judge = strcmp(q->method, "llm_judge") == 0;
    if (judge && q->judge_model == NULL) {
        return hret_request_fail(c, "llm_judge needs a judge model (the models: entry that "
                                    "judges the answers)");
    }
    if (!judge && q->judge_model != NULL) {
        return hret_request_fail(c,
                                 "a judge model is only used with llm_judge, not '%s' (HRET "
                                 "would score the judge's reply instead of the answer)",
                                 q->method);
    }
    if (check_modes(c, q, piped) != HRET_OK) {
        return HRET_E_INVAL;
    }
    c->path[0] = '\0';
    return HRET_OK;
}

static enum hret_result check_datasets(struct hret_request_ctx *c, struct raw *w,
                                       const struct hret_config *cfg)
{
    struct hret_request *q = &w->req;
    bool piped = cJSON_GetObjectItemCaseSensitive(q->doc, "datasets") == NULL;
    const char *const *names = hret_dataset_names();
    for (size_t i = 0; i < q->n_datasets; i++) {
        struct hret_request_dataset *d = &q->datasets[i];
        size_t k = 0;
        while (names[k] != NULL && strcasecmp(names[k], d->name) != 0) {
            k++;
        }
        if (names[k] == NULL) {
            char known[300];
            size_t used = 0;
            for (size_t j = 0; names[j] != NULL && used < sizeof known; j++) {
                used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", j ? ", " : "",
                                         names[j]);
            }
            if (piped) {
                snprintf(c->path, sizeof c->path, "dataset_name");
            } else {
                snprintf(c->path, sizeof c->path, "datasets[%zu].name", i);
            }
            return hret_request_fail(c, "unknown dataset '%s' (known: %s)", d->name, known);
        }
        free(d->name);
        d->name = hret_xstrdup(names[k]);
        if (d->split == NULL) {
            d->split = hret_xstrdup(cfg->default_split ? cfg->default_split : "test");
        }
        /* subsets, params and templates now, not when a worker loads the data */
        struct hret_dataset_spec spec = {.name = d->name,
                                         .subsets = &d->subsets,
                                         .split = d->split,
                                         .few_shot_split = d->few_shot_split,
                                         .params = d->params};
        struct hret_err derr = HRET_ERR_INIT;
        if (hret_dataset_check(&spec, &derr) != HRET_OK) {
            snprintf(c->path, sizeof c->path, piped ? "dataset_name" : "datasets[%zu]", i);
            return hret_request_fail(c, "%s", derr.msg);
        }
    }
    return HRET_OK;
}

static enum hret_result check_models(struct hret_request_ctx *c, struct raw *w,
                                     const struct hret_config *cfg)
{
    struct hret_request *q = &w->req;
    bool piped = cJSON_GetObjectItemCaseSensitive(q->doc, "models") == NULL;
    for (size_t i = 0; i < q->n_models; i++) {
        struct hret_request_model *m = &q->models[i];
        m->gen.has_seed = m->gen.seed != LLONG_MIN;
        m->gen.seed = m->gen.has_seed ? m->gen.seed : 0;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(q->models[j].name, m->name) == 0) {
                snprintf(c->path, sizeof c->path, "models[%zu].name", i);
                return hret_request_fail(c, "model '%s' is listed twice", m->name);
            }
        }
        if (m->base_url != NULL) {
            char why[300];
            if (!hret_request_check_url(m->base_url, &cfg->endpoints, why, sizeof why)) {
                if (piped) {
                    snprintf(c->path, sizeof c->path, "model_backend_params");
                } else {
                    snprintf(c->path, sizeof c->path, "models[%zu].endpoint.base_url", i);
                }
                return hret_request_fail(c, "%s", why);
            }
            m->inline_config = hret_config_model_inline(m->name, m->base_url, m->model_id,
                                                        m->backend, &cfg->endpoints);
            m->config = m->inline_config;
            continue;
        }
        m->config = hret_config_model(cfg, m->name);
        if (m->config == NULL) {
            char names[300];
            model_names(cfg, names, sizeof names);
            if (piped) {
                snprintf(c->path, sizeof c->path, "model_backend_name");
            } else {
                snprintf(c->path, sizeof c->path, "models[%zu].name", i);
            }
            return hret_request_fail(c, "unknown model '%s' (configured: %s)", m->name, names);
        }
    }
    return HRET_OK;
}

static void raw_fini(struct raw *w)
{
    free_dataset(&w->p_ds);
    free(w->p_model);
    free(w->p_method);
    free(w->p_judge);
    hret_request_runner_fini(&w->run);
}

enum hret_result hret_request_parse(const char *text, size_t len, const struct hret_config *cfg,
                                    struct hret_request **out, char *path, struct hret_err *err)
{
    struct hret_request_ctx c = {.err = err};
    *out = NULL;
    if (path != NULL) {
        path[0] = '\0';
    }
    size_t max = cfg->kafka.max_message_bytes > 0 ? (size_t)cfg->kafka.max_message_bytes : 1 << 20;
    if (hret_request_prescan(text, len, max, HRET_REQUEST_MAX_DEPTH, err) != HRET_OK) {
        return HRET_E_INVAL;
    }
    struct hret_err perr = HRET_ERR_INIT;
    cJSON *doc = hret_json_parse(text, len, max, &perr);
    if (doc == NULL) {
        return hret_err_set(err, HRET_E_INVAL, "invalid JSON: %s", perr.msg);
    }
    struct raw *w = hret_xcalloc(1, sizeof *w);
    w->req.doc = doc;
    w->req.tracking.mlflow = w->req.tracking.wandb = w->req.tracking.tensorboard = -1;
    w->req.alerts.min_accuracy = w->req.alerts.max_drop = NAN;
    w->req.sc_temperature = 0.7;
    w->req.language_penalty = NAN;
    w->p_ds.seed = -1;
    w->run.language_penalize = -1;
    enum hret_result r = HRET_E_INVAL;
    if (!cJSON_IsObject(doc)) {
        hret_request_fail(&c, "a request is a JSON object");
    } else if (hret_request_find_secret(doc, c.path, sizeof c.path)) {
        hret_request_fail(
            &c, "a request never carries a secret value; name a model from the config (its "
                "api_key_env holds the key)");
    } else if (hret_request_walk(&c, doc, &request_table, (char *)w) == HRET_OK &&
               pipeline(&c, w, cfg) == HRET_OK && check_datasets(&c, w, cfg) == HRET_OK &&
               check_models(&c, w, cfg) == HRET_OK && check_evaluation(&c, w, cfg) == HRET_OK) {
        r = HRET_OK;
    }
    raw_fini(w);
    if (r != HRET_OK) {
        if (path != NULL) {
            snprintf(path, HRET_REQUEST_PATH_MAX, "%s", c.path);
        }
        hret_request_destroy(&w->req); /* req is the first member: frees w */
        return r;
    }
    *out = &w->req;
    return HRET_OK;
}

void hret_request_destroy(struct hret_request *req)
{
    if (req == NULL) {
        return;
    }
    free(req->request_id);
    free(req->run_name);
    for (size_t i = 0; i < req->n_datasets; i++) {
        free_dataset(&req->datasets[i]);
    }
    free(req->datasets);
    for (size_t i = 0; i < req->n_models; i++) {
        free(req->models[i].name);
        free(req->models[i].base_url);
        free(req->models[i].model_id);
        hret_config_model_free(req->models[i].inline_config);
    }
    free(req->models);
    free(req->method);
    free(req->judge_model);
    free(req->prompt_suffix);
    free(req->tracking.mlflow_experiment);
    free(req->tracking.wandb_project);
    free(req->tracking.wandb_entity);
    hret_strlist_fini(&req->track_metrics);
    free(req->alerts.baseline);
    cJSON_Delete(req->doc);
    free(req); /* allocated as the first member of struct raw */
}

void hret_request_set_id(struct hret_request *req, const char *id)
{
    free(req->request_id);
    req->request_id = hret_xstrdup(id);
}
