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

#define COPY_CHUNK (64u * 1024u)
#define COPY_BUF_MAX ((size_t)1 << 31)
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
static enum hret_result fail(struct hret_pg *pg, const PGresult *res, const char *what,
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
    enum hret_result r = fail(pg, res, what, err);
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
        return fail(pg, NULL, what, err);
    }
    PGresult *res =
        PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, binary_result ? 1 : 0);
    return check(pg, res, what, out, err);
}

enum hret_result hret_pg_exec_static(struct hret_pg *pg, const char *what, const char *sql,
                                     struct hret_err *err)
{
    if (pg->conn == NULL) {
        return fail(pg, NULL, what, err);
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
        return fail(pg, NULL, what, err);
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

/* ---- COPY ---- */

static void put(struct hret_buf *b, const char *p, size_t n)
{
    if (n > 0) {
        hret_buf_append(b, p, n, NULL);
    }
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid (RFC 3629: no
 * overlongs, no surrogates, nothing past U+10FFFF). */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (len == 0 || c > 0xF4 || len > n) {
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            return 0;
        }
    }
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F)) {
        return 0;
    }
    return len;
}

void hret_pg_copy_escape(struct hret_buf *b, const char *text, size_t n)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    const unsigned char *s = (const unsigned char *)text;
    size_t run = 0; /* start of the pending run of bytes copied as they are */
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t len = utf8_valid(s + i, n - i);
            if (len == 0) {
                put(b, text + run, i - run);
                put(b, replacement, 3);
                run = ++i;
            } else {
                i += len;
            }
            continue;
        }
        const char *esc = c == '\\'   ? "\\\\"
                          : c == '\t' ? "\\t"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                                      : NULL;
        if (esc != NULL) {
            put(b, text + run, i - run);
            put(b, esc, 2);
            run = i + 1;
        }
        i++;
    }
    put(b, text + run, n - run);
}

enum hret_result hret_pg_copy_begin(struct hret_pg *pg, struct hret_pg_copy *c, const char *sql,
                                    struct hret_err *err)
{
    memset(c, 0, sizeof *c);
    c->pg = pg;
    hret_buf_init(&c->buf, COPY_BUF_MAX);
    if (pg->conn == NULL) {
        return fail(pg, NULL, "COPY", err);
    }
    PGresult *res = PQexec(pg->conn, sql);
    if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
        enum hret_result r = fail(pg, res, "COPY", err);
        PQclear(res);
        hret_buf_fini(&c->buf);
        return r;
    }
    PQclear(res);
    c->active = true;
    return HRET_OK;
}

static void separator(struct hret_pg_copy *c)
{
    if (c->fields++ > 0) {
        put(&c->buf, "\t", 1);
    }
}

void hret_pg_copy_textn(struct hret_pg_copy *c, const char *s, size_t n)
{
    separator(c);
    hret_pg_copy_escape(&c->buf, s, n);
}

void hret_pg_copy_text(struct hret_pg_copy *c, const char *s)
{
    if (s == NULL) {
        separator(c);
        put(&c->buf, "\\N", 2);
        return;
    }
    hret_pg_copy_textn(c, s, strlen(s));
}

/* Decimal digits of v, without printf (COPY streams carry several numbers per row). */
static void put_int(struct hret_buf *b, long long v)
{
    char digits[24];
    size_t k = sizeof digits;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        digits[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0) {
        digits[--k] = '-';
    }
    put(b, digits + k, sizeof digits - k);
}

void hret_pg_copy_int(struct hret_pg_copy *c, long long v)
{
    separator(c);
    put_int(&c->buf, v);
}

static void put_double(struct hret_buf *b, double v)
{
    if (!isfinite(v)) {
        put(b, "\\N", 2);
    } else if (v == trunc(v) && fabs(v) < 1e15) {
        put_int(b, (long long)v);
    } else {
        char text[32];
        int n = snprintf(text, sizeof text, "%.17g", v);
        put(b, text, (size_t)n);
    }
}

void hret_pg_copy_double(struct hret_pg_copy *c, double v)
{
    separator(c);
    put_double(&c->buf, v);
}

void hret_pg_copy_fixed3(struct hret_pg_copy *c, double v)
{
    separator(c);
    if (!isfinite(v) || fabs(v) >= 1e12) {
        put_double(&c->buf, v);
        return;
    }
    long long m = llround(v * 1000);
    unsigned long long u = m < 0 ? 0ull - (unsigned long long)m : (unsigned long long)m;
    if (m < 0) {
        put(&c->buf, "-", 1);
    }
    put_int(&c->buf, (long long)(u / 1000));
    char frac[4] = {'.', (char)('0' + u / 100 % 10), (char)('0' + u / 10 % 10),
                    (char)('0' + u % 10)};
    put(&c->buf, frac, 4);
}

void hret_pg_copy_bool(struct hret_pg_copy *c, int v)
{
    separator(c);
    put(&c->buf, v < 0 ? "\\N" : v ? "t" : "f", v < 0 ? 2 : 1);
}

void hret_pg_copy_bytea(struct hret_pg_copy *c, const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    separator(c);
    put(&c->buf, "\\\\x", 3); /* the bytea hex prefix \x, its backslash escaped for COPY */
    const unsigned char *s = p;
    char chunk[512];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        chunk[k++] = hex[s[i] >> 4];
        chunk[k++] = hex[s[i] & 15];
        if (k == sizeof chunk) {
            put(&c->buf, chunk, k);
            k = 0;
        }
    }
    put(&c->buf, chunk, k);
}

static enum hret_result send_buffer(struct hret_pg_copy *c, struct hret_err *err)
{
    if (c->buf.len == 0) {
        return HRET_OK;
    }
    if (PQputCopyData(c->pg->conn, c->buf.data, (int)c->buf.len) != 1) {
        return fail(c->pg, NULL, "COPY data", err);
    }
    hret_buf_reset(&c->buf);
    return HRET_OK;
}

enum hret_result hret_pg_copy_end_row(struct hret_pg_copy *c, struct hret_err *err)
{
    put(&c->buf, "\n", 1);
    c->fields = 0;
    c->rows++;
    return c->buf.len >= COPY_CHUNK ? send_buffer(c, err) : HRET_OK;
}

void hret_pg_copy_abort(struct hret_pg_copy *c)
{
    if (c->active && c->pg->conn != NULL) {
        if (PQputCopyEnd(c->pg->conn, "aborted by hret") == 1) {
            PGresult *res;
            while ((res = PQgetResult(c->pg->conn)) != NULL) {
                PQclear(res);
            }
        }
    }
    c->active = false;
    hret_buf_fini(&c->buf);
}

enum hret_result hret_pg_copy_finish(struct hret_pg_copy *c, struct hret_err *err)
{
    enum hret_result r = send_buffer(c, err);
    if (r != HRET_OK) {
        hret_pg_copy_abort(c);
        return r;
    }
    c->active = false;
    hret_buf_fini(&c->buf);
    if (PQputCopyEnd(c->pg->conn, NULL) != 1) {
        return fail(c->pg, NULL, "COPY end", err);
    }
    PGresult *res;
    while ((res = PQgetResult(c->pg->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && r == HRET_OK) {
            r = fail(c->pg, res, "COPY", err);
        }
        PQclear(res);
    }
    return r;
}
