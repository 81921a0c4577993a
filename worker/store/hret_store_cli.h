/* What the store's commands (migrate, runs, metrics, dataset, status) share: opening the
 * configured database and turning results into exit statuses. */
#ifndef HRET_STORE_CLI_H
#define HRET_STORE_CLI_H

#include <stdbool.h>

#include "hret_config.h"
#include "hret_err.h"
#include "hret_store.h"

struct hret_store_cli {
    struct hret_config cfg;
    struct hret_store *store; /* owned */
};

/* Loads the configuration (config_path nullable: $HRET_CONFIG, ./hret_config.yaml), sets up
 * logging and connects: db (nullable) wins over postgres.conninfo and HRET_PG. Applies pending
 * migrations when migrate is set. Problems go to stderr as "<who>: ..."; returns an
 * HRET_EXIT_* status. Release c with hret_store_cli_close, also after a failure. */
int hret_store_cli_open(struct hret_store_cli *c, const char *who, const char *config_path,
                        const char *db, bool migrate);
void hret_store_cli_close(struct hret_store_cli *c);

/* The exit status for a failed store call: usage for invalid input or configuration, failure
 * otherwise. Prints "<who>: <message>". */
int hret_store_cli_fail(const char *who, const struct hret_err *err);

#endif
