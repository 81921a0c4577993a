/* Tabular data files as the dataset loaders read them: CSV (RFC 4180: quoted fields with
 * delimiters, doubled quotes and newlines, CRLF or LF, an optional UTF-8 BOM), TSV (the same
 * grammar with a tab), a JSON array of objects, and JSONL (one object per line).
 *
 * The first CSV/TSV row is the header. Blank lines are skipped (as pandas does); a row with fewer
 * fields than the header leaves the rest NULL, a row with more is an error. JSON columns are the
 * union of the objects' keys in order of first appearance.
 *
 * Every value is text: CSV fields as written (an empty field is ""), JSON strings as they are and
 * other JSON values as their compact JSON text (1 -> "1", true -> "true", [..] -> "[..]"); JSON
 * null and absent keys are NULL. The file is held in one buffer that the cells point into, so a
 * table costs its file size plus one offset per cell.
 *
 * Parquet (hret_parquet.h) is read row group by row group into the same cells: values as text
 * (integers in decimal, floats as Python's repr, booleans True/False, lists of strings as JSON
 * arrays), nulls NULL; the "line" of a row is its 1-based position in the file. Excel is not
 * read. */
#ifndef HRET_TABLE_H
#define HRET_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "hret_err.h"

enum hret_table_format {
    HRET_TABLE_AUTO, /* by extension: .csv .tsv .json .jsonl .parquet (case-insensitive) */
    HRET_TABLE_CSV,
    HRET_TABLE_TSV,
    HRET_TABLE_JSON,
    HRET_TABLE_JSONL,
    HRET_TABLE_PARQUET,
};

#define HRET_TABLE_MAX_BYTES ((size_t)2 << 30) /* files past 2 GiB are refused */

struct hret_table;

/* Reads the file at path (borrowed). Errors name the path and, where known, the line:
 * "x.jsonl:7: invalid JSON". Caller owns *out (hret_table_destroy). */
enum hret_result hret_table_read(const char *path, enum hret_table_format fmt,
                                 struct hret_table **out, struct hret_err *err);
/* The same from len bytes of text (copied; binary for Parquet); name (borrowed) labels errors and
 * must give the format when fmt is AUTO. Caller owns *out. */
enum hret_result hret_table_parse(const char *name, const char *text, size_t len,
                                  enum hret_table_format fmt, struct hret_table **out,
                                  struct hret_err *err);
void hret_table_destroy(struct hret_table *t);

/* A table built cell by cell (the Parquet reader, tables read back from the dataset store):
 * begin once with the columns (names borrowed, copied) and the row count, then set each non-NULL
 * cell (text borrowed, copied; NUL-free) at most once; finish hands over the table (caller owns)
 * and frees the builder. destroy(NULL) is a no-op. */
struct hret_table_builder;
struct hret_table_builder *hret_table_builder_new(const char *name);
enum hret_result hret_table_builder_begin(struct hret_table_builder *b, const char *const *names,
                                          size_t ncols, size_t nrows, struct hret_err *err);
enum hret_result hret_table_builder_cell(struct hret_table_builder *b, size_t row, size_t col,
                                         const char *text, size_t len, struct hret_err *err);
struct hret_table *hret_table_builder_finish(struct hret_table_builder *b);
void hret_table_builder_destroy(struct hret_table_builder *b);

/* HRET_TABLE_AUTO when the extension is none of the five. */
enum hret_table_format hret_table_format_of(const char *path);
/* "csv", "tsv", "json", "jsonl", "parquet" -> the format; false otherwise. */
bool hret_table_format_parse(const char *name, enum hret_table_format *out);

size_t hret_table_rows(const struct hret_table *t);
size_t hret_table_cols(const struct hret_table *t);
const char *hret_table_name(const struct hret_table *t);                 /* borrowed */
const char *hret_table_col_name(const struct hret_table *t, size_t col); /* borrowed */
/* Index of the first column called name. */
bool hret_table_find(const struct hret_table *t, const char *name, size_t *col);
/* Bytes the table holds (data, offsets, names): for caches that bound their memory. */
size_t hret_table_bytes(const struct hret_table *t);
/* Borrowed, valid until destroy; NULL for JSON null, an absent key or a short CSV row. */
const char *hret_table_cell(const struct hret_table *t, size_t row, size_t col);
/* Where the row starts: the 1-based line (CSV, TSV, JSONL) or element position (JSON). */
unsigned long hret_table_line(const struct hret_table *t, size_t row);
/* Invalid UTF-8 bytes the text files (CSV/TSV/JSON/JSONL) held, replaced by U+FFFD before
 * parsing; *line and *col (1-based, col in characters) locate the first. 0 when valid. */
size_t hret_table_invalid_utf8(const struct hret_table *t, unsigned long *line, unsigned long *col);

#endif
