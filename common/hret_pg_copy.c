#include "hret_pg_copy.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY_CHUNK (64u * 1024u)
#define COPY_BUF_MAX ((size_t)1 << 31)

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

/* n bytes at text into b as valid UTF-8 (each invalid byte becomes U+FFFD), with COPY text
 * format's escapes when escape is set (binary format sends the bytes as they are). */
static void put_utf8(struct hret_buf *b, const char *text, size_t n, bool escape)
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
        const char *esc = !escape     ? NULL
                          : c == '\\' ? "\\\\"
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

void hret_pg_copy_escape(struct hret_buf *b, const char *text, size_t n)
{
    put_utf8(b, text, n, true);
}

/* Big-endian integers, as the binary format has them. */
static void put_be(struct hret_buf *b, uint64_t v, size_t bytes)
{
    char out[8];
    for (size_t i = 0; i < bytes; i++) {
        out[i] = (char)(v >> (8 * (bytes - 1 - i)));
    }
    put(b, out, bytes);
}

static void patch_be(struct hret_buf *b, size_t at, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++) {
        b->data[at + i] = (char)(v >> (8 * (bytes - 1 - i)));
    }
}

static enum hret_result begin(struct hret_pg *pg, struct hret_pg_copy *c, const char *sql,
                              bool binary, struct hret_err *err)
{
    memset(c, 0, sizeof *c);
    c->pg = pg;
    c->binary = binary;
    hret_buf_init(&c->buf, COPY_BUF_MAX);
    if (hret_pg_conn(pg) == NULL) {
        return hret_pg_fail(pg, NULL, "COPY", err);
    }
    PGresult *res = PQexec(hret_pg_conn(pg), sql);
    if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
        enum hret_result r = hret_pg_fail(pg, res, "COPY", err);
        PQclear(res);
        hret_buf_fini(&c->buf);
        return r;
    }
    PQclear(res);
    c->active = true;
    if (binary) { /* signature, flags, header extension length */
        put(&c->buf, "PGCOPY\n\377\r\n\0", 11);
        put_be(&c->buf, 0, 4);
        put_be(&c->buf, 0, 4);
    }
    return HRET_OK;
}

enum hret_result hret_pg_copy_begin(struct hret_pg *pg, struct hret_pg_copy *c, const char *sql,
                                    struct hret_err *err)
{
    return begin(pg, c, sql, false, err);
}

enum hret_result hret_pg_copy_begin_binary(struct hret_pg *pg, struct hret_pg_copy *c,
                                           const char *sql, struct hret_err *err)
{
    return begin(pg, c, sql, true, err);
}

/* Starts a field: a tab between text fields; the row's field count (patched by end_row) before
 * the first binary one. */
static void separator(struct hret_pg_copy *c)
{
    if (c->binary && c->fields == 0) {
        c->row_start = c->buf.len;
        put_be(&c->buf, 0, 2);
    } else if (!c->binary && c->fields > 0) {
        put(&c->buf, "\t", 1);
    }
    c->fields++;
}

static void put_null(struct hret_pg_copy *c)
{
    if (c->binary) {
        put_be(&c->buf, 0xffffffffu, 4); /* length -1 */
    } else {
        put(&c->buf, "\\N", 2);
    }
}

/* A binary field of the bytes at p (prefix: a leading byte, < 0 for none) as UTF-8, its length
 * patched in afterwards. */
static void put_binary_text(struct hret_pg_copy *c, int prefix, const char *p, size_t n)
{
    size_t at = c->buf.len;
    put_be(&c->buf, 0, 4);
    if (prefix >= 0) {
        put_be(&c->buf, (uint64_t)prefix, 1);
    }
    put_utf8(&c->buf, p, n, false);
    patch_be(&c->buf, at, c->buf.len - at - 4, 4);
}

void hret_pg_copy_textn(struct hret_pg_copy *c, const char *s, size_t n)
{
    separator(c);
    if (c->binary) {
        put_binary_text(c, -1, s, n);
    } else {
        put_utf8(&c->buf, s, n, true);
    }
}

void hret_pg_copy_text(struct hret_pg_copy *c, const char *s)
{
    if (s == NULL) {
        separator(c);
        put_null(c);
        return;
    }
    hret_pg_copy_textn(c, s, strlen(s));
}

void hret_pg_copy_jsonb(struct hret_pg_copy *c, const char *s)
{
    if (s == NULL || !c->binary) {
        hret_pg_copy_text(c, s);
        return;
    }
    separator(c);
    put_binary_text(c, 1, s, strlen(s)); /* jsonb's binary form: version 1, then the text */
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
    if (!c->binary) {
        put_int(&c->buf, v);
    } else if (v < INT32_MIN || v > INT32_MAX) {
        c->bad = "an integer out of range for its integer column";
        put_null(c);
    } else {
        put_be(&c->buf, 4, 4);
        put_be(&c->buf, (uint32_t)(int32_t)v, 4);
    }
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

/* A double precision field in binary format: its IEEE 754 bits, big-endian. */
static void put_binary_double(struct hret_pg_copy *c, double v)
{
    if (!isfinite(v)) {
        put_null(c);
        return;
    }
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_be(&c->buf, 8, 4);
    put_be(&c->buf, bits, 8);
}

void hret_pg_copy_double(struct hret_pg_copy *c, double v)
{
    separator(c);
    if (c->binary) {
        put_binary_double(c, v);
    } else {
        put_double(&c->buf, v);
    }
}

void hret_pg_copy_fixed3(struct hret_pg_copy *c, double v)
{
    separator(c);
    if (c->binary) { /* the double nearest the decimal the text format would send */
        put_binary_double(c, isfinite(v) && fabs(v) < 1e12 ? (double)llround(v * 1000) / 1000 : v);
        return;
    }
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
    if (v < 0) {
        put_null(c);
    } else if (c->binary) {
        put_be(&c->buf, 1, 4);
        put_be(&c->buf, v != 0, 1);
    } else {
        put(&c->buf, v ? "t" : "f", 1);
    }
}

void hret_pg_copy_bytea(struct hret_pg_copy *c, const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    separator(c);
    if (c->binary) {
        put_be(&c->buf, n, 4);
        put(&c->buf, p, n);
        return;
    }
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
    if (PQputCopyData(hret_pg_conn(c->pg), c->buf.data, (int)c->buf.len) != 1) {
        return hret_pg_fail(c->pg, NULL, "COPY data", err);
    }
    hret_buf_reset(&c->buf);
    return HRET_OK;
}

enum hret_result hret_pg_copy_end_row(struct hret_pg_copy *c, struct hret_err *err)
{
    if (c->bad != NULL) {
        return hret_err_set(err, HRET_E_INVAL, "postgres: COPY row %zu: %s", c->rows + 1, c->bad);
    }
    if (c->binary) {
        patch_be(&c->buf, c->row_start, (uint64_t)c->fields, 2);
    } else {
        put(&c->buf, "\n", 1);
    }
    c->fields = 0;
    c->rows++;
    return c->buf.len >= COPY_CHUNK ? send_buffer(c, err) : HRET_OK;
}

void hret_pg_copy_abort(struct hret_pg_copy *c)
{
    if (c->active && hret_pg_conn(c->pg) != NULL) {
        if (PQputCopyEnd(hret_pg_conn(c->pg), "aborted by hret") == 1) {
            PGresult *res;
            while ((res = PQgetResult(hret_pg_conn(c->pg))) != NULL) {
                PQclear(res);
            }
        }
    }
    c->active = false;
    hret_buf_fini(&c->buf);
}

enum hret_result hret_pg_copy_finish(struct hret_pg_copy *c, struct hret_err *err)
{
    if (c->binary) {
        put_be(&c->buf, 0xffffu, 2); /* the trailer: a field count of -1 */
    }
    enum hret_result r = send_buffer(c, err);
    if (r != HRET_OK) {
        hret_pg_copy_abort(c);
        return r;
    }
    c->active = false;
    hret_buf_fini(&c->buf);
    if (PQputCopyEnd(hret_pg_conn(c->pg), NULL) != 1) {
        return hret_pg_fail(c->pg, NULL, "COPY end", err);
    }
    PGresult *res;
    while ((res = PQgetResult(hret_pg_conn(c->pg))) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && r == HRET_OK) {
            r = hret_pg_fail(c->pg, res, "COPY", err);
        }
        PQclear(res);
    }
    return r;
}
