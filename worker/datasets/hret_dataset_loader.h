/* Internal: the contract between hret_dataset.c and the per-dataset loaders
 * (hret_dataset_<name>.c), and the helpers they share (hret_dataset_util.c). Not for other
 * modules: they use hret_dataset.h. */
#ifndef HRET_DATASET_LOADER_H
#define HRET_DATASET_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "hret_buf.h"
#include "hret_dataset.h"
#include "hret_prompt.h"
#include "hret_table.h"

/* One load of one split: the loader appends rendered samples with hret_ds_push. */
struct hret_ds_spool;
struct hret_ds_load {
    const struct hret_dataset_spec *spec;     /* borrowed */
    const struct hret_dataset_loader *loader; /* borrowed */
    const char *split;                        /* borrowed */
    const char *tmpl; /* borrowed: the user's template, else the loader's default (may be NULL) */
    struct hret_ds_spool *spool; /* borrowed: where hret_ds_push writes the samples */
    struct hret_buf buf;         /* rendering scratch */
};

struct hret_dataset_loader {
    const char *name;                /* registry name */
    const char *hf_repo;             /* the Hugging Face repository, for messages */
    const char *const *subsets;      /* valid subsets in default order; NULL: none */
    bool subset_required;            /* no default list: the caller must name subsets */
    const char *const *params;       /* accepted keys of spec->params, NULL-terminated */
    const char *const *placeholders; /* template fields; NULL: not checked before loading */
    const char *default_template;    /* NULL: the loader renders without one */
    /* Loads one subset (NULL when the dataset has none) of ld->split into ld. */
    enum hret_result (*load)(struct hret_ds_load *ld, const char *subset, struct hret_err *err);
};

extern const struct hret_dataset_loader hret_ds_kmmlu;
extern const struct hret_dataset_loader hret_ds_haerae_bench;
extern const struct hret_dataset_loader hret_ds_benchhub;
extern const struct hret_dataset_loader hret_ds_click;
extern const struct hret_dataset_loader hret_ds_hrm8k;
extern const struct hret_dataset_loader hret_ds_k2_eval;
extern const struct hret_dataset_loader hret_ds_kudge;
extern const struct hret_dataset_loader hret_ds_kormedmcqa;
extern const struct hret_dataset_loader hret_ds_generic;

/* The row a loader is handed by hret_ds_read_rows. */
struct hret_ds_row {
    const struct hret_table *table;
    size_t row;         /* in table */
    size_t rowno;       /* across the subset's files, 0-based: the row number in the id */
    const size_t *cols; /* indices of the required columns, in the order they were asked for */
    const char *subset; /* borrowed, NULL when the dataset has none */
};

typedef enum hret_result (*hret_ds_row_fn)(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                           struct hret_err *err);

/* Finds the files of (subset, split) under spec->data_dir by trying each pattern of stems in
 * order, and calls fn for every row of every file. A pattern is a path relative to data_dir
 * without extension, where {subset}, {lower} (the subset lower-cased), {split} and {key} (the
 * loader's own name for the file) are substituted; the extensions .csv .tsv .jsonl .json .parquet
 * are tried in that order. A pattern ending in '*' matches shards ("{subset}/{split}-*" matches
 * test-00000-of-00002.jsonl and so on, read in name order). Every name in required (NULL-ended)
 * must be a column; the error names the file, the column and the expected columns. */
enum hret_result hret_ds_read_rows(struct hret_ds_load *ld, const char *subset, const char *key,
                                   const char *const *stems, const char *const *required,
                                   hret_ds_row_fn fn, struct hret_err *err);
/* hret_table_read, then the spec's invalid UTF-8 policy: an error naming path:line:column, or
 * the count added to spec->invalid_utf8_replaced. */
enum hret_result hret_ds_table_read(struct hret_ds_load *ld, const char *path,
                                    enum hret_table_format fmt, struct hret_table **out,
                                    struct hret_err *err);
/* hret_dataset_path_check of path (borrowed) against the spec's root (else data_dir). */
enum hret_result hret_ds_path_check(const struct hret_ds_load *ld, const char *path,
                                    struct hret_err *err);
/* True when data_dir exists but holds no file for (subset, split). */
bool hret_ds_files_missing(const struct hret_ds_load *ld, const char *subset, const char *key,
                           const char *const *stems);
/* Required column i of the row ("" for NULL) and an optional column by name (NULL if absent). */
const char *hret_ds_col(const struct hret_ds_row *row, size_t i);
const char *hret_ds_opt(const struct hret_ds_row *row, const char *name);

/* Renders ld->tmpl with vars into a new string (caller owns *out); errors name the row. */
enum hret_result hret_ds_render(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                const struct hret_prompt_var *vars, size_t nvars, char **out,
                                struct hret_err *err);
/* Appends s as the next item (to the spool) and frees what it holds. s->id NULL becomes
 * "<subset>/<split>/<rowno>" ("<split>/<rowno>" without subset); s->subset NULL becomes a copy of
 * row->subset. */
void hret_ds_push(struct hret_ds_load *ld, const struct hret_ds_row *row, struct hret_sample *s);

/* A list value: a JSON array (its elements as text, null skipped), else the text split on '|'
 * with each part stripped and empty parts dropped (BenchHub's rule). NULL gives an empty list. */
void hret_ds_split_list(const char *value, struct hret_strlist *out);
/* Python's int(): optional sign, digits, surrounding whitespace; also an integral float text
 * ("2.0") as pandas writes integer columns with gaps. */
bool hret_ds_parse_int(const char *s, long long *out);
/* An empty object (caller owns) and a string member (NULL value: null); both abort on OOM. */
cJSON *hret_ds_object(void);
void hret_ds_meta_set(cJSON *obj, const char *key, const char *value);
/* A metadata object (caller owns) with the named columns of the row that exist, as strings. */
cJSON *hret_ds_meta_columns(const struct hret_ds_row *row, const char *const *names);

/* spec->params accessors; absent keys leave *out alone. */
enum hret_result hret_ds_param_str(const struct hret_ds_load *ld, const char *key, const char **out,
                                   struct hret_err *err);
/* A string or an array of strings; the strings are borrowed from spec->params. */
enum hret_result hret_ds_param_list(const struct hret_ds_load *ld, const char *key,
                                    const char **items, size_t cap, size_t *count,
                                    struct hret_err *err);

#endif
