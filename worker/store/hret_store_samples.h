/* Writing a run's samples inside a transaction of hret_store.c (internal to the store).
 *
 * 1. Prompts: the SHA-256 of each input; the ones sample_inputs lacks (one query for all) are
 *    COPYed into it. Re-running a benchmark sends no prompt text at all.
 * 2. Samples: a run with no samples yet gets them by COPY straight into samples (one pass);
 *    a run that has some goes through a temporary staging table and INSERT ... ON CONFLICT
 *    (run_id, sample_idx) DO NOTHING. A conflict in a direct COPY (a concurrent writer of the
 *    same prompts or items) answers HRET_AGAIN and marks the batch for staging, so the caller's
 *    transaction retry takes the idempotent way. */
#ifndef HRET_STORE_SAMPLES_H
#define HRET_STORE_SAMPLES_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"
#include "hret_outcome.h"
#include "hret_pg.h"
#include "hret_sample.h"

struct hret_store_samples_batch {
    const char *run_id;                  /* borrowed */
    const struct hret_sample *samples;   /* borrowed, count; those with outcomes[i].done */
    const struct hret_outcome *outcomes; /* borrowed, count */
    size_t count;
    size_t inserted; /* out: rows that were new */
    bool staging;    /* in/out: keep between tries of one transaction */
};

enum hret_result hret_store_samples_copy(struct hret_pg *pg, struct hret_store_samples_batch *b,
                                         struct hret_err *err);

/* The outcome fields of the scoring modes (option log-probs, self-consistency paths, judge,
 * language gate) as the JSON text of samples.extra; NULL when none is set. Caller owns
 * result. Pure. */
char *hret_store_outcome_extra(const struct hret_outcome *o);
/* Sets those fields of o (zeroed for them) from samples.extra (borrowed, nullable). */
void hret_store_outcome_extra_read(const cJSON *extra, struct hret_outcome *o);

#endif
