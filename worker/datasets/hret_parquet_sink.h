/* Where the Parquet reader puts what it reads (hret_parquet.h): a header of its own so the
 * file level (hret_parquet.c) and the column level (hret_parquet_column.c) both use it. */
#ifndef HRET_PARQUET_SINK_H
#define HRET_PARQUET_SINK_H

#include <stddef.h>

#include "hret_err.h"

struct hret_parquet_sink {
    void *ctx;
    /* Once, before any cell: the column names (borrowed for the call) and the file's rows. */
    enum hret_result (*begin)(void *ctx, const char *const *names, size_t ncols, size_t nrows,
                              struct hret_err *err);
    /* One non-null value as text: len bytes at text (borrowed for the call, NUL-free, not
     * NUL-terminated); row < nrows, each (row, col) at most once. */
    enum hret_result (*cell)(void *ctx, size_t row, size_t col, const char *text, size_t len,
                             struct hret_err *err);
};

#endif
