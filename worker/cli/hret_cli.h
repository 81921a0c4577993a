/* The `hret` command line: a dispatch table of subcommands (pgbouncer's admin commands). */
#ifndef HRET_CLI_H
#define HRET_CLI_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "hret_exit.h"

struct hret_cli_command {
    const char *name;
    const char *summary; /* one line for `hret --help` */
    const char *help;    /* full text for `hret help <name>` */
    /* argv[0] is the command name; NULL while the command is not built yet. */
    int (*run)(int argc, char **argv);
    const char *help_more; /* the rest of help past C's 4095-character literal limit, or NULL */
};

int hret_cli_main(int argc, char **argv);

/* Prints the command's help to stdout; used by commands on --help. */
void hret_cli_print_help(const char *name);

/* Adds `key=value` to obj (borrowed): the value as JSON when it parses (true, 3, ["x"]), else as a
 * string. On a malformed argument prints "<who>: ..." to stderr and returns false. */
bool hret_cli_add_param(cJSON *obj, const char *kv, const char *who);
/* obj[key] = the text of the file at path (borrowed; at most 1 MiB), for --template and
 * --few-shot-template (HRET's dataset_params.base_prompt_template, few_shot_example_template).
 * Prints "<who>: ..." and returns false when the file cannot be read. */
bool hret_cli_add_file_param(cJSON *obj, const char *key, const char *path, const char *who);

/* Commands, one per file hret_cmd_<name>.c. */
int hret_cmd_compare(int argc, char **argv);
int hret_cmd_config(int argc, char **argv);
int hret_cmd_run(int argc, char **argv);
int hret_cmd_score(int argc, char **argv);
int hret_cmd_submit(int argc, char **argv);
int hret_cmd_probe(int argc, char **argv);
int hret_cmd_migrate(int argc, char **argv);
int hret_cmd_runs(int argc, char **argv);
int hret_cmd_metrics(int argc, char **argv);
int hret_cmd_dataset(int argc, char **argv);
int hret_cmd_worker(int argc, char **argv);
int hret_cmd_status(int argc, char **argv);
int hret_cmd_bridge(int argc, char **argv);
int hret_cmd_monitor(int argc, char **argv);
int hret_cmd_report(int argc, char **argv);
int hret_cmd_api(int argc, char **argv);

#endif
