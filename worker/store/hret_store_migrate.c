#include "hret_store_migrate.h"

#include <stdlib.h>
#include <string.h>

#include "hret_hash.h"
#include "hret_log.h"
#include "hret_mem.h"

/* Serialises migrations across processes: pg_advisory_xact_lock on this key ("hretmigr"). */
#define MIGRATE_LOCK_KEY "7526752761519384946"

static const char create_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       " name text PRIMARY KEY,"
                                       " checksum text NOT NULL,"
                                       " applied_at timestamptz NOT NULL DEFAULT now())";

static const char applied_sql[] =
    "SELECT name, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM schema_migrations ORDER BY name";

void hret_store_migration_checksum(const struct hret_migration *m, char out[65])
{
    hret_hash_sha256_hex(m->sql, m->len, out);
}

void hret_migration_report_fini(struct hret_migration_report *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].name);
        free(r->items[i].applied_at);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

struct apply_ctx {
    const struct hret_migration *m;
    char checksum[65];
    bool applied; /* this transaction applied the file */
};

/* One file in one transaction, under the lock: skip it when recorded with the same checksum,
 * refuse it when recorded with another, else run it and record it. Safe to repeat. */
static enum hret_result apply_one(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct apply_ctx *c = user;
    c->applied = false;
    const char *key[] = {MIGRATE_LOCK_KEY};
    if (hret_pg_query(pg, "migration lock", "SELECT pg_advisory_xact_lock($1::bigint)", 1, key,
                      false, NULL, err) != HRET_OK ||
        hret_pg_exec_static(pg, "create schema_migrations", create_table_sql, err) != HRET_OK) {
        return err->code;
    }
    PGresult *res = NULL;
    const char *name[] = {c->m->name};
    if (hret_pg_query(pg, "read schema_migrations",
                      "SELECT checksum FROM schema_migrations WHERE name = $1", 1, name, false,
                      &res, err) != HRET_OK) {
        return err->code;
    }
    bool recorded = PQntuples(res) > 0;
    bool same = recorded && strcmp(PQgetvalue(res, 0, 0), c->checksum) == 0;
    PQclear(res);
    if (recorded) {
        return same ? HRET_OK
                    : hret_err_set(err, HRET_E_CONFLICT,
                                   "migration %s changed after it was applied (its checksum "
                                   "differs from schema_migrations); migrations are forward-only: "
                                   "restore the file and add a new one",
                                   c->m->name);
    }
    if (hret_pg_exec_static(pg, c->m->name, c->m->sql, err) != HRET_OK) {
        return err->code;
    }
    const char *row[] = {c->m->name, c->checksum};
    if (hret_pg_query(pg, "record migration",
                      "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", 2, row,
                      false, NULL, err) != HRET_OK) {
        return err->code;
    }
    c->applied = true;
    return HRET_OK;
}

static void add_item(struct hret_migration_report *r, const char *name, const char *applied_at,
                     enum hret_migration_state state)
{
    r->items = hret_xrealloc(r->items, (r->count + 1) * sizeof *r->items);
    r->items[r->count++] = (struct hret_migration_status){
        hret_xstrdup(name), applied_at ? hret_xstrdup(applied_at) : NULL, state};
}

static int find_row(const PGresult *res, const char *name)
{
    for (int i = 0; res != NULL && i < PQntuples(res); i++) {
        if (strcmp(PQgetvalue(res, i, 0), name) == 0) {
            return i;
        }
    }
    return -1;
}

/* What the database has recorded, or NULL *res when schema_migrations does not exist yet. */
static enum hret_result read_applied(struct hret_pg *pg, PGresult **res, struct hret_err *err)
{
    PGresult *exists = NULL;
    *res = NULL;
    if (hret_pg_query(pg, "find schema_migrations",
                      "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, false,
                      &exists, err) != HRET_OK) {
        return err->code;
    }
    bool has = strcmp(PQgetvalue(exists, 0, 0), "t") == 0;
    PQclear(exists);
    return has ? hret_pg_query(pg, "read schema_migrations", applied_sql, 0, NULL, false, res, err)
               : HRET_OK;
}

static void build_report(const PGresult *res, struct hret_migration_report *r)
{
    for (size_t i = 0; i < hret_migrations_count; i++) {
        const struct hret_migration *m = &hret_migrations[i];
        int row = find_row(res, m->name);
        if (row < 0) {
            add_item(r, m->name, NULL, HRET_MIGRATION_PENDING);
            continue;
        }
        char sum[65];
        hret_store_migration_checksum(m, sum);
        bool same = strcmp(PQgetvalue(res, row, 1), sum) == 0;
        add_item(r, m->name, PQgetvalue(res, row, 2),
                 same ? HRET_MIGRATION_APPLIED : HRET_MIGRATION_CHANGED);
    }
    for (int i = 0; res != NULL && i < PQntuples(res); i++) {
        bool known = false;
        for (size_t k = 0; k < hret_migrations_count && !known; k++) {
            known = strcmp(hret_migrations[k].name, PQgetvalue(res, i, 0)) == 0;
        }
        if (!known) {
            add_item(r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 2), HRET_MIGRATION_UNKNOWN);
        }
    }
}

static enum hret_result apply_all(struct hret_pg *pg, struct hret_migration_report *report,
                                  struct hret_err *err)
{
    for (size_t i = 0; i < hret_migrations_count; i++) {
        struct apply_ctx c = {.m = &hret_migrations[i]};
        hret_store_migration_checksum(c.m, c.checksum);
        if (hret_pg_transaction(pg, "migrate", apply_one, &c, err) != HRET_OK) {
            return err->code;
        }
        if (c.applied) {
            report->applied_now++;
            hret_log_info("migrate", NULL, "applied %s", c.m->name);
        }
    }
    return HRET_OK;
}

enum hret_result hret_store_migrate(struct hret_pg *pg, bool apply,
                                    struct hret_migration_report *report, struct hret_err *err)
{
    enum hret_result r = apply ? apply_all(pg, report, err) : HRET_OK;
    PGresult *res = NULL;
    if (r == HRET_OK) {
        r = read_applied(pg, &res, err);
    }
    if (r == HRET_OK) {
        build_report(res, report);
    }
    PQclear(res);
    return r;
}
