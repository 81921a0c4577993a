/* Where a run's dataset comes from (datasets.source) and, for imported versions, a process-wide
 * cache of their tables under a memory bound (datasets.cache_mb): least recently used versions
 * not in use are dropped first; a version bigger than the bound is used and dropped after. Safe
 * to call from several threads (worker slots), each with its own store connection. */
#ifndef HRET_STORE_DSCACHE_H
#define HRET_STORE_DSCACHE_H

#include <stdbool.h>

#include "hret_config.h"
#include "hret_dataset.h"
#include "hret_err.h"
#include "hret_store.h"

struct hret_store_dscache_entry;

struct hret_store_dsopen {
    bool from_store;                        /* false: read files from disk */
    char version[65];                       /* from_store: the imported version */
    const struct hret_dataset_files *files; /* from_store: borrowed until close */
    bool cached;                            /* from_store: found in the cache */
    double load_ms;                         /* from_store: time to find (and load) it */
    struct hret_store_dscache_entry *entry; /* owned reference */
    size_t cache_max;                       /* the bound it was taken under, in bytes */
};

/* Decides where dataset name comes from: files when datasets.source is files, or is auto and
 * explicit_dir (the caller names a data_dir) or the dataset is not imported (or s is NULL: no
 * database); else the imported version want (a full version or a prefix of 8+ hex digits;
 * NULL: the latest). Errors: want names no stored version (it may have been removed), source
 * postgres without a database or an import, a version asked of files. Caller closes *out. */
enum hret_result hret_store_dataset_open(struct hret_store *s,
                                         const struct hret_datasets_config *cfg, const char *name,
                                         const char *want, bool explicit_dir,
                                         struct hret_store_dsopen *out, struct hret_err *err);
void hret_store_dataset_close(struct hret_store_dsopen *o);

/* Loads spec's dataset (spec->name; spec borrowed, its files and data_dir set here for an
 * imported version and restored after) from where hret_store_dataset_open says, with want and
 * explicit_dir as there. data_version (65 bytes) receives the imported version, "" for files.
 * The one way `hret run` and the worker read a dataset. Every error names the dataset. Caller
 * owns *out. stream: hret_dataset_open (samples read one at a time with hret_dataset_get),
 * else hret_dataset_load. */
enum hret_result hret_store_dataset_load(struct hret_store *s,
                                         const struct hret_datasets_config *cfg,
                                         struct hret_dataset_spec *spec, const char *want,
                                         bool explicit_dir, bool stream, char data_version[65],
                                         struct hret_dataset **out, struct hret_err *err);

#endif
