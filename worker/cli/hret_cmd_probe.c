/* hret probe: what a configured model endpoint can do, before a run depends on it. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_backend.h"
#include "hret_cli.h"
#include "hret_config.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_probe.h"
#include "hret_run_summary.h"

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"model", required_argument, NULL, 'm'},
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

static const char *yes_no(bool b)
{
    return b ? "yes" : "no";
}

static void print_report(const struct hret_model_config *m, const struct hret_probe_report *r)
{
    printf("model %s: %s at %s (backend %s)\n", m->name, m->model, m->base_url,
           hret_backend_for(m)->name);
    printf("  reachable        %s (GET /models: %s)\n", yes_no(r->reachable), r->models_detail);
    printf("  served models   ");
    for (size_t i = 0; i < r->served.count; i++) {
        printf(" %s", r->served.items[i]);
    }
    printf("%s\n", r->served.count ? "" : " (none listed)");
    printf("  model id listed  %s%s\n", yes_no(r->model_listed),
           r->model_listed ? "" : " (check `model:` in the config against the list above)");
    printf("  echo+logprobs    %s: %s%s\n", yes_no(r->echo_logprobs), r->echo_detail,
           r->echo_logprobs ? " (log_likelihood works)"
                            : " (log_likelihood cannot score this endpoint)");
    if (r->chat_checked) {
        printf("  chat logprobs    %s: %s\n", yes_no(r->chat_logprobs), r->chat_detail);
    }
    printf("  chat answers     %s: %s\n", yes_no(r->chat_answers), r->chat_answer_detail);
    printf("  completions      %s: %s\n", yes_no(r->completions_answer), r->completions_detail);
    bool http404 = strncmp(r->chat_answer_detail, "HTTP 404", 8) == 0 ||
                   strncmp(r->completions_detail, "HTTP 404", 8) == 0;
    if (http404) {
        hret_run_summary_hint_v1(stdout, m->base_url);
    }
    printf("  took             %.0f ms\n", r->elapsed_ms);
}

int hret_cmd_probe(int argc, char **argv)
{
    const char *config = NULL, *name = NULL;
    bool json = false;
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:m:", long_options, NULL)) != -1;) {
        if (c == 'c') {
            config = optarg;
        } else if (c == 'm') {
            name = optarg;
        } else if (c == 'j') {
            json = true;
        } else {
            return HRET_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hret probe: unexpected argument '%s' (see hret help probe)\n",
                argv[optind]);
        return HRET_EXIT_USAGE;
    }
    struct hret_config cfg = {0};
    struct hret_strlist problems = {0};
    struct hret_err err = HRET_ERR_INIT;
    int status = HRET_EXIT_USAGE;
    if (hret_config_load(&cfg, hret_config_locate(config), &problems, &err) != HRET_OK) {
        for (size_t i = 0; i < problems.count; i++) {
            fprintf(stderr, "%s\n", problems.items[i]);
        }
        fprintf(stderr, "hret probe: fix the configuration (hret config check) and retry\n");
        goto cleanup;
    }
    hret_log_setup((enum hret_log_level)cfg.log_level, (enum hret_log_format)cfg.log_format);
    name = name ? name : cfg.default_model;
    const struct hret_model_config *m = name ? hret_config_model(&cfg, name) : NULL;
    if (m == NULL) {
        fprintf(stderr, "hret probe: %s%s%s\n", name ? "model '" : "no model: pass --model NAME",
                name ? name : "", name ? "' is not in the config's models:" : "");
        goto cleanup;
    }
    if (hret_config_model_key_check(m, &err) != HRET_OK) {
        fprintf(stderr, "hret probe: %s (export it or fix the config)\n", err.msg);
        goto cleanup;
    }
    struct hret_probe_report rep = {0};
    if (hret_probe_run(m, m->backend == HRET_BACKEND_OPENAI_CHAT, true, &rep, &err) != HRET_OK) {
        fprintf(stderr, "hret probe: %s\n", err.msg);
        status = HRET_EXIT_USAGE;
    } else {
        if (json) {
            cJSON *j = hret_probe_report_json(m, &rep);
            char *text = hret_json_print(j);
            printf("%s\n", text);
            free(text);
            cJSON_Delete(j);
        } else {
            print_report(m, &rep);
        }
        bool answers = rep.chat_answers || rep.completions_answer;
        status = rep.reachable && rep.model_listed && answers ? HRET_EXIT_OK : HRET_EXIT_FAILURE;
    }
    hret_probe_report_fini(&rep);
cleanup:
    hret_strlist_fini(&problems);
    hret_config_fini(&cfg);
    return status;
}
