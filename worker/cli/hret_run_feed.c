/* hret run's streamed samples (see hret_run_feed.h). */
#include "hret_run_feed.h"

#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"

static enum hret_result feed_get(void *user, size_t idx, struct hret_sample **s,
                                 struct hret_outcome **o, struct hret_err *err)
{
    struct hret_run_feed *f = user;
    struct hret_sample *sample = f->keep ? &f->samples[idx] : hret_xcalloc(1, sizeof *sample);
    struct hret_outcome *outcome = f->keep ? &f->outcomes[idx] : hret_xcalloc(1, sizeof *outcome);
    enum hret_result r = hret_dataset_get(f->ds, idx, sample, err);
    if (r != HRET_OK && !f->keep) {
        free(sample);
        free(outcome);
    }
    if (r == HRET_OK) {
        *s = sample;
        *o = outcome;
    }
    return r;
}

static void feed_done(void *user, size_t idx, struct hret_sample *s, struct hret_outcome *o)
{
    struct hret_run_feed *f = user;
    if (o->done) {
        hret_metrics_acc_add(f->tally, idx, s, o);
        if (f->results != NULL) {
            hret_results_spool_add(f->results, idx, s, o);
        }
        if (o->error_code != HRET_OK && o->error != NULL) {
            hret_strlist_push(&f->errors, hret_xstrdup(o->error));
        }
    }
    if (!f->keep) {
        hret_sample_fini(s); /* feed_get made both */
        hret_outcome_fini(o);
        free(s);
        free(o);
    }
}

enum hret_result hret_run_feed_init(struct hret_run_feed *f, const struct hret_dataset *ds,
                                    bool results, bool keep, struct hret_err *err)
{
    memset(f, 0, sizeof *f);
    f->ds = ds;
    f->keep = keep;
    if (results && hret_results_spool_new(ds->count, &f->results, err) != HRET_OK) {
        return err->code;
    }
    f->tally = hret_metrics_acc_new();
    if (keep) {
        f->samples = hret_xcalloc(ds->count ? ds->count : 1, sizeof *f->samples);
        f->outcomes = hret_xcalloc(ds->count ? ds->count : 1, sizeof *f->outcomes);
    }
    f->source = (struct hret_run_source){feed_get, feed_done, f};
    return HRET_OK;
}

void hret_run_feed_fini(struct hret_run_feed *f)
{
    for (size_t i = 0; f->keep && i < f->ds->count; i++) {
        hret_sample_fini(&f->samples[i]);
        hret_outcome_fini(&f->outcomes[i]);
    }
    free(f->samples);
    free(f->outcomes);
    hret_metrics_acc_destroy(f->tally);
    hret_results_spool_destroy(f->results);
    hret_strlist_fini(&f->errors);
    memset(f, 0, sizeof *f);
}
