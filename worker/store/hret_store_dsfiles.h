/* Dataset versions as files in PostgreSQL (kind 'files', schemas/sql/008_dataset_files.sql):
 * what `hret dataset import` stores and what workers read back when datasets.source says so.
 * A version is the SHA-256 of the files' paths, columns and cells, so the same content imports
 * once (a no-op after) and changed content is a new version beside the old. Rows go in with
 * COPY inside the one transaction that creates the version. */
#ifndef HRET_STORE_DSFILES_H
#define HRET_STORE_DSFILES_H

#include <stdbool.h>
#include <stddef.h>

#include "hret_cfg.h"
#include "hret_dataset.h"
#include "hret_dataset_fileset.h"
#include "hret_err.h"
#include "hret_store.h"
#include "hret_store_hf.h"

struct hret_store_dsfiles_info {        /* all borrowed */
    const char *name;                   /* what runs call it: a registry name (haerae_bench) */
    const char *source;                 /* the directory or URL imported */
    const struct hret_strlist *subsets; /* nullable: configs fetched (rows API) */
    const char *split;                  /* nullable */
};

/* Imports files (borrowed) as a version of info->name; version receives it, *created is false
 * when it was there already (nothing written). */
enum hret_result hret_store_dsfiles_import(struct hret_store *s,
                                           const struct hret_store_dsfiles_info *info,
                                           const struct hret_dataset_files *files, char version[65],
                                           bool *created, struct hret_err *err);

/* The 'files' version of name that version names (64 hex digits or a unique prefix of 8+), or
 * the latest when version is NULL. *found false (HRET_OK) when there is none. */
enum hret_result hret_store_dsfiles_find(struct hret_store *s, const char *name,
                                         const char *version, long long *id, char out[65],
                                         bool *found, struct hret_err *err);

/* A version's files read back in import order into out (empty; caller finis it). */
enum hret_result hret_store_dsfiles_load(struct hret_store *s, long long id,
                                         struct hret_dataset_fileset *out, struct hret_err *err);

/* Removes the versions of name that version names (NULL: all); *removed = how many. */
enum hret_result hret_store_dsfiles_rm(struct hret_store *s, const char *name, const char *version,
                                       size_t *removed, struct hret_err *err);

/* The stored manifest of a version: [{"path", "columns", "rows"}] (caller owns; NULL for the
 * older kinds 'samples' and 'rows'). */
enum hret_result hret_store_dsfiles_manifest(struct hret_store *s, const char *name,
                                             const char *version, cJSON **out, char found[65],
                                             struct hret_err *err);

/* The rows API pages of an import of source kept in dataset_import_pages between attempts
 * (resuming): fills hooks (its ctx is at, which must outlive the fetch). */
struct hret_store_dsfiles_pages {
    struct hret_store *s; /* borrowed */
    const char *source;   /* borrowed */
};
void hret_store_dsfiles_page_hooks(struct hret_store_dsfiles_pages *at,
                                   struct hret_store_hf_pages *hooks);
/* Forgets the pages kept for source, once its version is stored. */
enum hret_result hret_store_dsfiles_pages_done(struct hret_store *s, const char *source,
                                               struct hret_err *err);

#endif
