/* What happened to one sample in a run: the raw model output kept beside the verdict, or the
 * endpoint error (an error is never a wrong answer). */
#ifndef HRET_OUTCOME_H
#define HRET_OUTCOME_H

#include <stdbool.h>

#include "hret_err.h"
#include "hret_sample.h"

/* --language-gate: whether the answer was Korean enough (hret_run.c). */
enum hret_language_gate { HRET_GATE_OFF, HRET_GATE_PASSED, HRET_GATE_FAILED };

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
    /* scoring modes (hret_run.c); zero / empty when a mode is off; all owned */
    enum hret_language_gate gate;     /* FAILED: a non-Korean answer marked wrong */
    bool gate_flipped;                /* ... that was correct before the gate */
    struct hret_strlist paths;        /* self-consistency: every path's raw output, in order */
    struct hret_strlist path_answers; /* ... and its normalized answer (what was voted on) */
    double *option_logprobs;          /* log_likelihood: continuation log-prob per option */
    size_t n_option_logprobs;
    const char *judge_type; /* llm_judge: HRET's type name (static); NULL when not judged */
    char *judge_prompt;     /* what the judge model was sent */
    char *judge_output;     /* what it said (HRET's judge_evaluation) */
};

void hret_outcome_fini(struct hret_outcome *o);

#endif
