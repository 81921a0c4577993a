#include "hret_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "hret_buf.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_table_impl.h"
#include "hret_utf8.h"

/* ---- growth helpers ---------------------------------------------------------------------- */

static void push_cell(struct hret_table *t, size_t *count, size_t off)
{
    if (*count == t->cells_alloc) {
        t->cells_alloc = t->cells_alloc ? t->cells_alloc * 2 : 1024;
        t->cells = hret_xrealloc(t->cells, t->cells_alloc * sizeof *t->cells);
    }
    t->cells[(*count)++] = off;
}

static void push_line(struct hret_table *t, unsigned long line)
{
    if (t->nrows == t->rows_alloc) {
        t->rows_alloc = t->rows_alloc ? t->rows_alloc * 2 : 256;
        t->lines = hret_xrealloc(t->lines, t->rows_alloc * sizeof *t->lines);
    }
    t->lines[t->nrows++] = line;
}

/* ---- CSV / TSV --------------------------------------------------------------------------- */

struct csv_state {
    char *p;   /* read position */
    char *end; /* one past the last byte (data[len], always NUL) */
    unsigned long line;
    char delim;
};

/* Reads one field starting at s->p, unescaping into the same bytes (the result is never longer
 * than its source). Sets *term to the delimiter, '\n' (end of record) or 0 (end of data). */
/* The first delimiter, '\n' or '\r' from p on (end when none): eight bytes at a time while none
 * of the three is among them (a zero byte of x ^ c marks c, found by the borrow trick). */
static char *field_stop(char *p, const char *end, char delim)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const uint64_t d = ones * (unsigned char)delim, nl = ones * '\n', cr = ones * '\r';
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t a = x ^ d, b = x ^ nl, c = x ^ cr;
        if ((((a - ones) & ~a) | ((b - ones) & ~b) | ((c - ones) & ~c)) & highs) {
            break;
        }
        p += 8;
    }
    while (p < end && *p != delim && *p != '\n' && *p != '\r') {
        p++;
    }
    return p;
}

static enum hret_result csv_field(struct hret_table *t, struct csv_state *s, size_t *off,
                                  char *term, struct hret_err *err)
{
    char *w = s->p;
    char *start = w;
    if (s->p < s->end && *s->p == '"') {
        unsigned long open_line = s->line;
        s->p++;
        for (;;) { /* a run up to the next quote, moved down over the doubled quotes so far */
            char *q = memchr(s->p, '"', (size_t)(s->end - s->p));
            if (q == NULL) {
                return hret_err_set(err, HRET_E_INVAL, "%s:%lu: unterminated quoted field", t->name,
                                    open_line);
            }
            for (char *nl = s->p; (nl = memchr(nl, '\n', (size_t)(q - nl))) != NULL; nl++) {
                s->line++;
            }
            memmove(w, s->p, (size_t)(q - s->p));
            w += q - s->p;
            s->p = q + 1;
            if (s->p < s->end && *s->p == '"') {
                *w++ = '"';
                s->p++;
                continue;
            }
            break;
        }
    }
    /* Unquoted text, or anything between a closing quote and the delimiter (kept, as pandas). */
    char *stop = field_stop(s->p, s->end, s->delim);
    memmove(w, s->p, (size_t)(stop - s->p));
    w += stop - s->p;
    s->p = stop;
    if (s->p >= s->end) {
        *term = 0;
    } else if (*s->p == s->delim) {
        *term = s->delim;
        s->p++;
    } else {
        *term = '\n';
        if (*s->p == '\r' && s->p + 1 < s->end && s->p[1] == '\n') {
            s->p++;
        }
        s->p++;
        s->line++;
    }
    *w = '\0'; /* w never passes the terminator just consumed */
    *off = (size_t)(start - t->data) + 1;
    return HRET_OK;
}

static bool csv_blank_line(struct csv_state *s)
{
    if (*s->p == '\n' || *s->p == '\r') {
        if (*s->p == '\r' && s->p + 1 < s->end && s->p[1] == '\n') {
            s->p++;
        }
        s->p++;
        s->line++;
        return true;
    }
    return false;
}

static enum hret_result csv_header(struct hret_table *t, struct csv_state *s, struct hret_err *err)
{
    size_t alloc = 0;
    char term = s->delim;
    while (s->p < s->end && csv_blank_line(s)) {
    }
    if (s->p >= s->end) {
        return hret_err_set(err, HRET_E_INVAL, "%s: empty file, expected a header row", t->name);
    }
    while (term == s->delim) {
        size_t off;
        enum hret_result r = csv_field(t, s, &off, &term, err);
        if (r != HRET_OK) {
            return r;
        }
        if (t->ncols == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            t->colnames = hret_xrealloc(t->colnames, alloc * sizeof *t->colnames);
        }
        t->colnames[t->ncols++] = off;
    }
    return HRET_OK;
}

static enum hret_result csv_parse(struct hret_table *t, char delim, struct hret_err *err)
{
    struct csv_state s = {t->data, t->data + t->data_len, 1, delim};
    if (t->data_len >= 3 && memcmp(t->data, "\xEF\xBB\xBF", 3) == 0) {
        s.p += 3;
    }
    enum hret_result r = csv_header(t, &s, err);
    size_t count = 0;
    while (r == HRET_OK && s.p < s.end) {
        if (csv_blank_line(&s)) {
            continue;
        }
        unsigned long row_line = s.line;
        size_t nfields = 0;
        char term = delim;
        while (r == HRET_OK && term == delim) {
            size_t off;
            r = csv_field(t, &s, &off, &term, err);
            if (r == HRET_OK && ++nfields > t->ncols) {
                r = hret_err_set(err, HRET_E_INVAL,
                                 "%s:%lu: more fields than the %zu in the header", t->name,
                                 row_line, t->ncols);
            }
            if (r == HRET_OK) {
                push_cell(t, &count, off);
            }
        }
        for (; r == HRET_OK && nfields < t->ncols; nfields++) {
            push_cell(t, &count, 0);
        }
        if (r == HRET_OK) {
            push_line(t, row_line);
        }
    }
    return r;
}

/* ---- JSON / JSONL ------------------------------------------------------------------------ */

struct json_build {
    struct hret_buf arena; /* becomes t->data */
    size_t *trip;          /* (row, col, off) triples, made dense at the end */
    size_t ntrip, trip_alloc;
};

static enum hret_result arena_add(struct json_build *b, const char *s, size_t *off,
                                  struct hret_err *err)
{
    *off = b->arena.len + 1;
    return hret_buf_append(&b->arena, s, strlen(s) + 1, err);
}

static enum hret_result json_column(struct hret_table *t, struct json_build *b, const char *key,
                                    size_t *col, struct hret_err *err)
{
    for (size_t i = 0; i < t->ncols; i++) {
        if (strcmp(b->arena.data + t->colnames[i] - 1, key) == 0) {
            *col = i;
            return HRET_OK;
        }
    }
    size_t off;
    enum hret_result r = arena_add(b, key, &off, err);
    if (r == HRET_OK) {
        t->colnames = hret_xrealloc(t->colnames, (t->ncols + 1) * sizeof *t->colnames);
        t->colnames[t->ncols] = off;
        *col = t->ncols++;
    }
    return r;
}

static enum hret_result json_value(struct json_build *b, const cJSON *v, size_t *off,
                                   struct hret_err *err)
{
    if (cJSON_IsNull(v)) {
        *off = 0;
        return HRET_OK;
    }
    if (cJSON_IsString(v)) {
        return arena_add(b, v->valuestring, off, err);
    }
    char *text = hret_json_print(v);
    enum hret_result r = arena_add(b, text, off, err);
    free(text);
    return r;
}

static void push_triple(struct json_build *b, size_t row, size_t col, size_t off)
{
    if (b->ntrip + 3 > b->trip_alloc) {
        b->trip_alloc = b->trip_alloc ? b->trip_alloc * 2 : 3 * 1024;
        b->trip = hret_xrealloc(b->trip, b->trip_alloc * sizeof *b->trip);
    }
    b->trip[b->ntrip++] = row;
    b->trip[b->ntrip++] = col;
    b->trip[b->ntrip++] = off;
}

/* Adds one JSON object as the next row; line labels errors. */
static enum hret_result json_row(struct hret_table *t, struct json_build *b, const cJSON *obj,
                                 unsigned long line, struct hret_err *err)
{
    if (!cJSON_IsObject(obj)) {
        return hret_err_set(err, HRET_E_INVAL, "%s:%lu: expected a JSON object", t->name, line);
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        size_t col, off;
        enum hret_result r = json_column(t, b, v->string, &col, err);
        if (r == HRET_OK) {
            r = json_value(b, v, &off, err);
        }
        if (r != HRET_OK) {
            return r;
        }
        push_triple(b, t->nrows, col, off);
    }
    push_line(t, line);
    return HRET_OK;
}

/* One JSON value filling text[0..len) but for whitespace; NULL with *at at the fault if not. */
static cJSON *parse_whole(const char *text, size_t len, const char **at)
{
    *at = NULL; /* where parsing stopped (cJSON's global error pointer is racy) */
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, at, false);
    const char *p = *at, *end = text + len;
    while (v != NULL && p != NULL && p < end && strchr(" \t\r\n", *p) != NULL && *p != '\0') {
        p++;
    }
    if (v != NULL && p != NULL && p < end) {
        cJSON_Delete(v);
        *at = p;
        return NULL;
    }
    return v;
}

static unsigned long line_at(const char *text, const char *pos)
{
    unsigned long line = 1;
    for (const char *p = text; p < pos; p++) {
        line += *p == '\n';
    }
    return line;
}

static enum hret_result json_parse_array(struct hret_table *t, struct json_build *b,
                                         const char *text, size_t len, struct hret_err *err)
{
    const char *at;
    cJSON *root = parse_whole(text, len, &at);
    if (root == NULL) {
        unsigned long line = at && at >= text && at <= text + len ? line_at(text, at) : 1;
        return hret_err_set(err, HRET_E_INVAL, "%s:%lu: invalid JSON", t->name, line);
    }
    enum hret_result r = HRET_OK;
    if (!cJSON_IsArray(root)) {
        r = hret_err_set(err, HRET_E_INVAL, "%s: expected a JSON array of objects", t->name);
    }
    unsigned long pos = 0;
    const cJSON *obj;
    cJSON_ArrayForEach(obj, root)
    {
        if (r == HRET_OK) {
            r = json_row(t, b, obj, ++pos, err);
        }
    }
    cJSON_Delete(root);
    return r;
}

static enum hret_result json_parse_lines(struct hret_table *t, struct json_build *b,
                                         const char *text, size_t len, struct hret_err *err)
{
    const char *p = text, *end = text + len;
    unsigned long line = 0;
    enum hret_result r = HRET_OK;
    while (r == HRET_OK && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        line++;
        const char *q = p;
        while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r')) {
            q++;
        }
        if (q < eol) {
            const char *at;
            cJSON *obj = parse_whole(p, (size_t)(eol - p), &at);
            if (obj == NULL) {
                r = hret_err_set(err, HRET_E_INVAL, "%s:%lu: invalid JSON", t->name, line);
            } else {
                r = json_row(t, b, obj, line, err);
                cJSON_Delete(obj);
            }
        }
        p = eol + (nl != NULL);
    }
    return r;
}

static void json_densify(struct hret_table *t, struct json_build *b)
{
    size_t n = t->nrows * t->ncols;
    t->cells = hret_xcalloc(n ? n : 1, sizeof *t->cells);
    for (size_t i = 0; i < b->ntrip; i += 3) {
        t->cells[b->trip[i] * t->ncols + b->trip[i + 1]] = b->trip[i + 2];
    }
}

static enum hret_result json_parse(struct hret_table *t, bool lines, struct hret_err *err)
{
    struct json_build b = {.trip = NULL};
    hret_buf_init(&b.arena, HRET_TABLE_MAX_BYTES);
    const char *text = t->data;
    size_t len = t->data_len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    enum hret_result r = hret_buf_append(&b.arena, "", 0, err); /* never-NULL data */
    if (r == HRET_OK) {
        r = lines ? json_parse_lines(t, &b, text, len, err)
                  : json_parse_array(t, &b, text, len, err);
    }
    if (r == HRET_OK) {
        json_densify(t, &b);
        free(t->data);
        t->data_len = b.arena.len;
        t->data = hret_buf_take(&b.arena);
    }
    hret_buf_fini(&b.arena);
    free(b.trip);
    return r;
}

/* ---- public ------------------------------------------------------------------------------ */

enum hret_table_format hret_table_format_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    enum hret_table_format f = HRET_TABLE_AUTO;
    if (dot != NULL && strchr(dot, '/') == NULL) {
        hret_table_format_parse(dot + 1, &f);
    }
    return f;
}

bool hret_table_format_parse(const char *name, enum hret_table_format *out)
{
    static const struct {
        const char *name;
        enum hret_table_format fmt;
    } names[] = {{"csv", HRET_TABLE_CSV},
                 {"tsv", HRET_TABLE_TSV},
                 {"json", HRET_TABLE_JSON},
                 {"jsonl", HRET_TABLE_JSONL},
                 {"parquet", HRET_TABLE_PARQUET}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].fmt;
            return true;
        }
    }
    return false;
}

/* Replaces invalid UTF-8 in the raw text by U+FFFD and notes how many and where the first
 * was (line, and column in characters); the dataset layer decides whether that is an error. */
static void replace_invalid_utf8(struct hret_table *t)
{
    size_t first = 0, len = 0;
    char *clean = hret_utf8_sanitize(t->data, t->data_len, &len, &t->invalid_utf8, &first);
    if (clean == NULL) {
        return;
    }
    t->bad_line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < first; i++) {
        if (t->data[i] == '\n') {
            t->bad_line++;
            line_start = i + 1;
        }
    }
    t->bad_col = 1;
    for (size_t i = line_start; i < first; i++) {
        t->bad_col += ((unsigned char)t->data[i] & 0xC0) != 0x80; /* a character's first byte */
    }
    free(t->data);
    t->data = clean;
    t->data_len = len;
}

/* Takes ownership of data (len bytes plus a NUL). */
static enum hret_result table_build(const char *name, char *data, size_t len,
                                    enum hret_table_format fmt, struct hret_table **out,
                                    struct hret_err *err)
{
    struct hret_table *t = hret_xcalloc(1, sizeof *t);
    t->name = hret_xstrdup(name);
    t->data = data;
    t->data_len = len;
    if (fmt == HRET_TABLE_AUTO) {
        fmt = hret_table_format_of(name);
    }
    if (fmt != HRET_TABLE_PARQUET) {
        replace_invalid_utf8(t);
    }
    enum hret_result r;
    switch (fmt) {
    case HRET_TABLE_CSV:
        r = csv_parse(t, ',', err);
        break;
    case HRET_TABLE_TSV:
        r = csv_parse(t, '\t', err);
        break;
    case HRET_TABLE_JSON:
    case HRET_TABLE_JSONL:
        r = json_parse(t, fmt == HRET_TABLE_JSONL, err);
        break;
    case HRET_TABLE_PARQUET: /* built by its own reader from the bytes, which stay ours */
        t->data = NULL;
        hret_table_destroy(t);
        r = hret_table_parquet(name, NULL, data, len, out, err);
        free(data);
        return r;
    default:
        r = hret_err_set(err, HRET_E_INVAL,
                         "%s: unknown file type (expected .csv, .tsv, .json, .jsonl or .parquet)",
                         name);
        break;
    }
    if (r != HRET_OK) {
        hret_table_destroy(t);
        return r;
    }
    *out = t;
    return HRET_OK;
}

enum hret_result hret_table_read(const char *path, enum hret_table_format fmt,
                                 struct hret_table **out, struct hret_err *err)
{
    if (fmt == HRET_TABLE_PARQUET ||
        (fmt == HRET_TABLE_AUTO && hret_table_format_of(path) == HRET_TABLE_PARQUET)) {
        return hret_table_parquet(path, path, NULL, 0, out, err); /* a column chunk at a time */
    }
    struct hret_buf b;
    hret_buf_init(&b, HRET_TABLE_MAX_BYTES);
    enum hret_result r = hret_buf_append_file(&b, path, err);
    if (r != HRET_OK) {
        hret_buf_fini(&b);
        return r;
    }
    size_t len = b.len;
    return table_build(path, hret_buf_take(&b), len, fmt, out, err);
}

enum hret_result hret_table_parse(const char *name, const char *text, size_t len,
                                  enum hret_table_format fmt, struct hret_table **out,
                                  struct hret_err *err)
{
    char *copy = hret_xmalloc(len + 1); /* not strndup: Parquet bytes hold NULs */
    memcpy(copy, text, len);
    copy[len] = '\0';
    return table_build(name, copy, len, fmt, out, err);
}

void hret_table_destroy(struct hret_table *t)
{
    if (t == NULL) {
        return;
    }
    free(t->name);
    free(t->data);
    free(t->colnames);
    free(t->cells);
    free(t->lines);
    free(t);
}

size_t hret_table_rows(const struct hret_table *t)
{
    return t->nrows;
}

size_t hret_table_cols(const struct hret_table *t)
{
    return t->ncols;
}

const char *hret_table_name(const struct hret_table *t)
{
    return t->name;
}

const char *hret_table_col_name(const struct hret_table *t, size_t col)
{
    return t->data + t->colnames[col] - 1;
}

bool hret_table_find(const struct hret_table *t, const char *name, size_t *col)
{
    for (size_t i = 0; i < t->ncols; i++) {
        if (strcmp(hret_table_col_name(t, i), name) == 0) {
            *col = i;
            return true;
        }
    }
    return false;
}

size_t hret_table_bytes(const struct hret_table *t)
{
    return sizeof *t + strlen(t->name) + t->data_len + t->ncols * sizeof *t->colnames +
           t->nrows * t->ncols * sizeof *t->cells + t->nrows * sizeof *t->lines;
}

const char *hret_table_cell(const struct hret_table *t, size_t row, size_t col)
{
    size_t off = t->cells[row * t->ncols + col];
    return off ? t->data + off - 1 : NULL;
}

size_t hret_table_invalid_utf8(const struct hret_table *t, unsigned long *line, unsigned long *col)
{
    *line = t->bad_line;
    *col = t->bad_col;
    return t->invalid_utf8;
}

unsigned long hret_table_line(const struct hret_table *t, size_t row)
{
    return t->lines[row];
}
