/* Evaluation requests (hret.eval.requested.v1, schemas/events/): the parser that turns a
 * request's JSON into a typed, normalised struct, or refuses it with a reason and the JSON path
 * (`datasets[1].limit: expected a non-negative integer`). Field tables describe every key, in
 * the spirit of the config tables; PipelineRunner-style keys (dataset_name, model_backend_name,
 * evaluation_method_name, ...) are accepted and normalised into the same struct.
 *
 * Refused before any field is read: more than kafka.max_message_bytes, invalid UTF-8, a
 * "\u0000" escape, nesting deeper than HRET_REQUEST_MAX_DEPTH, invalid JSON, and any key that
 * names a secret (api_key, token, password, authorization, ...) anywhere in the document: a
 * request never carries a secret value. Then: unknown keys, wrong types, out-of-range values,
 * unknown model names (the message lists the configured ones), unknown datasets and evaluation
 * methods, evaluator params the evaluator refuses, and inline endpoints unless
 * endpoints.allow_inline is set and the host is on endpoints.allowlist (http(s) only, no
 * user:password@, never link-local or cloud metadata addresses). Defaults come from the config
 * (default_dataset, default_model, default_split, default_evaluation_method). */
#ifndef HRET_REQUEST_H
#define HRET_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_cfg.h"
#include "hret_config.h"
#include "hret_err.h"

#define HRET_REQUEST_MAX_DEPTH 32
#define HRET_REQUEST_PATH_MAX 256
#define HRET_REQUEST_EVENT_TYPE "hret.eval.requested.v1"

struct hret_request_dataset {
    char *name;                  /* registry name, lower case */
    struct hret_strlist subsets; /* in request order; empty = the dataset's default list */
    char *split;                 /* never NULL: the request's or the config's default_split */
    long long limit;             /* 0 = all */
    long long sample_size;       /* 0 = all */
    long long seed;              /* -1 = not given */
    char *few_shot_split;        /* NULL = split */
    char *data_dir;              /* relative to datasets.root; NULL = the default layout */
    char *version;               /* an imported version (or 8+ digit prefix); NULL = latest */
    const cJSON *params;         /* loader parameters (an object) or NULL; borrowed from doc */
};

/* Generation overrides on top of the model's config; unset values are NAN / -1. */
struct hret_request_gen {
    double temperature;
    double top_p;
    long long max_tokens;
    long long seed;
    bool has_seed;
};

struct hret_request_model {
    char *name;
    /* the config's entry (borrowed), or for an inline endpoint inline_config */
    const struct hret_model_config *config;
    struct hret_model_config *inline_config; /* owned: an inline endpoint's, else NULL */
    char *base_url;                          /* inline endpoint only, else NULL */
    char *model_id;                          /* inline endpoint only */
    int backend;                             /* enum hret_backend_kind, inline endpoint only */
    struct hret_request_gen gen;
};

struct hret_request_tracking {
    int mlflow, wandb, tensorboard; /* -1 = as the config says, 0 = off, 1 = on */
    char *mlflow_experiment;        /* NULL = the config's */
    char *wandb_project, *wandb_entity;
};

struct hret_request_alerts {
    double min_accuracy; /* NAN = none */
    double max_drop;     /* NAN = none */
    char *baseline;      /* "previous", "best", a run id, or NULL */
};

struct hret_request {
    char *request_id; /* NULL when the request had none (hret submit fills one) */
    char *run_name;   /* NULL = none */
    struct hret_request_dataset *datasets;
    size_t n_datasets; /* >= 1 */
    struct hret_request_model *models;
    size_t n_models;            /* >= 1, names unique */
    char *method;               /* a registered evaluator */
    const cJSON *method_params; /* object or NULL; borrowed from doc */
    char *judge_model;          /* a configured model or NULL */
    long long num_few_shot;
    long long sc_paths;      /* self-consistency answers per sample: 0 = off, else 2..64 */
    double sc_temperature;   /* their sampling temperature, default 0.7 */
    double language_penalty; /* Hangul-share threshold of language_penalizer; NAN = off */
    bool language_gate;      /* answers below the threshold are wrong (threshold 0.5 if unset) */
    char *prompt_suffix;     /* appended to every answer prompt (HRET's prompt_cot); NULL = none */
    const cJSON *metadata;   /* object or NULL; borrowed from doc */
    struct hret_request_tracking tracking;
    struct hret_strlist track_metrics;
    struct hret_request_alerts alerts;
    cJSON *doc; /* the parsed document the borrowed members point into (owned) */
};

/* Parses len bytes of request JSON against cfg (borrowed; the request keeps pointers to its
 * models, so cfg must outlive it). Caller owns *out (hret_request_destroy). On failure err is
 * HRET_E_INVAL with "path: reason" and path (nullable, HRET_REQUEST_PATH_MAX bytes) gets the
 * JSON path alone ("" for the whole document). */
enum hret_result hret_request_parse(const char *text, size_t len, const struct hret_config *cfg,
                                    struct hret_request **out, char *path, struct hret_err *err);
void hret_request_destroy(struct hret_request *req);

/* The normalised request in canonical form (datasets/models/evaluation, subsets as lists,
 * defaults filled in); it parses back to the same struct. Caller owns result. */
cJSON *hret_request_to_json(const struct hret_request *req);

/* Sets the request id (borrowed, copied) of a parsed request, e.g. a new UUID. */
void hret_request_set_id(struct hret_request *req, const char *id);

#endif
