/* What happened to one sample in a run: the raw model output kept beside the verdict, or the
 * endpoint error (an error is never a wrong answer). */
#ifndef HRET_OUTCOME_H
#define HRET_OUTCOME_H

#include <stdbool.h>

#include "hret_err.h"
#include "hret_sample.h"

struct hret_outcome {
    bool done;                   /* the sample finished (answered or failed) */
    char *prediction;            /* raw model output (owned); NULL on error */
    char *finish_reason;         /* owned, may be NULL */
    struct hret_verdict verdict; /* meaningful when error_code == HRET_OK */
    enum hret_result error_code; /* HRET_OK when the endpoint answered and it was scored */
    char *error;                 /* owned message when error_code != HRET_OK */
    long prompt_tokens, completion_tokens;
    double latency_ms; /* the answering attempt, from send to done */
    int attempts;
    double language_penalizer; /* 1 when the raw output is Korean enough, else 0; NAN = off */
};

void hret_outcome_fini(struct hret_outcome *o);

#endif
