/* The typed field tables behind the request parser (hret_request.c holds the tables): a walker
 * that fills a struct from a JSON object, refusing unknown and duplicate keys, wrong types and
 * out-of-range values with the JSON path of the problem. Private to the hret_request module. */
#ifndef HRET_REQUEST_WALK_H
#define HRET_REQUEST_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"
#include "hret_request.h"

/* Field tables: one line per key. Offsets are into the struct the table describes. */
enum hret_request_ftype {
    HRET_REQUEST_F_ID,      /* char *, [A-Za-z0-9][A-Za-z0-9._:-]{0,127} */
    HRET_REQUEST_F_NAME,    /* char *, [A-Za-z0-9_][A-Za-z0-9_.:/@+-]{0,127} */
    HRET_REQUEST_F_PART,    /* char *, one path component: hret_dataset_part_ok */
    HRET_REQUEST_F_LABEL,   /* char *, 1..256 bytes */
    HRET_REQUEST_F_DIR,     /* char *, relative path without ".." */
    HRET_REQUEST_F_INT,     /* long long in [min, max] */
    HRET_REQUEST_F_NUM,     /* double in [min, max] */
    HRET_REQUEST_F_BOOL,    /* bool */
    HRET_REQUEST_F_OBJECT,  /* const cJSON *, any object (borrowed from the document) */
    HRET_REQUEST_F_SUBSET,  /* struct hret_strlist from one path component or a list of them */
    HRET_REQUEST_F_NAMES,   /* struct hret_strlist from a list of names, at most max */
    HRET_REQUEST_F_SECTION, /* an object described by sub, at the same base + offset */
    HRET_REQUEST_F_TRACK, /* int flag at offset: a boolean, or an object described by sub (flag = 1)
                           */
    HRET_REQUEST_F_BACKEND, /* int, enum hret_backend_kind by name */
    HRET_REQUEST_F_LIST, /* array of sub objects: T *items at offset, size_t count at count_off */
};

struct hret_request_table;

struct hret_request_field {
    const char *key;
    enum hret_request_ftype type;
    size_t offset;
    double min, max;
    const struct hret_request_table *sub;
    size_t count_off; /* HRET_REQUEST_F_LIST */
    bool required;
};

struct hret_request_table {
    size_t size; /* of one element, for HRET_REQUEST_F_LIST */
    const struct hret_request_field *fields;
    void (*init)(void *obj); /* element defaults, nullable */
};

#define HRET_REQUEST_BIG 9007199254740991.0 /* 2^53 - 1: integers a double holds exactly */

struct hret_request_ctx {
    char path[HRET_REQUEST_PATH_MAX]; /* where the walker is, "datasets[1].limit" */
    struct hret_err *err;
};

/* Sets ctx->err to "path: message" (the first error wins); returns HRET_E_INVAL. */
enum hret_result hret_request_fail(struct hret_request_ctx *c, const char *fmt, ...)
    HRET_PRINTF(2, 3);
/* Appends ".key" / "[i]" to the path; returns the old length to cut back to. */
size_t hret_request_push_key(struct hret_request_ctx *c, const char *key);
size_t hret_request_push_index(struct hret_request_ctx *c, size_t i);
/* Fills base (the struct t describes) from obj (borrowed; HRET_REQUEST_F_OBJECT members point into
 * it). Strings and lists it sets are owned by base, also after a failure. */
enum hret_result hret_request_walk(struct hret_request_ctx *c, const cJSON *obj,
                                   const struct hret_request_table *t, char *base);

/* ---- the PipelineRunner vocabulary (hret_request_runner.c) ---- */

/* What HRET's self_consistency appends to each prompt: the default of its prompt_cot parameter,
 * sent as input + prompt_cot on every path (llm_eval/scaling_methods/self_consistency.py, as
 * reference/hret.md section 5 records it). */
#define HRET_REQUEST_PROMPT_COT "\nLet's think step by step.\n"
/* The Hangul share at which language_penalizer is 1 for language_penalize requests. */
#define HRET_REQUEST_LANGUAGE_THRESHOLD 0.5

/* The PipelineRunner keys that have no place in datasets/models/evaluation. */
struct hret_request_runner {
    char *scaling;               /* scaling_method_name */
    const cJSON *scaling_params; /* borrowed from the document */
    int language_penalize;       /* -1 = not given */
    char *target_lang;           /* NULL = "ko" */
    char *custom_cot_parser;     /* refused when given */
    char *few_shot_instruction;  /* moved into the dataset's params */
    char *few_shot_example_template;
};

void hret_request_runner_fini(struct hret_request_runner *r);

/* Generation overrides all unset. */
void hret_request_gen_init(struct hret_request_gen *g);

/* Resolves model_backend_name (m->name, owned; replaced by the configured model's name when an
 * HRET backend kind maps to one) and applies model_backend_params (params, borrowed, nullable):
 * a configured model name; else openai/litellm with model_name = a configured model's name or
 * model id; else an inline endpoint (base_url/api_base and model/model_name); huggingface and
 * vllm refused with how to serve the model behind an endpoint. An unknown name is left for
 * check_models to refuse. */
enum hret_result hret_request_runner_model(struct hret_request_ctx *c,
                                           const struct hret_config *cfg, const cJSON *params,
                                           struct hret_request_model *m);

/* Maps r (borrowed) onto q: scaling_method_name/scaling_params onto self-consistency and
 * prompt_suffix, language_penalize/target_lang onto language_penalty (on by default when piped,
 * i.e. the request uses PipelineRunner keys), the few-shot templates into q's first dataset's
 * params (added to q->doc). Refuses best_of_n, beam_search, custom_cot_parser and a target_lang
 * other than ko while penalizing, each with its reason. */
enum hret_result hret_request_runner_apply(struct hret_request_ctx *c,
                                           const struct hret_request_runner *r, bool piped,
                                           struct hret_request *q);

#endif
