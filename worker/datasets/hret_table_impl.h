/* Internal to the table reader (hret_table.c: text formats; hret_table_build.c: tables built
 * cell by cell, and Parquet through hret_parquet.h): the table's layout. */
#ifndef HRET_TABLE_IMPL_H
#define HRET_TABLE_IMPL_H

#include <stddef.h>

#include "hret_err.h"

/* Cells and column names are offsets into data plus one, so 0 can mean NULL and the data
 * buffer may still move while a JSON table is being built. */
struct hret_table {
    char *name;
    char *data; /* CSV/TSV: the file, unescaped in place; JSON: an arena of NUL-ended values */
    size_t data_len;
    size_t ncols;
    size_t *colnames; /* ncols offsets */
    size_t nrows;
    size_t *cells;                   /* nrows * ncols offsets, 0 = NULL */
    unsigned long *lines;            /* nrows */
    size_t cells_alloc;              /* in cells */
    size_t rows_alloc;               /* in rows (lines) */
    size_t invalid_utf8;             /* bytes replaced by U+FFFD before parsing */
    unsigned long bad_line, bad_col; /* where the first one was (1-based) */
};

/* Reads Parquet from path, or, when path is NULL, from len bytes at data; name labels errors.
 * Caller owns *out. */
enum hret_result hret_table_parquet(const char *name, const char *path, const char *data,
                                    size_t len, struct hret_table **out, struct hret_err *err);

#endif
