/* A stored run as files and marks: its results document (HRET's save_results layout, what
 * `hret run` wrote) rebuilt from the rows, and the alerts the monitor raised on a model's runs. */
#ifndef HRET_STORE_EXPORT_H
#define HRET_STORE_EXPORT_H

#include <stddef.h>

#include "hret_err.h"
#include "hret_store.h"
#include "hret_store_query.h"

/* Writes run r's (borrowed) results document to path (borrowed; "-" is standard output) with
 * hret_results_write; *samples (nullable) gets the number of samples written. */
enum hret_result hret_store_export_run(struct hret_store *s, const struct hret_store_run_row *r,
                                       const char *path, size_t *samples, struct hret_err *err);

struct hret_store_alert_mark { /* strings owned */
    char *run_id, *rule, *message;
    double threshold; /* NaN when the rule has none */
};

/* The alerts raised on runs of model on dataset (both borrowed), oldest first. Caller owns
 * *marks (hret_store_alert_marks_free). */
enum hret_result hret_store_alert_marks(struct hret_store *s, const char *model,
                                        const char *dataset, struct hret_store_alert_mark **marks,
                                        size_t *n, struct hret_err *err);
void hret_store_alert_marks_free(struct hret_store_alert_mark *marks, size_t n);

#endif
