/* A dataset's data files held in memory (owned tables by relative path): what `hret dataset
 * import` reads from a download directory (or builds from the rows API) and what a worker
 * reads back from the dataset store. Its view is what hret_dataset_spec.files takes. */
#ifndef HRET_DATASET_FILESET_H
#define HRET_DATASET_FILESET_H

#include <stddef.h>

#include "hret_dataset.h"
#include "hret_err.h"
#include "hret_table.h"

struct hret_dataset_fileset {
    struct hret_dataset_files view; /* items point into paths and tables */
    struct hret_dataset_file *items;
    char **paths;               /* owned */
    struct hret_table **tables; /* owned */
    size_t count, alloc;
    size_t bytes; /* hret_table_bytes summed */
};

/* Adds path (copied) and t (takes ownership). */
void hret_dataset_fileset_add(struct hret_dataset_fileset *set, const char *path,
                              struct hret_table *t);
void hret_dataset_fileset_fini(struct hret_dataset_fileset *set);

/* Every data file (.csv .tsv .json .jsonl .parquet) under dir (borrowed), recursively, sorted by
 * path; names starting with '.' (.cache, .git) and symbolic links are skipped. Paths are
 * relative to dir. HRET_E_INVAL when dir holds none or a file does not parse (naming it). */
enum hret_result hret_dataset_fileset_scan(struct hret_dataset_fileset *set, const char *dir,
                                           struct hret_err *err);

#endif
