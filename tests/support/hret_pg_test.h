/* A PostgreSQL database for C integration tests (header-only), like tests/support/pg_env.sh:
 * with HRET_PG set, a fresh database on that server; otherwise (or when own is set) a
 * throwaway cluster from deploy/local/pg.sh in a temporary directory, which the test may stop
 * and start. Never skips: the cluster needs only the postgresql package. */
#ifndef HRET_PG_TEST_H
#define HRET_PG_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct hret_pg_test {
    char dir[256];       /* our cluster's directory, "" when using HRET_PG's server */
    char db[64];         /* our database on HRET_PG's server */
    char conninfo[2048]; /* what the test connects to */
};

static inline int hret_pg_test_script(const struct hret_pg_test *t, const char *cmd, char *out,
                                      size_t cap)
{
    const char *src = getenv("HRET_SOURCE_DIR");
    char line[4096];
    snprintf(line, sizeof line, "'%s/deploy/local/pg.sh' %s '%s'", src ? src : ".", cmd, t->dir);
    FILE *p = popen(line, "r");
    if (p == NULL) {
        return -1;
    }
    char buf[2048] = "";
    while (fgets(buf, sizeof buf, p) != NULL) {
        if (out != NULL && strncmp(buf, "HRET_PG='", 9) == 0) {
            snprintf(out, cap, "%.*s", (int)strcspn(buf + 9, "'"), buf + 9);
        }
    }
    return pclose(p) == 0 ? 0 : -1;
}

static inline int hret_pg_test_start(struct hret_pg_test *t, bool own)
{
    memset(t, 0, sizeof *t);
    const char *env = getenv("HRET_PG");
    if (!own && env != NULL && *env != '\0' && strncmp(env, "postgres", 8) != 0) {
        snprintf(t->db, sizeof t->db, "hret_test_%d_%ld", (int)getpid(), (long)time(NULL) % 100000);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "psql \"$HRET_PG\" -qAt -c 'CREATE DATABASE %s' >/dev/null",
                 t->db);
        snprintf(t->conninfo, sizeof t->conninfo, "%s dbname=%s", env, t->db);
        return system(cmd) == 0 ? 0 : -1;
    }
    snprintf(t->dir, sizeof t->dir, "/tmp/hret-pgtest.XXXXXX");
    if (mkdtemp(t->dir) == NULL) {
        return -1;
    }
    return hret_pg_test_script(t, "start", t->conninfo, sizeof t->conninfo);
}

static inline int hret_pg_test_stop_server(struct hret_pg_test *t)
{
    return t->dir[0] ? hret_pg_test_script(t, "stop", NULL, 0) : -1;
}

static inline int hret_pg_test_start_server(struct hret_pg_test *t)
{
    return t->dir[0] ? hret_pg_test_script(t, "start", NULL, 0) : -1;
}

static inline void hret_pg_test_finish(struct hret_pg_test *t)
{
    if (t->dir[0]) {
        hret_pg_test_script(t, "destroy", NULL, 0);
    } else if (t->db[0]) {
        char cmd[256];
        snprintf(cmd, sizeof cmd,
                 "psql \"$HRET_PG\" -qAt -c 'DROP DATABASE IF EXISTS %s WITH (FORCE)' >/dev/null",
                 t->db);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not drop test database %s\n", t->db);
        }
    }
    memset(t, 0, sizeof *t);
}

#endif
