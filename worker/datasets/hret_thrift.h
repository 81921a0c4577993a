/* A reader of the Thrift compact protocol over a byte range, as Parquet encodes its footer and
 * page headers. Every read is checked against the range: a short or malformed input sets `bad`
 * (sticky) and the reads return zeros from then on, so a caller decodes a whole struct and checks
 * `bad` once. Nesting is capped (HRET_THRIFT_MAX_DEPTH) so a hostile input cannot recurse deep. */
#ifndef HRET_THRIFT_H
#define HRET_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HRET_THRIFT_MAX_DEPTH 32

enum hret_thrift_type {
    HRET_THRIFT_STOP = 0,
    HRET_THRIFT_TRUE = 1,
    HRET_THRIFT_FALSE = 2,
    HRET_THRIFT_BYTE = 3,
    HRET_THRIFT_I16 = 4,
    HRET_THRIFT_I32 = 5,
    HRET_THRIFT_I64 = 6,
    HRET_THRIFT_DOUBLE = 7,
    HRET_THRIFT_BINARY = 8,
    HRET_THRIFT_LIST = 9,
    HRET_THRIFT_SET = 10,
    HRET_THRIFT_MAP = 11,
    HRET_THRIFT_STRUCT = 12,
};

struct hret_thrift {
    const uint8_t *p;   /* borrowed: next byte */
    const uint8_t *end; /* one past the last byte */
    int depth;
    bool bad;
};

/* A cursor over n bytes at p (borrowed; must outlive the cursor). */
void hret_thrift_init(struct hret_thrift *t, const uint8_t *p, size_t n);
/* The next field of the struct being read: false at its end (STOP) or on error. *last is the
 * previous field id of this struct (start it at 0): the compact protocol encodes deltas. */
bool hret_thrift_field(struct hret_thrift *t, int16_t *last, int16_t *id, uint8_t *type);
/* An integer field of type BYTE, I16, I32 or I64 (any other type sets bad). */
int64_t hret_thrift_int(struct hret_thrift *t, uint8_t type);
/* A bool field: the value is in the type (TRUE/FALSE); anything else sets bad. */
bool hret_thrift_bool(struct hret_thrift *t, uint8_t type);
/* A BINARY field: *len bytes at the returned pointer (borrowed from the range; NULL if bad). */
const uint8_t *hret_thrift_binary(struct hret_thrift *t, uint8_t type, size_t *len);
/* A LIST or SET header: *n elements of *elem type follow. n is checked against the bytes left
 * (every element takes at least one byte). */
bool hret_thrift_list(struct hret_thrift *t, uint8_t type, uint32_t *n, uint8_t *elem);
/* Enters / leaves a nested struct (depth accounting); enter fails past the cap. */
bool hret_thrift_enter(struct hret_thrift *t, uint8_t type);
void hret_thrift_leave(struct hret_thrift *t);
/* Skips one value of the given type, nested values included. */
void hret_thrift_skip(struct hret_thrift *t, uint8_t type);

#endif
