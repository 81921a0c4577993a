/* hret config check|show|reference */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hret_cli.h"
#include "hret_config.h"

/* Key references that would fail in this environment: a warning each (the workers that use the
 * config may have the variable; this shell may not). */
static void warn_keys(const struct hret_config *cfg)
{
    for (size_t i = 0; i < cfg->models.count; i++) {
        struct hret_err err = HRET_ERR_INIT;
        if (hret_config_model_key_check((const struct hret_model_config *)cfg->models.items + i,
                                        &err) != HRET_OK) {
            fprintf(stderr, "warning: %s (in this environment; requests would fail)\n", err.msg);
        }
    }
}

static int check_or_show(const char *path, bool show)
{
    const char *file = hret_config_locate(path);
    struct hret_config cfg = {0};
    struct hret_strlist problems = {0};
    struct hret_err err = HRET_ERR_INIT;
    struct hret_cfg_sources sources = {0};
    enum hret_result r = hret_config_load_traced(&cfg, file, &sources, &problems, &err);
    int status = HRET_EXIT_OK;
    if (r != HRET_OK) {
        for (size_t i = 0; i < problems.count; i++) {
            fprintf(stderr, "%s\n", problems.items[i]);
        }
        fprintf(stderr, "hret: %zu problem%s in %s\n", problems.count,
                problems.count == 1 ? "" : "s", file ? file : "the environment");
        status = HRET_EXIT_USAGE;
    } else if (show) {
        printf("# effective configuration from %s (secrets redacted); after each value its\n"
               "# source: file:line:column, environment VARIABLE or default\n",
               file ? file : "built-in defaults and the environment");
        hret_cfg_dump_sources(&hret_config_table, &cfg, &sources, stdout);
    } else {
        warn_keys(&cfg);
        printf("%s: ok\n", file ? file : "built-in defaults");
    }
    hret_strlist_fini(&problems);
    hret_cfg_sources_fini(&sources);
    hret_config_fini(&cfg);
    return status;
}

/* FILE as --config FILE or a positional argument (one of them); false on a usage error. */
static bool config_file(int argc, char **argv, const char **file)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    *file = NULL;
    optind = 2; /* after "config SUB" */
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c != 'c') {
            return false;
        }
        *file = optarg;
    }
    if (optind < argc && *file == NULL && optind + 1 == argc) {
        *file = argv[optind++];
    }
    if (optind < argc) {
        fprintf(stderr, "hret config %s: give one FILE, or --config FILE (see hret help config)\n",
                argv[1]);
        return false;
    }
    return true;
}

int hret_cmd_config(int argc, char **argv)
{
    if (argc < 2) {
        hret_cli_print_help("config");
        return HRET_EXIT_USAGE;
    }
    const char *sub = argv[1];
    const char *file = NULL;
    if (!config_file(argc, argv, &file)) {
        return HRET_EXIT_USAGE;
    }
    if (strcmp(sub, "check") == 0) {
        return check_or_show(file, false);
    }
    if (strcmp(sub, "show") == 0) {
        return check_or_show(file, true);
    }
    if (strcmp(sub, "reference") == 0 && file == NULL) {
        hret_cfg_reference(&hret_config_table, stdout);
        return HRET_EXIT_OK;
    }
    fprintf(stderr, "hret config: unknown subcommand '%s' (check, show or reference)\n", sub);
    return HRET_EXIT_USAGE;
}
