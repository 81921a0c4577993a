/* hret run's command line: the options (hret help run documents them) into struct
 * hret_run_args. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cli.h"
#include "hret_cmd_run.h"
#include "hret_sink_local.h"
#include "hret_store_runlog.h"

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"dataset", required_argument, NULL, 'd'},
    {"data-dir", required_argument, NULL, 'D'},
    {"model", required_argument, NULL, 'm'},
    {"subset", required_argument, NULL, 's'},
    {"split", required_argument, NULL, 'S'},
    {"limit", required_argument, NULL, 'l'},
    {"sample-size", required_argument, NULL, 'n'},
    {"seed", required_argument, NULL, 'r'},
    {"method", required_argument, NULL, 'e'},
    {"param", required_argument, NULL, 'p'},
    {"num-few-shot", required_argument, NULL, 'k'},
    {"few-shot-split", required_argument, NULL, 'K'},
    {"run-name", required_argument, NULL, 'N'},
    {"output", required_argument, NULL, 'o'},
    {"max-tokens", required_argument, NULL, 'T'},
    {"temperature", required_argument, NULL, 't'},
    {"language-penalty", required_argument, NULL, 'L'},
    {"quiet", no_argument, NULL, 'q'},
    {"judge-model", required_argument, NULL, 'J'},
    {"self-consistency", required_argument, NULL, 'C'},
    {"language-gate", no_argument, NULL, 'G'},
    {"db", required_argument, NULL, 0x100},
    {"no-cache", no_argument, NULL, 0x101},
    {"meta", required_argument, NULL, 0x102},
    {"max-error-rate", required_argument, NULL, 0x103},
    {"dataset-param", required_argument, NULL, 0x104},
    {"template", required_argument, NULL, 0x105},
    {"few-shot-template", required_argument, NULL, 0x106},
    {"invalid-utf8", required_argument, NULL, 0x107},
    {"track", required_argument, NULL, 0x108},
    {"prompt-suffix", required_argument, NULL, 0x109},
    {"dataset-version", required_argument, NULL, 0x10a},
    {NULL, 0, NULL, 0},
};

static bool parse_number(const char *flag, const char *text, double min, double max, double *out)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "hret run: --%s expects a number between %g and %g, got '%s'\n", flag, min,
                max, text);
        return false;
    }
    *out = v;
    return true;
}

/* Whether --track names known sinks (or none); says why not. */
static bool track_valid(const char *spec)
{
    struct hret_config none = {0};
    struct hret_strlist sinks = {0};
    struct hret_err err = HRET_ERR_INIT;
    bool ok = hret_sink_local_select(&none, spec, &sinks, &err) == HRET_OK;
    if (!ok) {
        fprintf(stderr, "hret run: %s\n", err.msg);
    }
    hret_strlist_fini(&sinks);
    return ok;
}

int hret_run_args_parse(int argc, char **argv, struct hret_run_args *a)
{
    a->temperature = NAN;
    a->language_threshold = -1;
    a->max_error_rate = -1;
    a->invalid_utf8 = -1;
    a->params = cJSON_CreateObject();
    a->dataset_params = cJSON_CreateObject();
    a->meta = cJSON_CreateObject();
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:d:m:o:q", long_options, NULL)) != -1;) {
        double v = 0;
        bool ok = true;
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'd':
            a->dataset = optarg;
            break;
        case 'D':
            a->data_dir = optarg;
            break;
        case 'm':
            a->model = optarg;
            break;
        case 's':
            hret_strlist_split(&a->subsets, optarg);
            break;
        case 'S':
            a->split = optarg;
            break;
        case 'e':
            a->method = optarg;
            break;
        case 'K':
            a->few_shot_split = optarg;
            break;
        case 'N':
            a->run_name = optarg;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'J':
            a->judge_model = optarg;
            break;
        case 'C':
            ok = parse_number("self-consistency", optarg, 2, 128, &v), a->paths = (long)v;
            break;
        case 'G':
            a->language_gate = true;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'p':
            ok = hret_cli_add_param(a->params, optarg, "hret run");
            break;
        case 0x100:
            a->db = optarg;
            break;
        case 0x10a:
            a->version = optarg;
            break;
        case 0x104:
            ok = hret_cli_add_param(a->dataset_params, optarg, "hret run");
            break;
        case 0x105:
            ok = hret_cli_add_file_param(a->dataset_params, "base_prompt_template", optarg,
                                         "hret run");
            break;
        case 0x106:
            ok = hret_cli_add_file_param(a->dataset_params, "few_shot_example_template", optarg,
                                         "hret run");
            break;
        case 0x101:
            a->no_cache = true;
            break;
        case 0x102:
            ok = hret_store_meta_add(a->meta, optarg, "hret run");
            break;
        case 0x103:
            ok = parse_number("max-error-rate", optarg, 0, 1, &a->max_error_rate);
            break;
        case 0x107:
            a->invalid_utf8 = strcmp(optarg, "replace") == 0 ? 1
                              : strcmp(optarg, "error") == 0 ? 0
                                                             : -2;
            ok = a->invalid_utf8 >= 0;
            if (!ok) {
                fprintf(stderr, "hret run: --invalid-utf8 expects error or replace, got '%s'\n",
                        optarg);
            }
            break;
        case 0x109:
            a->prompt_suffix = optarg;
            break;
        case 0x108:
            a->track = optarg;
            ok = track_valid(optarg);
            break;
        case 'l':
            ok = parse_number("limit", optarg, 0, 1e12, &v), a->limit = (long long)v;
            break;
        case 'n':
            ok = parse_number("sample-size", optarg, 0, 1e12, &v), a->sample_size = (long long)v;
            break;
        case 'r':
            ok = parse_number("seed", optarg, 0, 1e18, &v), a->seed = (long long)v;
            break;
        case 'k':
            ok = parse_number("num-few-shot", optarg, 0, 1000, &v), a->num_few_shot = (int)v;
            break;
        case 'T':
            ok = parse_number("max-tokens", optarg, 1, 1e7, &v), a->max_tokens = (long)v;
            break;
        case 't':
            ok = parse_number("temperature", optarg, 0, 2, &a->temperature);
            break;
        case 'L':
            ok = parse_number("language-penalty", optarg, 0, 1, &a->language_threshold);
            break;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            return HRET_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hret run: unexpected argument '%s' (see hret help run)\n", argv[optind]);
        return HRET_EXIT_USAGE;
    }
    return HRET_EXIT_OK;
}

void hret_run_args_fini(struct hret_run_args *a)
{
    hret_strlist_fini(&a->subsets);
    cJSON_Delete(a->params);
    cJSON_Delete(a->dataset_params);
    cJSON_Delete(a->meta);
}
