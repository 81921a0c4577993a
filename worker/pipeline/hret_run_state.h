/* hret_run's private state, shared by its files: hret_run.c (requests) and hret_run_score.c
 * (scoring a finished sample). Not for other modules. */
#ifndef HRET_RUN_STATE_H
#define HRET_RUN_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "hret_budget.h"
#include "hret_http.h"
#include "hret_ops.h"
#include "hret_run.h"

/* Live samples: the model's in-flight limit and as many more ready behind it, at most
 * WINDOW_AHEAD_MAX more (completions come back a few hundred at a time: at 10,000 in flight a
 * full second window was 10,000 more prepared requests and samples, 20 MB, for nothing). */
#define WINDOW_AHEAD_MAX 1024

enum stage { STAGE_ANSWER, STAGE_JUDGE };

struct run;

/* One HTTP request of a sample; lives from send to its final completion. */
struct req {
    struct run *run;
    struct req *prev, *next; /* the run's live requests */
    size_t idx;              /* sample */
    unsigned part;           /* option (log-likelihood) or path (self-consistency) */
    enum stage stage;
    int pool;
    const struct hret_backend_ops *backend;
    long est_tokens, used_tokens; /* charged before the call / reported by the response */
    long tokens_in, tokens_out;   /* reported by the response */
    char key[65];                 /* cache key, "" without a cache */
};

/* A sample of the run: s and o come from the source when the sample starts and go back to it
 * when it settles (NULL before and after). */
struct job {
    enum stage stage;
    unsigned pending; /* requests of the stage not back yet, +1 while they are being sent */
    struct hret_sample *s;
    struct hret_outcome *o;
};

struct run {
    const struct hret_run_params *p;
    const struct hret_backend_ops *backend; /* of the model under test */
    const struct hret_run_source *src;      /* where samples come from and outcomes go */
    struct job *jobs;                       /* count */
    size_t count, next, done, errors, live;
    struct hret_http *http;
    int pool, judge_pool;
    struct hret_buf url, body;
    struct hret_run_report *report;
    struct req *reqs;
    cJSON *loglik_extra; /* {"max_tokens": 0, "temperature": 0} */
    struct hret_err fatal;
    struct hret_ops_model *ops, *judge_ops;    /* the models' metrics */
    struct hret_budget *budget, *judge_budget; /* the process's budgets of the two models */
};

/* Records an error on the sample; the first one wins. */
void hret_run_fail(struct hret_outcome *o, enum hret_result code, const char *error,
                   const char *detail);
/* The sample is done: counted, with its error if any, and handed back to the source (with an
 * external evaluator, only after the batch is scored). */
void hret_run_settle(struct run *run, size_t idx);
/* Hands sample idx back to the source (settled, or abandoned at a stop); no-op when it is not
 * out. */
void hret_run_release(struct run *run, size_t idx);
/* Scores text as sample idx's answer into v; false (the sample failed) when the evaluator
 * errs. With an external evaluator, nothing now (hret_run_score_external at the end). */
bool hret_run_score(struct run *run, size_t idx, const char *text, struct hret_verdict *v);
/* Self-consistency: scores every path and keeps the majority's verdict and raw output. */
void hret_run_vote(struct run *run, size_t idx);
/* Log-likelihood: the option with the highest sum (first on ties), stripped, is the answer. */
void hret_run_pick_option(struct run *run, size_t idx);
/* A failed language gate marks the scored answer wrong. */
void hret_run_apply_gate(struct hret_outcome *o);
/* The language penalizer and, when asked, the gate; then the sample is done. */
void hret_run_finish(struct run *run, size_t idx);
/* External evaluator: scores every answered sample in one batch; what it fails on becomes the
 * sample's error. */
void hret_run_score_external(struct run *run);

#endif
