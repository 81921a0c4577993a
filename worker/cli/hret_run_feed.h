/* hret run's samples streamed through the run (issue 25, flat memory): each is read from the
 * opened dataset when the window has room for it, and when it is done it is counted into the
 * metrics, its JSON goes to the results spool and its error to the summary's list, and it is
 * freed. With a database (keep) the samples and outcomes stay in arrays for the store, which
 * writes them in one transaction at the end. */
#ifndef HRET_RUN_FEED_H
#define HRET_RUN_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include "hret_cfg.h"
#include "hret_dataset.h"
#include "hret_metrics.h"
#include "hret_outcome.h"
#include "hret_results.h"
#include "hret_run.h"

struct hret_run_feed {
    const struct hret_dataset *ds;      /* borrowed, opened */
    struct hret_metrics_acc *tally;     /* owned */
    struct hret_results_spool *results; /* owned; NULL without a results file */
    struct hret_strlist errors;         /* messages of the samples that failed */
    bool keep;                          /* keep every sample and outcome in the arrays */
    struct hret_sample *samples;        /* keep: ds->count of them (owned) */
    struct hret_outcome *outcomes;      /* keep: ds->count of them (owned) */
    struct hret_run_source source;      /* for hret_run_stream */
};

/* ds borrowed; results: spool the samples' JSON for a results file. */
enum hret_result hret_run_feed_init(struct hret_run_feed *f, const struct hret_dataset *ds,
                                    bool results, bool keep, struct hret_err *err);
/* Frees what f holds; a zeroed f is a no-op. */
void hret_run_feed_fini(struct hret_run_feed *f);

#endif
