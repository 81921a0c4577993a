#include "hret_store_cli.h"

#include <stdio.h>
#include <string.h>

#include "hret_exit.h"
#include "hret_log.h"

int hret_store_cli_open(struct hret_store_cli *c, const char *who, const char *config_path,
                        const char *db, bool migrate)
{
    memset(c, 0, sizeof *c);
    struct hret_err err = HRET_ERR_INIT;
    struct hret_strlist problems = {0};
    if (hret_config_load(&c->cfg, hret_config_locate(config_path), &problems, &err) != HRET_OK) {
        for (size_t i = 0; i < problems.count; i++) {
            fprintf(stderr, "%s\n", problems.items[i]);
        }
        hret_strlist_fini(&problems);
        fprintf(stderr, "%s: fix the configuration (hret config check) and retry\n", who);
        return HRET_EXIT_USAGE;
    }
    hret_log_setup((enum hret_log_level)c->cfg.log_level, (enum hret_log_format)c->cfg.log_format);
    const char *conninfo = db ? db : c->cfg.postgres.conninfo;
    if (conninfo == NULL || *conninfo == '\0') {
        fprintf(stderr,
                "%s: no database: pass --db CONNINFO, set HRET_PG or postgres.conninfo "
                "(deploy/local/pg.sh start gives a local one)\n",
                who);
        return HRET_EXIT_USAGE;
    }
    if (hret_store_open(conninfo, c->cfg.postgres.password_env, migrate, &c->store, &err) !=
        HRET_OK) {
        return hret_store_cli_fail(who, &err);
    }
    return HRET_EXIT_OK;
}

void hret_store_cli_close(struct hret_store_cli *c)
{
    hret_store_destroy(c->store);
    c->store = NULL;
    hret_config_fini(&c->cfg);
}

int hret_store_cli_fail(const char *who, const struct hret_err *err)
{
    fprintf(stderr, "%s: %s\n", who, err->msg[0] ? err->msg : hret_result_name(err->code));
    return err->code == HRET_E_INVAL || err->code == HRET_E_CONFIG ? HRET_EXIT_USAGE
                                                                   : HRET_EXIT_FAILURE;
}
