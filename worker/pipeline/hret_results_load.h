/* A results JSON read back into a run: what `hret runs import` stores. Pure (no I/O), so the
 * whole reading of an untrusted file is fuzzed (tests/fuzz/fuzz_results.c). */
#ifndef HRET_RESULTS_LOAD_H
#define HRET_RESULTS_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"
#include "hret_outcome.h"
#include "hret_sample.h"

struct hret_results_run {
    /* the file's run id when it is a UUID (36 characters, hex and dashes), else "" */
    char run_id[37];
    /* borrowed from the document; NULL when absent */
    const char *run_name, *model, *dataset, *dataset_version, *split, *method;
    const cJSON *metadata, *config, *metrics, *info;
    size_t planned;                /* planned_samples, or the sample count */
    double started_at;             /* Unix seconds; NAN when the file has no start_time */
    double duration;               /* seconds */
    bool partial;                  /* run_metadata.partial */
    bool scored;                   /* metrics.accuracy is a number */
    struct hret_sample *samples;   /* owned, n of them */
    struct hret_outcome *outcomes; /* owned, n of them: done, errors where the file says */
    size_t n, errors;
};

/* Reads doc (borrowed; it must outlive out) into out. HRET_E_INVAL, saying what is missing,
 * when doc is not a results JSON (run_metadata, metrics and results[0].samples). Numbers out of
 * range are clamped, never cast past their type. */
enum hret_result hret_results_load(const cJSON *doc, struct hret_results_run *out,
                                   struct hret_err *err);
void hret_results_run_fini(struct hret_results_run *r);

#endif
