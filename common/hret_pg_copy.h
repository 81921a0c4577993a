#ifndef HRET_PG_COPY_H
#define HRET_PG_COPY_H

#include <stdbool.h>
#include <stddef.h>

#include "hret_buf.h"
#include "hret_err.h"
#include "hret_pg.h"

/* COPY ... FROM STDIN, row by row: fields go into a buffer that is sent in 64 KiB chunks. Text is
 * sent as valid UTF-8 (each invalid byte becomes U+FFFD).
 *
 * Two formats, chosen when the COPY begins, written with the same calls. Text (FORMAT text) lets
 * the server convert each field to its column's type. Binary (the statement says WITH (FORMAT
 * binary)) spares the server that parsing (about a fifth of a COPY into samples) but each call
 * must match its column's type exactly: hret_pg_copy_int an integer (int4) column, _double and
 * _fixed3 double precision, _bool boolean, _bytea bytea, _jsonb jsonb, _text and _textn text or
 * json. */
struct hret_pg_copy {
    struct hret_pg *pg; /* borrowed */
    struct hret_buf buf;
    int fields; /* fields in the current row */
    size_t rows;
    bool active;
    bool binary;
    size_t row_start; /* binary: where the current row's field count goes */
    const char *bad;  /* binary: a field that could not be sent (static); fails the row */
};

enum hret_result hret_pg_copy_begin(struct hret_pg *pg, struct hret_pg_copy *c, const char *sql,
                                    struct hret_err *err);
enum hret_result hret_pg_copy_begin_binary(struct hret_pg *pg, struct hret_pg_copy *c,
                                           const char *sql, struct hret_err *err);
void hret_pg_copy_text(struct hret_pg_copy *c, const char *s); /* NULL = SQL NULL */
void hret_pg_copy_textn(struct hret_pg_copy *c, const char *s, size_t n);
void hret_pg_copy_jsonb(struct hret_pg_copy *c, const char *s); /* JSON text; NULL = SQL NULL */
void hret_pg_copy_int(struct hret_pg_copy *c, long long v); /* binary: int4, else the row fails */
void hret_pg_copy_double(struct hret_pg_copy *c, double v); /* NaN and infinities = NULL */
/* v rounded to 3 decimals (what results JSON shows of a latency), without printf. */
void hret_pg_copy_fixed3(struct hret_pg_copy *c, double v);
void hret_pg_copy_bool(struct hret_pg_copy *c, int v); /* < 0 = NULL */
void hret_pg_copy_bytea(struct hret_pg_copy *c, const void *p, size_t n);
enum hret_result hret_pg_copy_end_row(struct hret_pg_copy *c, struct hret_err *err);
/* Sends the rest and ends the COPY; on failure the COPY is aborted. Always releases c. */
enum hret_result hret_pg_copy_finish(struct hret_pg_copy *c, struct hret_err *err);
/* Aborts a COPY in progress (no-op when none) and releases c. */
void hret_pg_copy_abort(struct hret_pg_copy *c);

/* COPY text escaping of n bytes at s into b (pure; exposed for tests). */
void hret_pg_copy_escape(struct hret_buf *b, const char *s, size_t n);

#endif
