/* Schema migrations: schemas/sql/NNN_name.sql embedded in the binary at build time
 * (cmake/hret_embed_sql.cmake), applied in name order under a session advisory lock so several
 * workers starting at once apply each file exactly once. Each file runs in its own transaction
 * together with its schema_migrations row (name, SHA-256 checksum, applied_at); a file whose
 * checksum differs from the recorded one is refused (forward-only: add a new file instead). */
#ifndef HRET_STORE_MIGRATE_H
#define HRET_STORE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "hret_err.h"
#include "hret_pg.h"

struct hret_migration {
    const char *name; /* "001_init.sql" */
    const char *sql;  /* NUL-terminated */
    size_t len;
};

/* Generated: hret_migrations_count entries in name order, then a {NULL} entry. */
extern const struct hret_migration hret_migrations[];
extern const size_t hret_migrations_count;

enum hret_migration_state {
    HRET_MIGRATION_PENDING,
    HRET_MIGRATION_APPLIED,
    HRET_MIGRATION_CHANGED, /* applied with another checksum */
    HRET_MIGRATION_UNKNOWN, /* recorded in the database but not in this binary (newer hret) */
};

struct hret_migration_status {
    char *name;       /* owned */
    char *applied_at; /* owned, NULL when pending */
    enum hret_migration_state state;
};

struct hret_migration_report {
    struct hret_migration_status *items; /* owned */
    size_t count;
    size_t applied_now; /* files this call applied */
};

void hret_migration_report_fini(struct hret_migration_report *r);

/* Applies what is pending (apply) or only reports (status), filling report (zeroed by the
 * caller; release with hret_migration_report_fini, also after a failure). A changed file is
 * HRET_E_CONFLICT naming it; nothing after it is applied. */
enum hret_result hret_store_migrate(struct hret_pg *pg, bool apply,
                                    struct hret_migration_report *report, struct hret_err *err);

/* The SHA-256 hex of a migration's text (what schema_migrations.checksum holds). */
void hret_store_migration_checksum(const struct hret_migration *m, char out[65]);

#endif
