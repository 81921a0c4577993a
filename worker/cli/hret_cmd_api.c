/* hret api: the HTTP front door (hret_api.h) as a long-running role, and its tokens:
 *   hret api [--config FILE] [--kafka BROKERS] [--db CONNINFO]
 *   hret api token add NAME --scopes submit,read | list | revoke NAME  [--config F] [--tokens-file
 * P] The role accepts requests into the outbox (hret_api_db.h) and relays the outbox itself, so a
 * request accepted while Kafka is away is published once it is back. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_api.h"
#include "hret_api_token.h"
#include "hret_cli.h"
#include "hret_log.h"
#include "hret_ops.h"
#include "hret_outbox.h"
#include "hret_role.h"
#include "hret_yaml_json.h"

#define WHO "hret api"
#define LOOP_MS 200
#define DRAIN_RELAY_MS 5000 /* at shutdown: what is still in flight then is left to others */
#define OPENAPI_MAX_DEPTH 64

/* schemas/openapi.yaml, embedded by cmake/hret_embed_file.cmake */
extern const char hret_openapi_yaml[];
extern const size_t hret_openapi_yaml_len;

static int serve(int argc, char **argv)
{
    struct hret_role r;
    int rc = hret_role_open(&r, "api", "api", NULL, argc, argv);
    struct hret_api *api = NULL;
    struct hret_err err = HRET_ERR_INIT;
    char *spec = NULL;
    if (rc == HRET_EXIT_OK) {
        spec = hret_yaml_to_json("schemas/openapi.yaml", hret_openapi_yaml, hret_openapi_yaml_len,
                                 OPENAPI_MAX_DEPTH, &err);
        if (spec == NULL || hret_api_start(&r.cfg, r.db, spec, &api, &err) != HRET_OK) {
            fprintf(stderr, WHO ": %s\n", err.msg);
            rc = err.code == HRET_E_CONFIG ? HRET_EXIT_USAGE : HRET_EXIT_FAILURE;
        }
    }
    struct hret_outbox_relay *relay = hret_outbox_relay_new(r.producer);
    while (rc == HRET_EXIT_OK && !hret_role_stop) {
        if (hret_outbox_relay_step(relay, hret_store_pg(r.store), NULL, &err) != HRET_OK) {
            hret_log_warn("outbox", NULL, "relay: %s", err.msg);
            hret_err_clear(&err);
        }
        hret_api_tick(api);
        hret_ops_tick(hret_store_pg(r.store), NULL, r.producer);
        hret_role_sleep_ms(LOOP_MS);
    }
    if (api != NULL) {
        hret_log_info("api", r.id, "stopping");
    }
    hret_api_stop(api);
    if (rc == HRET_EXIT_OK) {
        hret_outbox_drain(relay, hret_store_pg(r.store), DRAIN_RELAY_MS);
    }
    hret_outbox_relay_destroy(relay, hret_store_pg(r.store));
    free(spec);
    hret_role_close(&r);
    return rc;
}

/* ---- tokens ------------------------------------------------------------------------------- */

struct token_args {
    const char *config, *tokens_file, *scopes;
};

static int token_args(int argc, char **argv, struct token_args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"tokens-file", required_argument, NULL, 'f'},
        {"scopes", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:", opts, NULL)) != -1;) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'f':
            a->tokens_file = optarg;
            break;
        case 's':
            a->scopes = optarg;
            break;
        default:
            return HRET_EXIT_USAGE;
        }
    }
    return HRET_EXIT_OK;
}

static int token_list(const char *path)
{
    struct hret_api_tokens t = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_api_tokens_load(path, &t, &err) != HRET_OK) {
        fprintf(stderr, WHO ": %s\n", err.msg);
        hret_api_tokens_fini(&t);
        return HRET_EXIT_FAILURE;
    }
    printf("%-24s  %-12s  %s\n", "NAME", "SCOPES", "CREATED");
    for (size_t i = 0; i < t.count; i++) {
        char scopes[64];
        hret_api_scopes_format(t.items[i].scopes, scopes, sizeof scopes);
        printf("%-24s  %-12s  %s\n", t.items[i].name, scopes, t.items[i].created);
    }
    hret_api_tokens_fini(&t);
    return HRET_EXIT_OK;
}

static int token_add(const char *path, const char *name, const char *scope_text)
{
    unsigned scopes = 0;
    struct hret_err err = HRET_ERR_INIT;
    char token[HRET_API_TOKEN_LEN + 1];
    if (scope_text == NULL) {
        fprintf(stderr, WHO ": token add needs --scopes (submit, read or submit,read)\n");
        return HRET_EXIT_USAGE;
    }
    if (hret_api_scopes_parse(scope_text, &scopes, &err) != HRET_OK ||
        hret_api_token_add(path, name, scopes, token, &err) != HRET_OK) {
        fprintf(stderr, WHO ": %s\n", err.msg);
        return err.code == HRET_E_INVAL || err.code == HRET_E_CONFLICT ? HRET_EXIT_USAGE
                                                                       : HRET_EXIT_FAILURE;
    }
    printf("token '%s' added to %s; it is shown only now (the file keeps its hash):\n%s\n", name,
           path, token);
    return HRET_EXIT_OK;
}

static int token(int argc, char **argv)
{
    struct token_args a = {0};
    if (argc < 2 || token_args(argc - 1, argv + 1, &a) != HRET_EXIT_OK) {
        fprintf(stderr, "usage: hret api token add NAME --scopes submit,read | list | revoke NAME "
                        "(see hret help api)\n");
        return HRET_EXIT_USAGE;
    }
    const char *verb = argv[1];
    int rest = argc - 1 - optind; /* positional arguments after the verb */
    const char *name = rest > 0 ? argv[1 + optind] : NULL;
    struct hret_config cfg = {0};
    struct hret_strlist problems = {0};
    struct hret_err err = HRET_ERR_INIT;
    int rc = HRET_EXIT_USAGE;
    if (a.tokens_file == NULL &&
        hret_config_load(&cfg, hret_config_locate(a.config), &problems, &err) != HRET_OK) {
        for (size_t i = 0; i < problems.count; i++) {
            fprintf(stderr, "%s\n", problems.items[i]);
        }
    } else {
        const char *path = a.tokens_file ? a.tokens_file : cfg.api.tokens_file;
        if (strcmp(verb, "list") == 0 && rest == 0) {
            rc = token_list(path);
        } else if (strcmp(verb, "add") == 0 && rest == 1) {
            rc = token_add(path, name, a.scopes);
        } else if (strcmp(verb, "revoke") == 0 && rest == 1) {
            rc =
                hret_api_token_revoke(path, name, &err) == HRET_OK ? HRET_EXIT_OK : HRET_EXIT_USAGE;
            fprintf(rc ? stderr : stdout, rc ? WHO ": %s\n" : "token '%s' revoked\n",
                    rc ? err.msg : name);
        } else {
            fprintf(stderr, WHO ": token %s: see hret help api\n", verb);
        }
    }
    hret_strlist_fini(&problems);
    hret_config_fini(&cfg);
    return rc;
}

int hret_cmd_api(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "token") == 0) {
        return token(argc - 1, argv + 1);
    }
    return serve(argc, argv);
}
