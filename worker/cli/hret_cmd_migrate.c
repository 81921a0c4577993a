/* hret migrate: apply (or list) the schema migrations embedded in the binary. */
#include <getopt.h>
#include <stdio.h>

#include "hret_cli.h"
#include "hret_store_cli.h"
#include "hret_store_migrate.h"

static const struct option long_options[] = {
    {"status", no_argument, NULL, 's'},
    {"db", required_argument, NULL, 'd'},
    {"config", required_argument, NULL, 'c'},
    {NULL, 0, NULL, 0},
};

static const char *state_name(enum hret_migration_state s)
{
    switch (s) {
    case HRET_MIGRATION_PENDING:
        return "pending";
    case HRET_MIGRATION_APPLIED:
        return "applied";
    case HRET_MIGRATION_CHANGED:
        return "CHANGED since applied";
    case HRET_MIGRATION_UNKNOWN:
        return "applied, unknown to this hret (newer version?)";
    }
    return "?";
}

static int report(const struct hret_migration_report *rep, bool status_only)
{
    size_t pending = 0, changed = 0;
    for (size_t i = 0; i < rep->count; i++) {
        const struct hret_migration_status *m = &rep->items[i];
        pending += m->state == HRET_MIGRATION_PENDING;
        changed += m->state == HRET_MIGRATION_CHANGED;
        if (status_only) {
            printf("%-32s %-10s %s\n", m->name, m->applied_at ? m->applied_at : "-",
                   state_name(m->state));
        }
    }
    if (!status_only) {
        printf("migrate: %zu applied now; schema %s (%zu migrations)\n", rep->applied_now,
               pending || changed ? "NOT up to date" : "up to date", hret_migrations_count);
    } else if (pending > 0) {
        printf("%zu pending: run hret migrate\n", pending);
    }
    return changed ? HRET_EXIT_FAILURE : HRET_EXIT_OK;
}

int hret_cmd_migrate(int argc, char **argv)
{
    const char *db = NULL, *config = NULL;
    bool status_only = false;
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "", long_options, NULL)) != -1;) {
        switch (c) {
        case 's':
            status_only = true;
            break;
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        default:
            return HRET_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hret migrate: unexpected argument '%s'\n", argv[optind]);
        return HRET_EXIT_USAGE;
    }
    struct hret_store_cli cli;
    int status = hret_store_cli_open(&cli, "hret migrate", config, db, false);
    if (status == HRET_EXIT_OK) {
        struct hret_err err = HRET_ERR_INIT;
        struct hret_migration_report rep = {0};
        if (hret_store_migrate(hret_store_pg(cli.store), !status_only, &rep, &err) != HRET_OK) {
            status = hret_store_cli_fail("hret migrate", &err);
        } else {
            status = report(&rep, status_only);
        }
        hret_migration_report_fini(&rep);
    }
    hret_store_cli_close(&cli);
    return status;
}
