/* One evaluation item as the pipeline carries it: dataset loaders fill it, backends send its
 * input, evaluators score a prediction against its reference. */
#ifndef HRET_SAMPLE_H
#define HRET_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_cfg.h"

struct hret_sample {
    size_t idx;                  /* position in the selected dataset, 0-based */
    char *id;                    /* stable item id within the dataset (owned) */
    char *subset;                /* owned; NULL when the dataset has no subsets */
    char *input;                 /* the rendered prompt sent to the model (owned) */
    char *reference;             /* expected answer in HRET's form, e.g. "(A)" (owned) */
    struct hret_strlist options; /* MCQA options, empty otherwise (owned) */
    cJSON *metadata;             /* other columns (owned), NULL when none */
};

/* What an evaluator says about one prediction. Strings are owned by the verdict. */
struct hret_verdict {
    bool correct;
    bool parse_failure; /* no answer could be extracted (math, judge) */
    double score;       /* judge score or 1/0 for correct; NAN when none */
    char *normalized_pred;
    char *normalized_ref;
};

void hret_sample_fini(struct hret_sample *s);
void hret_verdict_fini(struct hret_verdict *v);

#endif
