/* hret run's command line (hret_cmd_run_args.c), shared by the files of the command. */
#ifndef HRET_CMD_RUN_H
#define HRET_CMD_RUN_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "hret_cfg.h"

struct hret_run_args {
    const char *config, *dataset, *data_dir, *model, *split, *method, *run_name, *output;
    const char *few_shot_split, *template_file;
    struct hret_strlist subsets;
    long long limit, sample_size, seed;
    int num_few_shot;
    long max_tokens;
    double temperature, language_threshold;
    bool quiet;
    const char *judge_model;   /* --judge-model */
    long paths;                /* --self-consistency */
    bool language_gate;        /* --language-gate */
    const char *prompt_suffix; /* --prompt-suffix */
    cJSON *params;
    cJSON *dataset_params; /* --dataset-param, --template, --few-shot-template */
    const char *db;        /* PostgreSQL: --db, --no-cache, --meta */
    const char *version;   /* --dataset-version: an imported version; NULL = the latest */
    const char *track;     /* --track: sinks, "none", or NULL for the config's defaults */
    bool no_cache;
    cJSON *meta;
    double max_error_rate; /* --max-error-rate; < 0 = none */
    int invalid_utf8;      /* --invalid-utf8: -1 = the config's, 0 error, 1 replace */
};

/* Parses argv into a (zeroed by the caller; its objects are created here and freed by
 * hret_run_args_fini). HRET_EXIT_OK, or HRET_EXIT_USAGE after printing why. */
int hret_run_args_parse(int argc, char **argv, struct hret_run_args *a);
void hret_run_args_fini(struct hret_run_args *a);

#endif
