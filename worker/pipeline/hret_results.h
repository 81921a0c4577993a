/* HRET's save_results layout: {"run_metadata", "metrics", "results": [{"metrics", "samples",
 * "info"}]}, UTF-8, not ASCII-escaped. Samples are streamed one by one so a 35k-sample run
 * never holds its whole document in memory. */
#ifndef HRET_RESULTS_H
#define HRET_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_compare.h"
#include "hret_err.h"
#include "hret_outcome.h"
#include "hret_sample.h"

struct hret_results_meta { /* all borrowed */
    const char *run_id;    /* nullable */
    const char *run_name;
    const char *dataset;
    const char *model;
    double start_time, end_time; /* Unix seconds */
    bool partial;
    size_t planned;        /* samples the run was asked for */
    const cJSON *config;   /* the pipeline configuration */
    const cJSON *info;     /* HRET's info block */
    const cJSON *metadata; /* the run's metadata (--meta), nullable */
};

/* One sample as stored: HRET's keys (input, reference, options, _subset_name, prediction,
 * finish_reason, evaluation) plus the raw output, latency, tokens and error. Caller owns result. */
cJSON *hret_results_sample(const struct hret_sample *s, const struct hret_outcome *o);

/* The document's run_metadata block. Caller owns result. */
cJSON *hret_results_run_metadata(const struct hret_results_meta *m);

/* Writes the document to path as hret_outfile does (a symlink's target, a device or FIFO
 * written into, "-" standard output, a regular file replaced atomically); flags are
 * hret_outfile's (HRET_OUTFILE_EXCLUSIVE for generated names). Samples that are not done are
 * left out. */
enum hret_result hret_results_write(const char *path, unsigned flags,
                                    const struct hret_results_meta *meta, const cJSON *metrics,
                                    const struct hret_sample *samples,
                                    const struct hret_outcome *outcomes, size_t count,
                                    struct hret_err *err);

/* The same for a streamed run: each finished sample's JSON goes to a scratch file as it
 * finishes (hret_results_spool_add; memory keeps 12 bytes a sample) and is copied in index order
 * when the document is written. count is the run's sample count; s and o are borrowed, and a
 * sample not done is left out. */
struct hret_results_spool;
enum hret_result hret_results_spool_new(size_t count, struct hret_results_spool **out,
                                        struct hret_err *err);
void hret_results_spool_destroy(struct hret_results_spool *sp);
void hret_results_spool_add(struct hret_results_spool *sp, size_t idx, const struct hret_sample *s,
                            const struct hret_outcome *o);
enum hret_result hret_results_write_spool(const char *path, unsigned flags,
                                          const struct hret_results_meta *meta,
                                          const cJSON *metrics, struct hret_results_spool *sp,
                                          struct hret_err *err);

/* The document's run_metadata block for meta (borrowed). Caller owns result. */
cJSON *hret_results_run_metadata(const struct hret_results_meta *meta);

/* Reads the results document at path (borrowed; at most 2 GiB). Caller owns result; NULL with
 * HRET_E_INVAL naming the path when it cannot be read or is not JSON with a "results" list. */
cJSON *hret_results_read(const char *path, struct hret_err *err);

/* Adds the samples of a results document (doc borrowed: HRET's save_results layout, ours or
 * HRET's own) to run (initialised by the caller), paired by item id, or for files without ids by
 * a hash of subset and prompt. A sample counts as errored when it has an error or no verdict.
 * HRET_E_INVAL when doc is not a results document. */
enum hret_result hret_results_compare_run(const cJSON *doc, struct hret_compare_run *run,
                                          struct hret_err *err);

/* ISO 8601 UTC time of Unix seconds t into out (at least 32 bytes). */
void hret_results_iso_time(double t, char *out, size_t cap);

#endif
