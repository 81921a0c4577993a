/* Internal to the Parquet reader (hret_parquet*.c): the file footer (FileMetaData) and page
 * headers decoded from Thrift into plain structs, keeping only the fields the reader uses.
 * Everything read is checked against the bytes given; errors are HRET_E_INVAL naming the file. */
#ifndef HRET_PARQUET_META_H
#define HRET_PARQUET_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hret_err.h"

enum hret_pq_type { /* parquet.thrift Type */
                    HRET_PQ_BOOLEAN = 0,
                    HRET_PQ_INT32 = 1,
                    HRET_PQ_INT64 = 2,
                    HRET_PQ_INT96 = 3,
                    HRET_PQ_FLOAT = 4,
                    HRET_PQ_DOUBLE = 5,
                    HRET_PQ_BYTE_ARRAY = 6,
                    HRET_PQ_FIXED = 7,
};

enum hret_pq_page_type { HRET_PQ_DATA_PAGE = 0, HRET_PQ_DICT_PAGE = 2, HRET_PQ_DATA_PAGE_V2 = 3 };

enum hret_pq_encoding {
    HRET_PQ_PLAIN = 0,
    HRET_PQ_PLAIN_DICTIONARY = 2,
    HRET_PQ_RLE = 3,
    HRET_PQ_RLE_DICTIONARY = 8,
};

enum hret_pq_codec {
    HRET_PQ_UNCOMPRESSED = 0,
    HRET_PQ_SNAPPY = 1,
    HRET_PQ_GZIP = 2,
    HRET_PQ_ZSTD = 6,
};

enum hret_pq_repetition { HRET_PQ_REQUIRED = 0, HRET_PQ_OPTIONAL = 1, HRET_PQ_REPEATED = 2 };

struct hret_pq_schema {    /* one SchemaElement */
    char *name;            /* owned */
    int type;              /* enum hret_pq_type; -1 for a group */
    int repetition;        /* enum hret_pq_repetition; the root has none (REQUIRED) */
    int num_children;      /* 0 for a leaf */
    int converted;         /* ConvertedType, -1 when absent */
    int logical;           /* the LogicalType union's field id, 0 when absent */
    bool logical_unsigned; /* LogicalType INTEGER with isSigned false */
};

struct hret_pq_chunk { /* one ColumnChunk's ColumnMetaData */
    int type;
    int codec;
    int64_t num_values;
    int64_t data_off;
    int64_t dict_off; /* -1 when absent */
    int64_t size;     /* total_compressed_size */
    bool external;    /* file_path set: data in another file */
    bool has_meta;
};

struct hret_pq_group {
    int64_t num_rows;
    struct hret_pq_chunk *chunks; /* owned, nchunks */
    size_t nchunks;
};

struct hret_pq_meta {
    struct hret_pq_schema *schema; /* owned, depth-first as in the file, [0] is the root */
    size_t nschema;
    struct hret_pq_group *groups; /* owned */
    size_t ngroups;
    int64_t num_rows;
};

struct hret_pq_page {
    int type; /* enum hret_pq_page_type, or another page type to skip */
    int32_t uncompressed;
    int32_t compressed;
    int32_t num_values;
    int encoding;
    int def_encoding; /* v1 only */
    int rep_encoding; /* v1 only */
    int32_t num_rows; /* v2 only */
    int32_t def_len;  /* v2 only: level bytes, stored uncompressed before the values */
    int32_t rep_len;
    bool is_compressed; /* v2 only (default true) */
};

/* Decodes the footer (n bytes at p, borrowed); name labels errors. Caller owns m (fini) on
 * success; on error m is left empty. */
enum hret_result hret_pq_meta_parse(const char *name, const uint8_t *p, size_t n,
                                    struct hret_pq_meta *m, struct hret_err *err);
void hret_pq_meta_fini(struct hret_pq_meta *m);

/* Decodes the page header at the start of p[0..n); *used is its length in bytes. */
enum hret_result hret_pq_page_header(const char *name, const uint8_t *p, size_t n,
                                     struct hret_pq_page *h, size_t *used, struct hret_err *err);

#endif
