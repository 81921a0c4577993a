/* The typed field tables behind the request parser (hret_request.c holds the tables): a walker
 * that fills a struct from a JSON object, refusing unknown and duplicate keys, wrong types and
 * out-of-range values with the JSON path of the problem. Private to the hret_request module. */
#ifndef HRET_REQUEST_WALK_H
#define HRET_REQUEST_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"
#include "hret_request.h"

/* Field tables: one line per key. Offsets are into the struct the table describes. */
enum hret_request_ftype {
    HRET_REQUEST_F_ID,      /* char *, [A-Za-z0-9][A-Za-z0-9._:-]{0,127} */
    HRET_REQUEST_F_NAME,    /* char *, [A-Za-z0-9_][A-Za-z0-9_.:/@+-]{0,127} */
    HRET_REQUEST_F_PART,    /* char *, one path component: hret_dataset_part_ok */
    HRET_REQUEST_F_LABEL,   /* char *, 1..256 bytes */
    HRET_REQUEST_F_DIR,     /* char *, relative path without ".." */
    HRET_REQUEST_F_INT,     /* long long in [min, max] */
    HRET_REQUEST_F_NUM,     /* double in [min, max] */
    HRET_REQUEST_F_BOOL,    /* bool */
    HRET_REQUEST_F_OBJECT,  /* const cJSON *, any object (borrowed from the document) */
    HRET_REQUEST_F_SUBSET,  /* struct hret_strlist from one path component or a list of them */
    HRET_REQUEST_F_NAMES,   /* struct hret_strlist from a list of names, at most max */
    HRET_REQUEST_F_SECTION, /* an object described by sub, at the same base + offset */
    HRET_REQUEST_F_TRACK, /* int flag at offset: a boolean, or an object described by sub (flag = 1)
                           */
    HRET_REQUEST_F_BACKEND, /* int, enum hret_backend_kind by name */
    HRET_REQUEST_F_LIST, /* array of sub objects: T *items at offset, size_t count at count_off */
};

struct hret_request_table;

struct hret_request_field {
    const char *key;
    enum hret_request_ftype type;
    size_t offset;
    double min, max;
    const struct hret_request_table *sub;
    size_t count_off; /* HRET_REQUEST_F_LIST */
    bool required;
};

struct hret_request_table {
    size_t size; /* of one element, for HRET_REQUEST_F_LIST */
    const struct hret_request_field *fields;
    void (*init)(void *obj); /* element defaults, nullable */
};

#define HRET_REQUEST_BIG 9007199254740991.0 /* 2^53 - 1: integers a double holds exactly */

struct hret_request_ctx {
    char path[HRET_REQUEST_PATH_MAX]; /* where the walker is, "datasets[1].limit" */
    struct hret_err *err;
};

/* Sets ctx->err to "path: message" (the first error wins); returns HRET_E_INVAL. */
enum hret_result hret_request_fail(struct hret_request_ctx *c, const char *fmt, ...)
    HRET_PRINTF(2, 3);
/* Appends ".key" / "[i]" to the path; returns the old length to cut back to. */
size_t hret_request_push_key(struct hret_request_ctx *c, const char *key);
size_t hret_request_push_index(struct hret_request_ctx *c, size_t i);
/* Fills base (the struct t describes) from obj (borrowed; HRET_REQUEST_F_OBJECT members point into
 * it). Strings and lists it sets are owned by base, also after a failure. */
enum hret_result hret_request_walk(struct hret_request_ctx *c, const cJSON *obj,
                                   const struct hret_request_table *t, char *base);

#endif
