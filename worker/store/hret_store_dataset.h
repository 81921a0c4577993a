/* Imported benchmark datasets (tables datasets, dataset_items): a version is the SHA-256 of
 * its items, so importing identical content again is a no-op and changed content becomes a new
 * version beside the old one. Items and the dataset row are written in one transaction. */
#ifndef HRET_STORE_DATASET_H
#define HRET_STORE_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_cfg.h"
#include "hret_err.h"
#include "hret_store.h"

struct hret_store_item { /* all borrowed, nullable except item_id */
    const char *item_id; /* stable within the dataset, e.g. "Law/test/12" */
    const char *subset, *split;
    const char *input, *reference; /* rendered by hret's loader ('samples' kind) */
    const cJSON *options;          /* array of strings */
    const cJSON *data;             /* metadata ('samples') or the raw row ('rows') */
};

struct hret_store_dataset_info {        /* all borrowed */
    const char *name;                   /* what users call it (kmmlu) */
    const char *kind;                   /* "samples" or "rows" */
    const char *source;                 /* the directory or URL */
    const struct hret_strlist *subsets; /* nullable */
    const char *split;                  /* nullable */
};

/* The content version of items (64 hex digits + NUL). Pure. */
void hret_store_dataset_version(const struct hret_store_item *items, size_t n, char out[65]);

/* Imports items as a version of d->name. *created is false when that version was there
 * already (nothing written); version receives it either way. */
enum hret_result hret_store_dataset_import(struct hret_store *s,
                                           const struct hret_store_dataset_info *d,
                                           const struct hret_store_item *items, size_t n,
                                           char version[65], bool *created, struct hret_err *err);

struct hret_store_dataset_row { /* owned */
    char *name, *version, *kind, *source, *split, *created_at;
    cJSON *subsets;
    long long items;
};

/* Every imported version, newest first (name nullable: all names). Caller owns *rows. */
enum hret_result hret_store_datasets_list(struct hret_store *s, const char *name,
                                          struct hret_store_dataset_row **rows, size_t *n,
                                          struct hret_err *err);
void hret_store_dataset_rows_free(struct hret_store_dataset_row *rows, size_t n);

#endif
