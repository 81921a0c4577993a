#include "hret_pg.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_log.h"
#include "hret_mem.h"
#include "hret_utf8.h"

#define BACKOFF_CAP_MS 4000

struct hret_pg {
    PGconn *conn;
    char *conninfo;
    char *password_env;
    char *application_name;
    char connect_timeout[16];
    int max_attempts;
    int backoff_ms;
    unsigned long long jitter; /* xorshift state */
};

enum hret_result hret_pg_sqlstate_result(const char *s)
{
    if (s == NULL || strlen(s) != 5) {
        return HRET_E_FATAL;
    }
    if (strncmp(s, "08", 2) == 0 || strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 ||
        strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0 ||
        strcmp(s, "53300") == 0) {
        return HRET_E_UNAVAILABLE;
    }
    if (strcmp(s, "57014") == 0) {
        return HRET_E_TIMEOUT;
    }
    if (strcmp(s, "23505") == 0) {
        return HRET_E_CONFLICT;
    }
    if (strncmp(s, "22", 2) == 0 || strncmp(s, "23", 2) == 0) {
        return HRET_E_INVAL;
    }
    if (strcmp(s, "42P01") == 0 || strcmp(s, "42703") == 0) {
        return HRET_E_CONFIG;
    }
    return HRET_E_FATAL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Exponential backoff with jitter in [d/2, d]. */
static int backoff(struct hret_pg *pg, int attempt)
{
    pg->jitter ^= pg->jitter << 13;
    pg->jitter ^= pg->jitter >> 7;
    pg->jitter ^= pg->jitter << 17;
    long d = pg->backoff_ms;
    for (int i = 1; i < attempt && d < BACKOFF_CAP_MS; i++) {
        d *= 2;
    }
    d = d > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : d;
    return (int)(d / 2 + (long)(pg->jitter % (unsigned long long)(d / 2 + 1)));
}

/* The first line of libpq's message, without the trailing newline. */
static void first_line(const char *msg, char *out, size_t cap)
{
    size_t n = msg ? strcspn(msg, "\n") : 0;
    n = n < cap - 1 ? n : cap - 1;
    memcpy(out, msg ? msg : "", n);
    out[n] = '\0';
}

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    char line[256];
    first_line(message, line, sizeof line);
    hret_log_debug("pg", NULL, "server notice: %s", line);
}

static enum hret_result connect_once(struct hret_pg *pg, struct hret_err *err)
{
    const char *password = pg->password_env ? getenv(pg->password_env) : NULL;
    const char *keys[] = {"application_name", "connect_timeout", "dbname", "password", NULL};
    const char *values[] = {pg->application_name, pg->connect_timeout, pg->conninfo, password,
                            NULL};
    if (password == NULL) {
        keys[3] = NULL;
    }
    PQfinish(pg->conn);
    pg->conn = PQconnectdbParams(keys, values, 1);
    if (pg->conn == NULL) {
        return hret_err_set(err, HRET_E_FATAL, "postgres: out of memory connecting");
    }
    if (PQstatus(pg->conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(pg->conn, on_notice, NULL);
        return HRET_OK;
    }
    char line[300];
    first_line(PQerrorMessage(pg->conn), line, sizeof line);
    /* A bad conninfo or authentication is permanent; anything else (refused, down, starting) is
     * worth another try. libpq reports no SQLSTATE for these, so the text decides. */
    bool permanent = strstr(line, "invalid") != NULL || strstr(line, "authentication") != NULL ||
                     strstr(line, "does not exist") != NULL || strstr(line, "password") != NULL;
    PQfinish(pg->conn);
    pg->conn = NULL;
    return hret_err_set(err, permanent ? HRET_E_CONFIG : HRET_E_UNAVAILABLE,
                        "postgres: cannot connect: %s", line);
}

static enum hret_result connect_retrying(struct hret_pg *pg, struct hret_err *err)
{
    for (int attempt = 1;; attempt++) {
        struct hret_err e = HRET_ERR_INIT;
        enum hret_result r = connect_once(pg, &e);
        if (r == HRET_OK) {
            hret_log_debug("pg", NULL, "connected to %s:%s database %s", PQhost(pg->conn),
                           PQport(pg->conn), PQdb(pg->conn));
            return HRET_OK;
        }
        if (!hret_result_is_retriable(r) || attempt >= pg->max_attempts) {
            return hret_err_set(err, r, "%s", e.msg);
        }
        int wait = backoff(pg, attempt);
        hret_log_warn("pg", NULL, "%s; retry %d/%d in %d ms", e.msg, attempt, pg->max_attempts - 1,
                      wait);
        sleep_ms(wait);
    }
}

enum hret_result hret_pg_open(const struct hret_pg_options *opt, struct hret_pg **out,
                              struct hret_err *err)
{
    *out = NULL;
    if (opt->conninfo == NULL || *opt->conninfo == '\0') {
        return hret_err_set(err, HRET_E_CONFIG,
                            "postgres: no connection string (--db, postgres.conninfo or HRET_PG)");
    }
    struct hret_pg *pg = hret_xcalloc(1, sizeof *pg);
    pg->conninfo = hret_xstrdup(opt->conninfo);
    pg->password_env = hret_xstrdup(opt->password_env);
    pg->application_name = hret_xstrdup(opt->application_name ? opt->application_name : "hret");
    snprintf(pg->connect_timeout, sizeof pg->connect_timeout, "%d",
             opt->connect_timeout_s > 0 ? opt->connect_timeout_s : 10);
    pg->max_attempts = opt->max_attempts > 0 ? opt->max_attempts : 6;
    pg->backoff_ms = opt->backoff_ms > 0 ? opt->backoff_ms : 250;
    pg->jitter = ((unsigned long long)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uintptr_t)pg) | 1;
    enum hret_result r = connect_retrying(pg, err);
    if (r != HRET_OK) {
        hret_pg_destroy(pg);
        return r;
    }
    *out = pg;
    return HRET_OK;
}

void hret_pg_destroy(struct hret_pg *pg)
{
    if (pg == NULL) {
        return;
    }
    PQfinish(pg->conn);
    free(pg->conninfo);
    free(pg->password_env);
    free(pg->application_name);
    free(pg);
}

PGconn *hret_pg_conn(struct hret_pg *pg)
{
    return pg->conn;
}

enum hret_result hret_pg_ensure(struct hret_pg *pg, struct hret_err *err)
{
    if (pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_OK) {
        return HRET_OK;
    }
    hret_log_warn("pg", NULL, "connection lost; reconnecting");
    return connect_retrying(pg, err);
}

/* Classifies a failed result (res may be NULL) and sets err naming what failed. */
enum hret_result hret_pg_fail(struct hret_pg *pg, const PGresult *res, const char *what,
                              struct hret_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    enum hret_result code = hret_pg_sqlstate_result(state);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        code = HRET_E_UNAVAILABLE;
    }
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char line[300];
    first_line(primary    ? primary
               : pg->conn ? PQerrorMessage(pg->conn)
                          : "not connected",
               line, sizeof line);
    if (code == HRET_E_CONFIG) {
        return hret_err_set(err, code, "postgres: %s: %s (SQLSTATE %s; run hret migrate?)", what,
                            line, state);
    }
    return hret_err_set(err, code, "postgres: %s: %s%s%s%s", what, line, state ? " (SQLSTATE " : "",
                        state ? state : "", state ? ")" : "");
}

static enum hret_result check(struct hret_pg *pg, PGresult *res, const char *what, PGresult **out,
                              struct hret_err *err)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out != NULL) {
            *out = res;
        } else {
            PQclear(res);
        }
        return HRET_OK;
    }
    enum hret_result r = hret_pg_fail(pg, res, what, err);
    PQclear(res);
    return r;
}

enum hret_result hret_pg_query(struct hret_pg *pg, const char *what, const char *sql, int nparams,
                               const char *const *params, bool binary_result, PGresult **out,
                               struct hret_err *err)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (pg->conn == NULL) {
        return hret_pg_fail(pg, NULL, what, err);
    }
    PGresult *res =
        PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, binary_result ? 1 : 0);
    return check(pg, res, what, out, err);
}

enum hret_result hret_pg_exec_static(struct hret_pg *pg, const char *what, const char *sql,
                                     struct hret_err *err)
{
    if (pg->conn == NULL) {
        return hret_pg_fail(pg, NULL, what, err);
    }
    return check(pg, PQexec(pg->conn, sql), what, NULL, err);
}

static void rollback_quietly(struct hret_pg *pg)
{
    if (pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_OK &&
        PQtransactionStatus(pg->conn) != PQTRANS_IDLE) {
        PQclear(PQexec(pg->conn, "ROLLBACK"));
    }
}

/* One try: a lost connection is made again once here; the caller's loop owns the backoff. */
static enum hret_result try_transaction(struct hret_pg *pg, const char *what, hret_pg_txn_fn *fn,
                                        void *user, struct hret_err *err)
{
    enum hret_result r = HRET_OK;
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        hret_log_warn("pg", NULL, "connection lost; reconnecting");
        r = connect_once(pg, err);
    }
    if (r == HRET_OK) {
        r = hret_pg_exec_static(pg, what, "BEGIN", err);
    }
    if (r == HRET_OK) {
        r = fn(pg, user, err);
    }
    if (r == HRET_OK) {
        r = hret_pg_exec_static(pg, what, "COMMIT", err);
    }
    if (r != HRET_OK) {
        rollback_quietly(pg);
    }
    return r;
}

enum hret_result hret_pg_transaction_once(struct hret_pg *pg, const char *what, hret_pg_txn_fn *fn,
                                          void *user, struct hret_err *err)
{
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        return hret_pg_fail(pg, NULL, what, err);
    }
    return try_transaction(pg, what, fn, user, err);
}

enum hret_result hret_pg_transaction(struct hret_pg *pg, const char *what, hret_pg_txn_fn *fn,
                                     void *user, struct hret_err *err)
{
    for (int attempt = 1;; attempt++) {
        struct hret_err e = HRET_ERR_INIT;
        enum hret_result r = try_transaction(pg, what, fn, user, &e);
        if (r == HRET_OK) {
            return HRET_OK;
        }
        if (!hret_result_is_retriable(r) || attempt >= pg->max_attempts) {
            return hret_err_set(err, r, "%s", e.msg);
        }
        int wait = backoff(pg, attempt);
        hret_log_warn("pg", NULL, "%s; retrying the transaction (%d/%d) in %d ms", e.msg, attempt,
                      pg->max_attempts - 1, wait);
        sleep_ms(wait);
    }
}
