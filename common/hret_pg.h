/* PostgreSQL through libpq (pgbouncer's size, libpq's own calls): one connection that
 * reconnects with backoff, parameterized statements only, errors classified once by SQLSTATE,
 * transactions retried as a whole on retriable errors (COPY: hret_pg_copy.h).
 *
 * Classification (hret_pg_sqlstate_result): class 08 (connection), 40001 (serialization),
 * 40P01 (deadlock), 57P01..57P03 (shutdown, crash, starting up), 53300 (too many connections)
 * and a lost connection are HRET_E_UNAVAILABLE (retriable); 57014 (statement timeout) is
 * HRET_E_TIMEOUT; 23505 (unique violation) HRET_E_CONFLICT; other 22xxx/23xxx HRET_E_INVAL;
 * 42P01/42703 (missing table or column: the schema is behind) HRET_E_CONFIG; the rest
 * HRET_E_FATAL.
 *
 * The password is read from the environment variable named by password_env at each connect and
 * handed to PQconnectdbParams; it and the connection string are never logged (a conninfo may
 * carry a password when it comes from the environment). Not thread-safe: one per thread. */
#ifndef HRET_PG_H
#define HRET_PG_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "hret_buf.h"
#include "hret_err.h"

struct hret_pg_options {          /* all borrowed for hret_pg_open; copied */
    const char *conninfo;         /* libpq key=value string or URI, without a password */
    const char *password_env;     /* nullable: environment variable holding the password */
    const char *application_name; /* nullable: "hret" */
    int connect_timeout_s;        /* per attempt; 0 = 10 */
    int max_attempts;             /* connect attempts and transaction tries; 0 = 6 */
    int backoff_ms;               /* first retry delay, doubled up to 4 s; 0 = 250 */
};

struct hret_pg;

/* Connects, retrying retriable failures with backoff. Caller owns *out (hret_pg_destroy). */
enum hret_result hret_pg_open(const struct hret_pg_options *opt, struct hret_pg **out,
                              struct hret_err *err);
void hret_pg_destroy(struct hret_pg *pg);

/* The live connection, borrowed (NULL while disconnected). For calls not wrapped here. */
PGconn *hret_pg_conn(struct hret_pg *pg);

/* Reconnects when the connection was lost (with backoff); a no-op when it is fine. */
enum hret_result hret_pg_ensure(struct hret_pg *pg, struct hret_err *err);

/* One parameterized statement; params are text (NULL entries are SQL NULL), borrowed.
 * binary_result asks for binary columns (bytea as raw bytes). *out (nullable) receives the
 * result (caller PQclear) of a successful statement. Errors are classified and name `what`. */
enum hret_result hret_pg_query(struct hret_pg *pg, const char *what, const char *sql, int nparams,
                               const char *const *params, bool binary_result, PGresult **out,
                               struct hret_err *err);

/* Static SQL with no parameters, possibly several statements (migrations, BEGIN, DDL). Never
 * build sql from input: use hret_pg_query. */
enum hret_result hret_pg_exec_static(struct hret_pg *pg, const char *what, const char *sql,
                                     struct hret_err *err);

/* Runs fn between BEGIN and COMMIT. On a retriable failure (lost connection, serialization
 * failure, deadlock, commit of unknown outcome) it rolls back, reconnects and runs fn again, up
 * to max_attempts tries with backoff (the defaults ride out about 8 s of outage), so fn must be
 * idempotent (ON CONFLICT writes). Any other failure rolls back and is returned at once. */
typedef enum hret_result hret_pg_txn_fn(struct hret_pg *pg, void *user, struct hret_err *err);
enum hret_result hret_pg_transaction(struct hret_pg *pg, const char *what, hret_pg_txn_fn *fn,
                                     void *user, struct hret_err *err);

/* One try of the same, without reconnecting or retrying: for best-effort writes on a hot path
 * (a lost connection fails at once; the next hret_pg_ensure reconnects). */
enum hret_result hret_pg_transaction_once(struct hret_pg *pg, const char *what, hret_pg_txn_fn *fn,
                                          void *user, struct hret_err *err);

/* Result classification of a SQLSTATE (5 characters; NULL = no state). */
enum hret_result hret_pg_sqlstate_result(const char *sqlstate);

/* A failed libpq call (res NULL) or result, classified into err (the message names what, never
 * the connection string). Returns err's code. For calls not wrapped here. */
enum hret_result hret_pg_fail(struct hret_pg *pg, const PGresult *res, const char *what,
                              struct hret_err *err);

#endif
