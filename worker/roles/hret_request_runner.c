/* HRET's PipelineRunner vocabulary beyond datasets/models/evaluation (hret_request_walk.h):
 * model_backend_name as a configured model or an HRET backend kind, model_backend_params,
 * scaling_method_name/scaling_params, language_penalize/target_lang, custom_cot_parser and the
 * few-shot templates. What each key becomes is in the README (HRET's request vocabulary). */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_config.h"
#include "hret_mem.h"
#include "hret_request_walk.h"

/* model_backend_params */
struct backend_params {
    struct hret_request_gen gen;
    char *base_url, *api_base, *model, *model_name, *provider;
    int backend;
};

#define B struct backend_params
static const struct hret_request_field backend_fields[] = {
    {.key = "temperature",
     .type = HRET_REQUEST_F_NUM,
     .offset = offsetof(B, gen.temperature),
     .max = 2},
    {.key = "top_p", .type = HRET_REQUEST_F_NUM, .offset = offsetof(B, gen.top_p), .max = 1},
    {.key = "max_tokens",
     .type = HRET_REQUEST_F_INT,
     .offset = offsetof(B, gen.max_tokens),
     .max = 10000000},
    {.key = "seed",
     .type = HRET_REQUEST_F_INT,
     .offset = offsetof(B, gen.seed),
     .min = -HRET_REQUEST_BIG,
     .max = HRET_REQUEST_BIG},
    {.key = "base_url", .type = HRET_REQUEST_F_LABEL, .offset = offsetof(B, base_url)},
    {.key = "api_base", .type = HRET_REQUEST_F_LABEL, .offset = offsetof(B, api_base)},
    {.key = "model", .type = HRET_REQUEST_F_LABEL, .offset = offsetof(B, model)},
    {.key = "model_name", .type = HRET_REQUEST_F_LABEL, .offset = offsetof(B, model_name)},
    /* litellm's provider: the model is found by model_name, so it only has to be a label */
    {.key = "provider", .type = HRET_REQUEST_F_NAME, .offset = offsetof(B, provider)},
    {.key = "backend", .type = HRET_REQUEST_F_BACKEND, .offset = offsetof(B, backend)},
    {0},
};
#undef B
static const struct hret_request_table backend_table = {sizeof(struct backend_params),
                                                        backend_fields, NULL};

/* self_consistency's scaling_params */
struct sc_params {
    long long n_paths;
    char *prompt_cot;
};

static const struct hret_request_field sc_fields[] = {
    {.key = "n_paths",
     .type = HRET_REQUEST_F_INT,
     .offset = offsetof(struct sc_params, n_paths),
     .min = 1,
     .max = 64},
    {.key = "prompt_cot",
     .type = HRET_REQUEST_F_LABEL,
     .offset = offsetof(struct sc_params, prompt_cot)},
    {0},
};
static const struct hret_request_table sc_table = {sizeof(struct sc_params), sc_fields, NULL};

/* seed starts out of its range: check_models turns "given" into has_seed. */
void hret_request_gen_init(struct hret_request_gen *g)
{
    g->temperature = NAN;
    g->top_p = NAN;
    g->max_tokens = -1;
    g->seed = LLONG_MIN;
}

void hret_request_runner_fini(struct hret_request_runner *r)
{
    free(r->scaling);
    free(r->target_lang);
    free(r->custom_cot_parser);
    free(r->few_shot_instruction);
    free(r->few_shot_example_template);
}

/* "name (model id), ..." of the configured models. */
static void models_with_ids(const struct hret_config *cfg, char *buf, size_t cap)
{
    const struct hret_model_config *m = cfg->models.items;
    size_t used = 0;
    snprintf(buf, cap, "none are configured");
    for (size_t i = 0; i < cfg->models.count && used < cap; i++) {
        used += (size_t)snprintf(buf + used, cap - used, "%s%s (%s)", i ? ", " : "", m[i].name,
                                 m[i].model ? m[i].model : "-");
    }
}

/* The configured model named id, else the first whose model id is id; NULL when none. */
static const struct hret_model_config *find_served(const struct hret_config *cfg, const char *id)
{
    const struct hret_model_config *named = hret_config_model(cfg, id);
    const struct hret_model_config *m = cfg->models.items;
    for (size_t i = 0; named == NULL && i < cfg->models.count; i++) {
        if (m[i].model != NULL && strcmp(m[i].model, id) == 0) {
            named = &m[i];
        }
    }
    return named;
}

/* huggingface and offline vllm load the model into HRET's own Python process. */
static enum hret_result refuse_in_process(struct hret_request_ctx *c, const char *kind,
                                          const cJSON *params)
{
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(params, "model_name_or_path");
    const char *model = cJSON_IsString(path) ? path->valuestring : "<model>";
    bool hf = strcmp(kind, "huggingface") == 0;
    snprintf(c->path, sizeof c->path, "model_backend_name");
    return hret_request_fail(
        c,
        "'%s' is HRET's %s backend (%s in the Python process), which hret cannot run: hret only "
        "calls model endpoints. Serve the model behind an OpenAI-compatible endpoint (`vllm serve "
        "%.200s --port 8000`, or llama.cpp's `llama-server -m model.gguf --port 8080`), add it to "
        "the config's models: (`my-model: {base_url: \"http://127.0.0.1:8000/v1\", model: "
        "\"%.200s\"}`) and name that entry in model_backend_name",
        kind, hf ? "in-process" : "offline vLLM", hf ? "Transformers" : "vllm.LLM", model, model);
}

/* openai/litellm without an endpoint: the configured model whose name or id is model_name. */
static enum hret_result map_kind(struct hret_request_ctx *c, const struct hret_config *cfg,
                                 const char *id, struct hret_request_model *m)
{
    char names[400];
    models_with_ids(cfg, names, sizeof names);
    if (id == NULL) {
        snprintf(c->path, sizeof c->path, "model_backend_params");
        return hret_request_fail(c,
                                 "the HRET backend kind '%s' needs model_name: a configured "
                                 "model's name or model id (configured: %s)",
                                 m->name, names);
    }
    const struct hret_model_config *served = find_served(cfg, id);
    if (served == NULL) {
        snprintf(c->path, sizeof c->path, "model_backend_params.model_name");
        return hret_request_fail(c, "no configured model is named or serves '%s' (configured: %s)",
                                 id, names);
    }
    free(m->name);
    m->name = hret_xstrdup(served->name);
    return HRET_OK;
}

static enum hret_result backend_checks(struct hret_request_ctx *c, const struct backend_params *bp,
                                       bool by_id)
{
    if (bp->base_url != NULL && bp->api_base != NULL) {
        return hret_request_fail(c, "give base_url or api_base, not both");
    }
    if (bp->model != NULL && bp->model_name != NULL) {
        return hret_request_fail(c, "give model or model_name, not both");
    }
    bool url = bp->base_url || bp->api_base, id = bp->model || bp->model_name;
    if (url != id && !(by_id && !url)) {
        return hret_request_fail(c,
                                 "an inline endpoint needs both base_url (or api_base) and model "
                                 "(or model_name)");
    }
    return HRET_OK;
}

enum hret_result hret_request_runner_model(struct hret_request_ctx *c,
                                           const struct hret_config *cfg, const cJSON *params,
                                           struct hret_request_model *m)
{
    bool by_id = false;
    if (hret_config_model(cfg, m->name) == NULL) {
        if (strcmp(m->name, "huggingface") == 0 || strcmp(m->name, "vllm") == 0) {
            return refuse_in_process(c, m->name, params);
        }
        by_id = strcmp(m->name, "openai") == 0 || strcmp(m->name, "litellm") == 0;
    }
    struct backend_params bp = {0};
    hret_request_gen_init(&bp.gen);
    snprintf(c->path, sizeof c->path, "model_backend_params");
    enum hret_result r = HRET_OK;
    if (params != NULL) {
        r = hret_request_walk(c, params, &backend_table, (char *)&bp);
    }
    if (r == HRET_OK) {
        r = backend_checks(c, &bp, by_id);
    }
    char *url = bp.base_url ? bp.base_url : bp.api_base;
    char *id = bp.model ? bp.model : bp.model_name;
    if (r == HRET_OK && by_id && url == NULL) {
        r = map_kind(c, cfg, id, m);
    } else if (r == HRET_OK) {
        m->base_url = hret_xstrdup(url);
        m->model_id = hret_xstrdup(id);
        m->backend = bp.backend;
    }
    if (r == HRET_OK) {
        m->gen = bp.gen;
    }
    free(bp.base_url);
    free(bp.api_base);
    free(bp.model);
    free(bp.model_name);
    free(bp.provider);
    return r;
}

/* HRET's scaling methods that make no sense over an endpoint, and why. */
static const struct {
    const char *name, *why;
} refused_scaling[] = {
    {"best_of_n", "HRET ranks the candidates by a reward model or the HuggingFace backend's "
                  "log-probabilities; over an endpoint every score is 0 and HRET returns the "
                  "first candidate, i.e. a plain run at n times the cost"},
    {"beam_search", "HRET grows each beam one token at a time from per-token log-probabilities "
                    "that only its in-process HuggingFace backend gives; over an endpoint each "
                    "step is a whole completion"},
};

/* scaling_method_name and scaling_params. */
static enum hret_result scaling(struct hret_request_ctx *c, const struct hret_request_runner *r,
                                struct hret_request *q)
{
    if (r->scaling == NULL) {
        if (r->scaling_params == NULL) {
            return HRET_OK;
        }
        snprintf(c->path, sizeof c->path, "scaling_params");
        return hret_request_fail(c, "needs scaling_method_name");
    }
    snprintf(c->path, sizeof c->path, "scaling_method_name");
    for (size_t i = 0; i < sizeof refused_scaling / sizeof refused_scaling[0]; i++) {
        if (strcmp(r->scaling, refused_scaling[i].name) == 0) {
            return hret_request_fail(c,
                                     "%s is refused: %s (use self_consistency, or no scaling "
                                     "method)",
                                     r->scaling, refused_scaling[i].why);
        }
    }
    if (strcmp(r->scaling, "self_consistency") != 0) {
        return hret_request_fail(c,
                                 "unknown scaling method '%s' (HRET's: self_consistency; "
                                 "best_of_n and beam_search are refused)",
                                 r->scaling);
    }
    struct sc_params sp = {.n_paths = 5};
    snprintf(c->path, sizeof c->path, "scaling_params");
    enum hret_result res = HRET_OK;
    if (r->scaling_params != NULL) {
        res = hret_request_walk(c, r->scaling_params, &sc_table, (char *)&sp);
    }
    if (res == HRET_OK) {
        /* one path is one answer to the CoT prompt: nothing to vote on */
        q->sc_paths = sp.n_paths >= 2 ? sp.n_paths : 0;
        q->prompt_suffix = sp.prompt_cot ? sp.prompt_cot : hret_xstrdup(HRET_REQUEST_PROMPT_COT);
        sp.prompt_cot = NULL;
        /* HRET samples every path at the backend's temperature */
        if (!isnan(q->models[0].gen.temperature)) {
            q->sc_temperature = q->models[0].gen.temperature;
        }
    }
    free(sp.prompt_cot);
    return res;
}

static enum hret_result language(struct hret_request_ctx *c, const struct hret_request_runner *r,
                                 bool piped, struct hret_request *q)
{
    bool on = r->language_penalize < 0 ? piped : r->language_penalize == 1;
    if (!on) {
        return HRET_OK; /* HRET ignores target_lang then */
    }
    if (r->target_lang != NULL && strcmp(r->target_lang, "ko") != 0) {
        snprintf(c->path, sizeof c->path, "target_lang");
        return hret_request_fail(c,
                                 "only 'ko' is supported while language_penalize is on: hret's "
                                 "language penalty is the Hangul share of the answer, not a "
                                 "language detector, so it cannot tell '%s' from other "
                                 "languages (give language_penalize: false)",
                                 r->target_lang);
    }
    q->language_penalty = HRET_REQUEST_LANGUAGE_THRESHOLD;
    return HRET_OK;
}

/* A top-level few-shot template becomes the dataset parameter of the same name. */
static enum hret_result template_param(struct hret_request_ctx *c, struct hret_request *q,
                                       const char *key, const char *value)
{
    if (value == NULL) {
        return HRET_OK;
    }
    /* a PipelineRunner dataset: its params are the document's dataset_params */
    cJSON *params = cJSON_GetObjectItemCaseSensitive(q->doc, "dataset_params");
    if (params == NULL) {
        params = cJSON_AddObjectToObject(q->doc, "dataset_params");
        q->datasets[0].params = params;
    }
    if (cJSON_GetObjectItemCaseSensitive(params, key) != NULL) {
        snprintf(c->path, sizeof c->path, "%s", key);
        return hret_request_fail(c, "given here and in dataset_params, give it once");
    }
    cJSON_AddStringToObject(params, key, value);
    return HRET_OK;
}

enum hret_result hret_request_runner_apply(struct hret_request_ctx *c,
                                           const struct hret_request_runner *r, bool piped,
                                           struct hret_request *q)
{
    if (r->custom_cot_parser != NULL) {
        snprintf(c->path, sizeof c->path, "custom_cot_parser");
        return hret_request_fail(
            c, "a Python function, which hret cannot run: the evaluators already take the final "
               "answer after HRET's markers (evaluator_params.extract_final_answer); for other "
               "parsing, declare an external evaluator in the config and name it in "
               "evaluation_method_name");
    }
    if (scaling(c, r, q) != HRET_OK || language(c, r, piped, q) != HRET_OK ||
        template_param(c, q, "few_shot_instruction", r->few_shot_instruction) != HRET_OK ||
        template_param(c, q, "few_shot_example_template", r->few_shot_example_template) !=
            HRET_OK) {
        return HRET_E_INVAL;
    }
    return HRET_OK;
}
