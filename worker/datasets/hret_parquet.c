/* The Parquet reader's file level: the footer, the schema mapped to top-level columns, and the
 * row groups read one column chunk at a time (see hret_parquet.h). */
#include "hret_parquet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hret_mem.h"
#include "hret_outfile.h"
#include "hret_parquet_column.h"
#include "hret_parquet_meta.h"

#define FOOTER_MAX_BYTES ((size_t)64 << 20)
#define SCHEMA_MAX_DEPTH 16

/* The bytes of the file: an open descriptor or a buffer. */
struct source {
    const char *name;
    int fd;              /* -1 for a buffer */
    const uint8_t *data; /* buffer */
    uint64_t size;
};

static enum hret_result source_read(const struct source *src, uint64_t off, size_t n, uint8_t *dst,
                                    struct hret_err *err)
{
    if (off > src->size || n > src->size - off) {
        return hret_err_set(err, HRET_E_INVAL, "%s: offset %llu+%zu past the end of the file",
                            src->name, (unsigned long long)off, n);
    }
    if (src->fd < 0) {
        memcpy(dst, src->data + off, n);
        return HRET_OK;
    }
    if (!hret_outfile_pread(src->fd, dst, n, off)) {
        return hret_err_set(err, HRET_E_INVAL, "%s: read failed: %s", src->name,
                            errno ? strerror(errno) : "unexpected end of file");
    }
    return HRET_OK;
}

/* ---- footer ------------------------------------------------------------------------------ */

static enum hret_result read_footer(const struct source *src, struct hret_pq_meta *m,
                                    uint64_t *data_end, struct hret_err *err)
{
    uint8_t head[4], tail[8];
    if (src->size < 12) {
        return hret_err_set(err, HRET_E_INVAL, "%s: too short for a Parquet file", src->name);
    }
    enum hret_result r = source_read(src, 0, 4, head, err);
    if (r == HRET_OK) {
        r = source_read(src, src->size - 8, 8, tail, err);
    }
    if (r != HRET_OK) {
        return r;
    }
    if (memcmp(tail + 4, "PARE", 4) == 0) {
        return hret_err_set(err, HRET_E_INVAL, "%s: encrypted Parquet is not supported", src->name);
    }
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0) {
        return hret_err_set(err, HRET_E_INVAL, "%s: not a Parquet file (no PAR1 magic)", src->name);
    }
    size_t len =
        (size_t)tail[0] | (size_t)tail[1] << 8 | (size_t)tail[2] << 16 | (size_t)tail[3] << 24;
    if (len > src->size - 12 || len > FOOTER_MAX_BYTES) {
        return hret_err_set(err, HRET_E_INVAL, "%s: footer length %zu out of range", src->name,
                            len);
    }
    uint8_t *footer = hret_xmalloc(len ? len : 1);
    *data_end = src->size - 8 - len;
    r = source_read(src, *data_end, len, footer, err);
    if (r == HRET_OK) {
        r = hret_pq_meta_parse(src->name, footer, len, m, err);
    }
    free(footer);
    return r;
}

/* ---- schema ------------------------------------------------------------------------------ */

struct layout {
    struct hret_pq_col *cols; /* owned, ncols */
    size_t ncols;
    const char **names; /* owned array, names borrowed from the schema */
};

/* Index one past the subtree rooted at i; false when it overruns the schema or nests too deep. */
static bool subtree_end(const struct hret_pq_meta *m, size_t i, int depth, size_t *end)
{
    if (i >= m->nschema || depth > SCHEMA_MAX_DEPTH || m->schema[i].num_children < 0) {
        return false;
    }
    size_t next = i + 1;
    for (int c = 0; c < m->schema[i].num_children; c++) {
        if (!subtree_end(m, next, depth + 1, &next)) {
            return false;
        }
    }
    *end = next;
    return true;
}

static enum hret_result refuse(const char *file, const char *col, const char *feature,
                               struct hret_err *err)
{
    return hret_err_set(err, HRET_E_INVAL, "%s: column '%s': %s is not supported", file, col,
                        feature);
}

/* Converted and logical types that leave the value readable as text. */
static const char *leaf_problem(const struct hret_pq_schema *s)
{
    static const char *const types[] = {"BOOLEAN", "INT32",  "INT64", "INT96 (timestamp)",
                                        "FLOAT",   "DOUBLE", NULL,    "FIXED_LEN_BYTE_ARRAY"};
    if (s->type < 0 || s->type > HRET_PQ_FIXED) {
        return "an unknown physical type";
    }
    if (s->type == HRET_PQ_INT96 || s->type == HRET_PQ_FIXED) {
        return types[s->type];
    }
    /* ConvertedType: UTF8 0, ENUM 4, INT_8..UINT_64 11..18, JSON 19; LogicalType: STRING 1,
     * ENUM 4, INTEGER 10, UNKNOWN (null) 11, JSON 12. */
    bool conv_ok = s->converted == -1 || s->converted == 0 || s->converted == 4 ||
                   (s->converted >= 11 && s->converted <= 19);
    bool logical_ok = s->logical == 0 || s->logical == 1 || s->logical == 4 || s->logical == 10 ||
                      s->logical == 11 || s->logical == 12;
    return conv_ok && logical_ok ? NULL : "this logical type (decimal, date, time, ...)";
}

/* A top-level list: a LIST group whose one repeated child is a string leaf or a group of one
 * string leaf (3-level), or a bare repeated string leaf (2-level, legacy). */
static enum hret_result list_column(const char *file, const struct hret_pq_meta *m, size_t i,
                                    struct hret_pq_col *col, size_t *leaf, struct hret_err *err)
{
    const struct hret_pq_schema *g = &m->schema[i];
    int d = g->repetition == HRET_PQ_OPTIONAL ? 1 : 0;
    const struct hret_pq_schema *rep = g;
    if (g->num_children > 0) {
        rep = &m->schema[i + 1];
        if (g->num_children != 1 || rep->repetition != HRET_PQ_REPEATED) {
            return refuse(file, g->name, "a struct (nested group)", err);
        }
        if (rep->num_children > 0) {
            if (rep->num_children != 1 || m->schema[i + 2].num_children != 0 ||
                m->schema[i + 2].repetition == HRET_PQ_REPEATED) {
                return refuse(file, g->name, "a list of structs or lists", err);
            }
            rep = &m->schema[i + 2];
            *leaf = i + 2;
            col->list_def = d;
            col->elem_def = d + 1;
            col->max_def = d + 1 + (rep->repetition == HRET_PQ_OPTIONAL);
        } else {
            *leaf = i + 1;
            col->list_def = d;
            col->elem_def = col->max_def = d + 1;
        }
    } else {
        *leaf = i;
        col->list_def = 0;
        col->elem_def = col->max_def = 1;
    }
    if (rep->type != HRET_PQ_BYTE_ARRAY) {
        return refuse(file, g->name, "a list of non-strings", err);
    }
    col->list = true;
    col->max_rep = 1;
    return HRET_OK;
}

static enum hret_result map_column(const char *file, const struct hret_pq_meta *m, size_t i,
                                   struct hret_pq_col *col, size_t *leaf, struct hret_err *err)
{
    const struct hret_pq_schema *s = &m->schema[i];
    col->name = s->name;
    bool is_list = s->converted == 3 || s->logical == 3;
    if (s->num_children > 0 && !is_list) {
        return refuse(file, s->name,
                      s->converted == 1 || s->converted == 2 || s->logical == 2
                          ? "a map"
                          : "a struct (nested group)",
                      err);
    }
    enum hret_result r = HRET_OK;
    *leaf = i;
    if (s->num_children > 0 || s->repetition == HRET_PQ_REPEATED) {
        r = list_column(file, m, i, col, leaf, err);
    } else {
        col->max_def = s->repetition == HRET_PQ_OPTIONAL;
    }
    const struct hret_pq_schema *l = &m->schema[*leaf];
    const char *problem = r == HRET_OK ? leaf_problem(l) : NULL;
    if (problem != NULL) {
        return refuse(file, s->name, problem, err);
    }
    col->type = l->type;
    col->is_unsigned = l->converted == 16 || l->converted == 18 || /* UINT_32, UINT_64 */
                       l->logical_unsigned;
    return r;
}

/* Maps the root's children to columns. Each has exactly one leaf (anything with more is
 * refused), so column c's data is column chunk c of every row group. */
static enum hret_result map_schema(const char *file, const struct hret_pq_meta *m,
                                   struct layout *lay, struct hret_err *err)
{
    size_t end;
    if (!subtree_end(m, 0, 0, &end) || end != m->nschema) {
        return hret_err_set(err, HRET_E_INVAL, "%s: corrupt Parquet schema", file);
    }
    size_t n = (size_t)m->schema[0].num_children;
    lay->cols = hret_xcalloc(n ? n : 1, sizeof *lay->cols);
    lay->names = hret_xcalloc(n ? n : 1, sizeof *lay->names);
    size_t i = 1;
    for (size_t c = 0; c < n; c++) {
        struct hret_pq_col *col = &lay->cols[c];
        size_t leaf = 0, next = 0;
        (void)subtree_end(m, i, 1, &next);
        enum hret_result r = map_column(file, m, i, col, &leaf, err);
        if (r != HRET_OK) {
            return r;
        }
        col->index = c;
        lay->names[c] = col->name;
        lay->ncols = c + 1;
        i = next;
    }
    return HRET_OK;
}

/* ---- row groups -------------------------------------------------------------------------- */

static enum hret_result check_chunk(const struct source *src, const struct hret_pq_col *col,
                                    const struct hret_pq_chunk *ch, uint64_t data_end,
                                    uint64_t *start, size_t *len, struct hret_err *err)
{
    if (ch->external) {
        return refuse(src->name, col->name, "column data in another file", err);
    }
    static const char *const codecs[] = {NULL, NULL, NULL, "LZO", "BROTLI", "LZ4", NULL, "LZ4_RAW"};
    if (ch->codec < 0 || ch->codec > 7 || codecs[ch->codec] != NULL) {
        return refuse(src->name, col->name,
                      ch->codec >= 0 && ch->codec <= 7 ? codecs[ch->codec] : "an unknown codec",
                      err);
    }
    if (!ch->has_meta || ch->type != col->type) {
        return hret_err_set(err, HRET_E_INVAL, "%s: column '%s': corrupt column chunk metadata",
                            src->name, col->name);
    }
    int64_t off = ch->data_off; /* the dictionary page comes first (an empty chunk: alone) */
    if (ch->dict_off >= 4 && (ch->dict_off < off || off < 4)) {
        off = ch->dict_off;
    }
    if (off < 4 || ch->size < 0 || (uint64_t)off > data_end ||
        (uint64_t)ch->size > data_end - (uint64_t)off) {
        return hret_err_set(err, HRET_E_INVAL, "%s: column '%s': chunk offsets outside the file",
                            src->name, col->name);
    }
    *start = (uint64_t)off;
    *len = (size_t)ch->size;
    return HRET_OK;
}

static enum hret_result read_group(const struct source *src, const struct layout *lay,
                                   const struct hret_pq_group *g, uint64_t data_end,
                                   struct hret_pq_chunk_ctx *ctx, struct hret_err *err)
{
    if (g->nchunks != lay->ncols) {
        return hret_err_set(err, HRET_E_INVAL, "%s: a row group has %zu column chunks, not %zu",
                            src->name, g->nchunks, lay->ncols);
    }
    enum hret_result r = HRET_OK;
    for (size_t c = 0; c < lay->ncols && r == HRET_OK; c++) {
        uint64_t start = 0;
        size_t len = 0;
        r = check_chunk(src, &lay->cols[c], &g->chunks[c], data_end, &start, &len, err);
        if (r != HRET_OK) {
            break;
        }
        uint8_t *buf = hret_xmalloc(len ? len : 1);
        r = source_read(src, start, len, buf, err);
        if (r == HRET_OK) {
            r = hret_pq_column_read(ctx, &lay->cols[c], g->chunks[c].codec, buf, len, err);
        }
        free(buf);
    }
    return r;
}

static enum hret_result count_rows(const struct source *src, const struct hret_pq_meta *m,
                                   size_t ncols, size_t *rows, struct hret_err *err)
{
    uint64_t total = 0;
    for (size_t g = 0; g < m->ngroups; g++) {
        int64_t n = m->groups[g].num_rows;
        if (n < 0 || (uint64_t)n > HRET_PARQUET_MAX_CELLS) {
            return hret_err_set(err, HRET_E_INVAL, "%s: row group %zu claims %lld rows", src->name,
                                g, (long long)n);
        }
        total += (uint64_t)n;
    }
    if (total * (ncols ? ncols : 1) > HRET_PARQUET_MAX_CELLS) {
        return hret_err_set(err, HRET_E_INVAL,
                            "%s: %llu rows x %zu columns is past the cap of "
                            "%zu cells",
                            src->name, (unsigned long long)total, ncols, HRET_PARQUET_MAX_CELLS);
    }
    *rows = (size_t)total;
    return HRET_OK;
}

static enum hret_result read_source(const struct source *src, const struct hret_parquet_sink *sink,
                                    struct hret_err *err)
{
    struct hret_pq_meta m;
    struct layout lay = {0};
    uint64_t data_end = 0;
    size_t rows = 0;
    enum hret_result r = read_footer(src, &m, &data_end, err);
    if (r != HRET_OK) {
        return r;
    }
    r = map_schema(src->name, &m, &lay, err);
    if (r == HRET_OK) {
        r = count_rows(src, &m, lay.ncols, &rows, err);
    }
    if (r == HRET_OK) {
        r = sink->begin(sink->ctx, lay.names, lay.ncols, rows, err);
    }
    struct hret_pq_chunk_ctx ctx = {.file = src->name, .sink = sink};
    for (size_t g = 0; g < m.ngroups && r == HRET_OK; g++) {
        ctx.num_rows = (size_t)m.groups[g].num_rows;
        r = read_group(src, &lay, &m.groups[g], data_end, &ctx, err);
        ctx.row_base += ctx.num_rows;
    }
    free(lay.cols);
    free(lay.names);
    hret_pq_meta_fini(&m);
    return r;
}

enum hret_result hret_parquet_read(const char *path, const struct hret_parquet_sink *sink,
                                   struct hret_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        enum hret_result r =
            hret_err_set(err, HRET_E_INVAL, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return r;
    }
    struct source src = {path, fd, NULL, (uint64_t)st.st_size};
    enum hret_result r = read_source(&src, sink, err);
    close(fd);
    return r;
}

enum hret_result hret_parquet_parse(const char *name, const uint8_t *data, size_t len,
                                    const struct hret_parquet_sink *sink, struct hret_err *err)
{
    struct source src = {name, -1, data, len};
    return read_source(&src, sink, err);
}
