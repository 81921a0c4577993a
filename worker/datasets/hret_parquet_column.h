/* Internal to the Parquet reader: one top-level column as the schema describes it, and the
 * reading of one of its column chunks (pages -> levels -> values -> cells). */
#ifndef HRET_PARQUET_COLUMN_H
#define HRET_PARQUET_COLUMN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hret_err.h"
#include "hret_parquet_meta.h"
#include "hret_parquet_sink.h"

struct hret_pq_col {
    const char *name; /* borrowed from the schema */
    size_t index;     /* column index in the table */
    int type;         /* physical type of the leaf */
    bool is_unsigned; /* UINT_32 / UINT_64 */
    bool list;        /* a list of strings: cells are JSON arrays */
    int max_def, max_rep;
    int list_def; /* list: definition level from which the list is not null */
    int elem_def; /* list: level from which an element slot exists (else the list is empty) */
};

/* Where a chunk's bytes come from and where its cells go. */
struct hret_pq_chunk_ctx {
    const char *file;                     /* borrowed, for errors */
    const struct hret_parquet_sink *sink; /* borrowed */
    size_t row_base;                      /* the row group's first row in the file */
    size_t num_rows;                      /* the row group's rows */
};

/* Reads the n bytes of one column chunk (from its first page header to its end; borrowed)
 * whose codec is codec. Errors name the file and the column. */
enum hret_result hret_pq_column_read(const struct hret_pq_chunk_ctx *ctx,
                                     const struct hret_pq_col *col, int codec, const uint8_t *p,
                                     size_t n, struct hret_err *err);

#endif
