/* Benchmark datasets from local files, rendered into prompts exactly as HRET renders them
 * (reference/hret.md §1.3-§1.6, §2): one loader per dataset in a const registry, reading the
 * directory that `huggingface-cli download --repo-type dataset REPO --local-dir DIR` leaves
 * (CSV, TSV, JSON, JSONL or Parquet, as the hub serves it), plus a generic file loader.
 *
 * Order of operations, for a selection of N rows (every requested subset, in list order):
 *   1. load and render every row of `split` (ids "<subset>/<split>/<row>", row 0-based) into a
 *      spool file (hret_dataset_open keeps it there; hret_dataset_load reads the selection back);
 *   2. sample_size > 0: keep a seeded random sample of that many rows, in sample order;
 *   3. few-shot (HRET's FewShotHandler): the examples are the first num_few_shot rows of the
 *      few-shot split as loaded (not sampled), or of the selection itself when few_shot_split is
 *      NULL or equals split, in which case they are dropped from scoring; the prefix is
 *      instruction + one example template per example with a non-empty input, or "" when none;
 *   4. limit > 0: keep the first limit rows;
 *   5. input = prefix + input; idx = position; version = hash of the result.
 *
 * Sampling: a partial Fisher-Yates shuffle driven by splitmix64 seeded with `seed` (bounded draws
 * by rejection), so a seed gives the same sample on every machine. It is not Python's
 * random.sample: a BenchHub sample differs from HRET's for the same seed. */
#ifndef HRET_DATASET_H
#define HRET_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_cfg.h"
#include "hret_err.h"
#include "hret_sample.h"

struct hret_table;
struct hret_dataset_stream;

/* A dataset's files held in memory (tables read back from the dataset store): loaders look
 * them up by their path relative to data_dir exactly as they find files on disk. Borrowed. */
struct hret_dataset_file {
    const char *path; /* "general_knowledge/test-00000-of-00002.parquet" */
    const struct hret_table *table;
};
struct hret_dataset_files {
    const struct hret_dataset_file *items;
    size_t count;
};

struct hret_dataset_spec {              /* all borrowed */
    const char *name;                   /* a registry name, see hret_dataset_names() */
    const char *data_dir;               /* HF download directory; generic: the file */
    const char *root;                   /* every file read resolves below it; NULL = data_dir */
    bool follow_symlinks;               /* links inside root may lead out of it */
    const struct hret_strlist *subsets; /* NULL/empty = the dataset's default list */
    const char *split;                  /* NULL = "test" */
    long long limit;                    /* 0 = all, else the first `limit` scored rows */
    long long sample_size;              /* 0 = all, else a seeded sample of that many */
    unsigned long long seed;            /* for sample_size */
    int num_few_shot;                   /* 0 = zero-shot; negative is taken as 0 */
    const char *few_shot_split;         /* NULL = split (examples not scored) */
    const char *few_shot_instruction;   /* NULL = HRET's default, "" = none */
    const char *few_shot_template;      /* NULL = "{input}\n정답: {reference}\n\n" */
    const char *prompt_template;        /* NULL = the dataset's HRET default */
    const cJSON *params; /* loader-specific object; unknown keys are errors. Every dataset also
                            takes base_prompt_template, few_shot_example_template and
                            few_shot_instruction here (HRET's dataset_params), used where the
                            fields above are NULL */
    const struct hret_dataset_files *files; /* NULL: data_dir on disk; else these (data_dir is
                                               then only a label in messages) */
    /* NULL: invalid UTF-8 in a file is an error naming file:line:column; else it is replaced by
     * U+FFFD and the bytes replaced are added here (--invalid-utf8 replace). */
    size_t *invalid_utf8_replaced;
    /* hret_dataset_open: leave version NULL until hret_dataset_version asks for it, so that a
     * caller reading every sample in order (hret run) pays for no second pass over the spool */
    bool version_on_demand;
};

struct hret_dataset {
    char *name;    /* registry name (owned) */
    char *version; /* 16 hex digits of FNV-1a-64 over the samples (owned); NULL until
                      hret_dataset_version with spec.version_on_demand */
    /* hret_dataset_load: count samples, idx = 0..count-1 (owned); hret_dataset_open: NULL, the
     * samples are read one at a time with hret_dataset_get */
    struct hret_sample *samples;
    size_t count;
    int num_few_shot_applied;           /* num_few_shot when a prefix was built, else 0 */
    struct hret_dataset_stream *stream; /* hret_dataset_open's spool (private) */
};

/* Loads and renders spec. Caller owns *out (hret_dataset_destroy). Errors name the file, line and
 * column involved and the layout that was expected. The name, subsets, split and few-shot split
 * must each be one path component (hret_dataset_part_ok), checked before anything is read, and
 * every file read must pass hret_dataset_path_check against root. */
enum hret_result hret_dataset_load(const struct hret_dataset_spec *spec, struct hret_dataset **out,
                                   struct hret_err *err);
/* The same selection without holding it: every rendered sample goes to an unlinked temporary
 * file as it is loaded (hret_dataset_spool.h) and memory keeps one offset per row, the selection
 * and the few-shot prefix; samples is NULL. Loading reads one data file at a time. */
enum hret_result hret_dataset_open(const struct hret_dataset_spec *spec, struct hret_dataset **out,
                                   struct hret_err *err);
/* Sample idx (< count) of an opened dataset, with its prefix and idx, read from the spool:
 * caller owns *out (hret_sample_fini). Any order, any number of times. */
enum hret_result hret_dataset_get(const struct hret_dataset *ds, size_t idx,
                                  struct hret_sample *out, struct hret_err *err);
/* Sets ds->version if it is not set yet: reads the samples that in-order hret_dataset_get calls
 * (0, 1, 2, ...) have not already hashed. */
enum hret_result hret_dataset_version(struct hret_dataset *ds, struct hret_err *err);
void hret_dataset_destroy(struct hret_dataset *ds);
/* What hret_dataset_load checks before reading any file: the name, subsets the dataset has,
 * params the loader takes, templates with its placeholders. For refusing a request when it is
 * submitted rather than when a worker loads it. */
enum hret_result hret_dataset_check(const struct hret_dataset_spec *spec, struct hret_err *err);
/* NULL-terminated registry names, static. */
const char *const *hret_dataset_names(void);

#endif
