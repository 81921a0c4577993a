/* hret_table's builder (tables set cell by cell) and its Parquet input, which uses it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_mem.h"
#include "hret_parquet.h"
#include "hret_table.h"
#include "hret_table_impl.h"

/* ---- built cell by cell (Parquet, the dataset store) ------------------------------------- */

struct hret_table_builder {
    struct hret_table *t;
    struct hret_buf arena; /* becomes t->data */
};

struct hret_table_builder *hret_table_builder_new(const char *name)
{
    struct hret_table_builder *b = hret_xcalloc(1, sizeof *b);
    b->t = hret_xcalloc(1, sizeof *b->t);
    b->t->name = hret_xstrdup(name);
    hret_buf_init(&b->arena, HRET_TABLE_MAX_BYTES);
    return b;
}

enum hret_result hret_table_builder_begin(struct hret_table_builder *b, const char *const *names,
                                          size_t ncols, size_t nrows, struct hret_err *err)
{
    struct hret_table *t = b->t;
    if (t->cells != NULL) {
        return hret_err_set(err, HRET_E_FATAL, "%s: table begun twice", t->name);
    }
    enum hret_result r = hret_buf_append(&b->arena, "", 0, err); /* never-NULL data */
    t->ncols = ncols;
    t->colnames = hret_xcalloc(ncols ? ncols : 1, sizeof *t->colnames);
    for (size_t c = 0; c < ncols && r == HRET_OK; c++) {
        t->colnames[c] = b->arena.len + 1;
        r = hret_buf_append(&b->arena, names[c], strlen(names[c]) + 1, err);
    }
    t->nrows = t->rows_alloc = nrows;
    t->cells = hret_xcalloc(nrows * ncols + 1, sizeof *t->cells);
    t->lines = hret_xcalloc(nrows ? nrows : 1, sizeof *t->lines);
    for (size_t i = 0; i < nrows; i++) {
        t->lines[i] = (unsigned long)i + 1;
    }
    return r;
}

enum hret_result hret_table_builder_cell(struct hret_table_builder *b, size_t row, size_t col,
                                         const char *text, size_t len, struct hret_err *err)
{
    if (b->t->cells == NULL || row >= b->t->nrows || col >= b->t->ncols) {
        return hret_err_set(err, HRET_E_FATAL, "%s: cell %zu,%zu outside the table", b->t->name,
                            row, col);
    }
    size_t off = b->arena.len + 1;
    enum hret_result r = hret_buf_append(&b->arena, text, len, err);
    if (r == HRET_OK) {
        r = hret_buf_append(&b->arena, "", 1, err);
    }
    b->t->cells[row * b->t->ncols + col] = r == HRET_OK ? off : 0;
    return r;
}

struct hret_table *hret_table_builder_finish(struct hret_table_builder *b)
{
    struct hret_table *t = b->t;
    if (t->cells == NULL) {
        (void)hret_table_builder_begin(b, NULL, 0, 0, NULL);
    }
    free(t->data);
    t->data_len = b->arena.len;
    t->data = hret_buf_take(&b->arena);
    hret_buf_fini(&b->arena);
    free(b);
    return t;
}

void hret_table_builder_destroy(struct hret_table_builder *b)
{
    if (b == NULL) {
        return;
    }
    hret_table_destroy(b->t);
    hret_buf_fini(&b->arena);
    free(b);
}

static enum hret_result pq_begin(void *ctx, const char *const *names, size_t ncols, size_t nrows,
                                 struct hret_err *err)
{
    return hret_table_builder_begin(ctx, names, ncols, nrows, err);
}

static enum hret_result pq_cell(void *ctx, size_t row, size_t col, const char *text, size_t len,
                                struct hret_err *err)
{
    return hret_table_builder_cell(ctx, row, col, text, len, err);
}

enum hret_result hret_table_parquet(const char *name, const char *path, const char *data,
                                    size_t len, struct hret_table **out, struct hret_err *err)
{
    struct hret_table_builder *b = hret_table_builder_new(name);
    struct hret_parquet_sink sink = {b, pq_begin, pq_cell};
    enum hret_result r = path ? hret_parquet_read(path, &sink, err)
                              : hret_parquet_parse(name, (const uint8_t *)data, len, &sink, err);
    if (r != HRET_OK) {
        hret_table_builder_destroy(b);
        return r;
    }
    *out = hret_table_builder_finish(b);
    return HRET_OK;
}
