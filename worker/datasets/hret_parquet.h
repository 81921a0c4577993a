/* A Parquet reader for the dataset tables: the files the Hugging Face hub serves (pyarrow,
 * `datasets`' push_to_hub) read into text cells, one row group at a time.
 *
 * Supported: the Thrift compact footer; data pages v1 and v2; PLAIN, PLAIN_DICTIONARY and
 * RLE_DICTIONARY values (and RLE booleans); RLE/bit-packed levels; top-level columns that are
 * required or optional BOOLEAN, INT32, INT64, FLOAT, DOUBLE or BYTE_ARRAY (strings), and lists of
 * strings (the 3-level LIST layout, and a bare repeated string); codecs uncompressed, snappy,
 * gzip and zstd; any number of row groups. Anything else (structs, maps, nested lists, INT96,
 * fixed-length arrays, decimals, dates and times, DELTA or BYTE_STREAM_SPLIT encodings, LZ4 or
 * Brotli, encryption, column data in another file) is refused with an error naming the file, the
 * column and the feature.
 *
 * Values as text: integers in decimal, floats as Python's repr ("0.5", "1.0"), booleans
 * "True"/"False" (Python's str), strings as they are, a list as its compact JSON array
 * (["a","b"], null elements as null), as the JSON table reader gives lists. Null is not reported.
 *
 * The file is read column chunk by column chunk (pread), so beyond what the sink keeps the reader
 * holds one column chunk and one decompressed page. Every length and offset in the file is
 * checked before use: the file is untrusted input (tests/fuzz/fuzz_parquet.c). */
#ifndef HRET_PARQUET_H
#define HRET_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "hret_err.h"
#include "hret_parquet_sink.h"

/* Files whose rows times columns pass this are refused before anything is allocated. */
#define HRET_PARQUET_MAX_CELLS ((size_t)1 << 27)

/* Reads the file at path (borrowed) into sink. Errors name the path. */
enum hret_result hret_parquet_read(const char *path, const struct hret_parquet_sink *sink,
                                   struct hret_err *err);
/* The same from len bytes at data (borrowed); name (borrowed) labels errors. */
enum hret_result hret_parquet_parse(const char *name, const uint8_t *data, size_t len,
                                    const struct hret_parquet_sink *sink, struct hret_err *err);

#endif
