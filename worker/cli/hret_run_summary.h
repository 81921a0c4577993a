/* hret run's summary: the headline (marked when the error rate is high), accuracy or why
 * nothing was scored, errors with the most frequent reasons (and a hint for a base_url without
 * /v1), the per-subset table with n worst first, the scoring modes, latency, tokens. */
#ifndef HRET_RUN_SUMMARY_H
#define HRET_RUN_SUMMARY_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "hret_config.h"
#include "hret_dataset.h"
#include "hret_metrics.h"
#include "hret_outcome.h"
#include "hret_run.h"

struct hret_run_summary {         /* all borrowed */
    const char *run_name, *split; /* nullable */
    const struct hret_dataset *ds;
    const struct hret_strlist *errors;    /* the failed samples' messages */
    const struct hret_metrics_acc *tally; /* the run's samples, for n answered per subset */
    const struct hret_model_config *model;
    const cJSON *metrics;
    const struct hret_run_report *report;
    double high_error_rate; /* an error rate above it is marked in the headline */
    size_t invalid_utf8;    /* dataset bytes replaced by U+FFFD */
};

void hret_run_summary_print(FILE *out, const struct hret_run_summary *s);
/* The hint for an endpoint that answered 404: a base_url (borrowed) without /v1. */
void hret_run_summary_hint_v1(FILE *out, const char *base_url);

#endif
