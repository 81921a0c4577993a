/* hret status REQUEST_ID: what PostgreSQL knows of a request and its runs. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hret_cli.h"
#include "hret_json.h"
#include "hret_pg.h"
#include "hret_store_cli.h"

#define WHO "hret status"

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"db", required_argument, NULL, 'B'},
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

static const char *const request_sql =
    "SELECT status, coalesce(error, ''), created_at::text, coalesce(finished_at::text, '') "
    "FROM requests WHERE request_id = $1";

static const char *const runs_sql =
    "SELECT run_id, status, model_name, dataset_name, done_samples, planned_samples, "
    "error_samples, coalesce((metrics->>'accuracy'), ''), coalesce(error, '') "
    "FROM runs WHERE request_id = $1 ORDER BY model_name, dataset_name";

static void print_text(const char *id, PGresult *req, PGresult *runs)
{
    printf("request %s: %s (created %s%s%s)\n", id, PQgetvalue(req, 0, 0), PQgetvalue(req, 0, 2),
           *PQgetvalue(req, 0, 3) ? ", finished " : "", PQgetvalue(req, 0, 3));
    if (*PQgetvalue(req, 0, 1)) {
        printf("  error: %s\n", PQgetvalue(req, 0, 1));
    }
    for (int i = 0; i < PQntuples(runs); i++) {
        printf("  run %s  %-9s model %s  dataset %s  samples %s/%s  errors %s",
               PQgetvalue(runs, i, 0), PQgetvalue(runs, i, 1), PQgetvalue(runs, i, 2),
               PQgetvalue(runs, i, 3), PQgetvalue(runs, i, 4), PQgetvalue(runs, i, 5),
               PQgetvalue(runs, i, 6));
        if (*PQgetvalue(runs, i, 7)) {
            printf("  accuracy %.4f", atof(PQgetvalue(runs, i, 7)));
        }
        if (*PQgetvalue(runs, i, 8)) {
            printf("  error: %s", PQgetvalue(runs, i, 8));
        }
        printf("\n");
    }
}

static void print_json(const char *id, PGresult *req, PGresult *runs)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "request_id", id);
    cJSON_AddStringToObject(j, "status", PQgetvalue(req, 0, 0));
    cJSON_AddStringToObject(j, "error", PQgetvalue(req, 0, 1));
    cJSON *list = cJSON_AddArrayToObject(j, "runs");
    for (int i = 0; i < PQntuples(runs); i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "run_id", PQgetvalue(runs, i, 0));
        cJSON_AddStringToObject(r, "status", PQgetvalue(runs, i, 1));
        cJSON_AddStringToObject(r, "model", PQgetvalue(runs, i, 2));
        cJSON_AddStringToObject(r, "dataset", PQgetvalue(runs, i, 3));
        cJSON_AddNumberToObject(r, "done_samples", atof(PQgetvalue(runs, i, 4)));
        cJSON_AddNumberToObject(r, "planned_samples", atof(PQgetvalue(runs, i, 5)));
        cJSON_AddNumberToObject(r, "error_samples", atof(PQgetvalue(runs, i, 6)));
        if (*PQgetvalue(runs, i, 7)) {
            cJSON_AddNumberToObject(r, "accuracy", atof(PQgetvalue(runs, i, 7)));
        }
        cJSON_AddItemToArray(list, r);
    }
    char *text = hret_json_print(j);
    printf("%s\n", text);
    free(text);
    cJSON_Delete(j);
}

int hret_cmd_status(int argc, char **argv)
{
    const char *config = NULL, *db = NULL;
    bool json = false;
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:", long_options, NULL)) != -1;) {
        if (c == 'c') {
            config = optarg;
        } else if (c == 'B') {
            db = optarg;
        } else if (c == 'j') {
            json = true;
        } else {
            return HRET_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, WHO ": give one REQUEST_ID (hret submit prints it)\n");
        return HRET_EXIT_USAGE;
    }
    const char *id = argv[optind];
    struct hret_store_cli cli = {0};
    int rc = hret_store_cli_open(&cli, WHO, config, db, false);
    PGresult *req = NULL, *runs = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (rc == HRET_EXIT_OK) {
        struct hret_pg *pg = hret_store_pg(cli.store);
        const char *params[] = {id};
        if (hret_pg_query(pg, "request status", request_sql, 1, params, false, &req, &err) !=
                HRET_OK ||
            hret_pg_query(pg, "request runs", runs_sql, 1, params, false, &runs, &err) != HRET_OK) {
            rc = hret_store_cli_fail(WHO, &err);
        } else if (PQntuples(req) == 0) {
            fprintf(stderr,
                    WHO ": no request %s in the database (not consumed yet, or another "
                        "database?)\n",
                    id);
            rc = HRET_EXIT_FAILURE;
        } else if (json) {
            print_json(id, req, runs);
        } else {
            print_text(id, req, runs);
        }
    }
    PQclear(req);
    PQclear(runs);
    hret_store_cli_close(&cli);
    return rc;
}
