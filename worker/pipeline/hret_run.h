/* Runs samples against one model endpoint and scores them: the pipeline's inner loop, shared by
 * `hret run` and the worker's shards. Many requests in flight through the endpoint engine; a
 * bounded window of live requests keeps memory flat whatever the dataset size.
 *
 * A sample may need several requests, and a second stage; it settles when all are back (the
 * first error wins and makes it an error, never a wrong answer). Every request goes through the
 * cache hooks on its own. Modes (set in hret_run_params):
 *   generate          one chat/completions request; the evaluator scores the answer.
 *   self-consistency  paths >= 2: one request with n = paths at the given temperature; when the
 *                     server returns fewer choices (it ignores n), one request per missing path
 *                     (cache keys salted with the path number). The evaluator scores every
 *                     path; the answer is the most frequent normalized_pred, ties to the first
 *                     seen; its raw output is the prediction; all raw outputs are kept.
 *   log-likelihood    one POST {base_url}/completions per option, whatever the backend, with
 *                     prompt = input + " " + option (HRET's HF scoring: the continuation is a
 *                     space and the option as written), echo:true, logprobs:1, max_tokens:0,
 *                     temperature:0. The continuation's log-prob is summed
 *                     (hret_logprobs_continuation); the prediction is the option with the highest
 *                     sum, first on ties, stripped. A response without prompt log-probabilities
 *                     fails the whole run (HRET_E_PROTO naming the model), never a guess.
 *   judge             judge_model set: after the answer (or the sample's metadata.prediction,
 *                     pre-filled as KUDGE does: then the model under test is not called), the
 *                     judge model gets hret_judge_prompt() and its text is parsed into the
 *                     verdict (hret_judge_parse). The type is metadata.judge_type if valid, else
 *                     judge_type; response B is metadata.model_response_b, the rubric
 *                     metadata.rubric.
 *   language gate     language_gate with language_threshold >= 0: a prediction whose Hangul
 *                     share is below the threshold is marked wrong (outcome.gate).
 *   external          external set: every answered sample is scored in one batch by the
 *                     configured command once the endpoint is done; what it fails on becomes
 *                     the sample's error (hret_eval_external.h). */
#ifndef HRET_RUN_H
#define HRET_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "hret_backend.h"
#include "hret_config.h"
#include "hret_eval.h"
#include "hret_http.h"
#include "hret_outcome.h"
#include "hret_sample.h"

/* A response cache (PostgreSQL's response_cache in the store). key is the SHA-256 hex of the
 * endpoint identity (backend, base URL, model id) and the exact request body, so a resumed or
 * repeated run does not pay the endpoint twice, and different models never share entries. */
struct hret_run_cache {
    /* A cached 2xx body for key, or NULL (caller owns result; *len set). */
    char *(*lookup)(void *user, const char *key, size_t *len);
    /* Records a 2xx body that parsed. key and body borrowed. */
    void (*store)(void *user, const char *key, const char *body, size_t len);
    void *user;
};

enum hret_run_mode { HRET_RUN_GENERATE, HRET_RUN_LOGLIK };

struct hret_run_params {
    const struct hret_model_config *model; /* borrowed */
    const struct hret_evaluator_ops *evaluator;
    const void *evaluator_state;
    /* An external evaluator (borrowed; then evaluator is NULL): the answers are scored as one
     * batch once the endpoint has answered them (hret_eval_external.h), with external_params
     * (borrowed, nullable). Generate mode only: no paths, judge or log-likelihood. */
    const struct hret_evaluator_config *external;
    const cJSON *external_params;
    struct hret_gen_params gen;
    double language_threshold; /* Hangul share for language_penalizer = 1; < 0 = off */
    /* Called at most every 100 ms and once at the end; nullable. */
    void (*progress)(void *user, size_t done, size_t total, size_t errors);
    void *progress_user;
    const volatile sig_atomic_t *stop;  /* nullable; when set, stop and keep what finished */
    const struct hret_run_cache *cache; /* nullable */
    /* Which responses are shared with other runs (enum hret_cache_policy); the others are
     * keyed to cache_scope (the run id, borrowed; NULL: shared as the policy says). */
    int cache_policy;
    const char *cache_scope;
    enum hret_run_mode mode;
    unsigned paths;                              /* self-consistency: >= 2 answers a sample */
    const struct hret_model_config *judge_model; /* borrowed; non-NULL: judge every answer */
    int judge_type;                              /* enum hret_judge_type, the default */
    bool language_gate;                          /* needs language_threshold >= 0 */
    /* Appended to every answer prompt in generate mode (HRET's self-consistency prompt_cot),
     * not to judge prompts; borrowed, nullable. */
    const char *prompt_suffix;
    /* Called at most once (nullable), from the run's thread, when every sample has been started
     * and no request waits to be sent: what is left is in flight (a judge stage or a missing
     * self-consistency path may still send once an answer is back). The worker lets the next
     * shard start while this one's stragglers are out. */
    void (*sent)(void *user);
    void *sent_user;
};

struct hret_run_report {
    size_t done, errors;
    bool partial;              /* stopped before every sample finished */
    char *served_model;        /* as the endpoint reported it (owned), NULL if never */
    char *fingerprint;         /* system_fingerprint (owned), NULL if never */
    bool served_model_changed; /* the endpoint reported different ids during the run */
    double elapsed_s;
    unsigned long long retries, http_429;
    size_t cache_hits;
};

void hret_run_report_fini(struct hret_run_report *r);

/* The engine limits of a model's configuration (out filled; strings borrowed from model). */
void hret_run_limits(const struct hret_model_config *model, struct hret_http_limits *out);

/* Self-consistency's vote: the index of the first of the most frequent answers (exact string
 * equality); *votes (nullable) gets its count. answers borrowed, count >= 1. */
size_t hret_run_majority(const char *const *answers, size_t count, size_t *votes);

/* The cache key of a prepared request (out: 64 hex digits + NUL). */
void hret_run_cache_key(const struct hret_model_config *model, const char *body, size_t len,
                        char out[65]);

/* Where hret_run_stream gets its samples and leaves its outcomes. */
struct hret_run_source {
    /* Sample idx, asked once each, in order 0..count-1, when the window has room for it: *s and
     * *o (a zeroed outcome) stay valid until done(idx). An error stops the run with it. */
    enum hret_result (*get)(void *user, size_t idx, struct hret_sample **s, struct hret_outcome **o,
                            struct hret_err *err);
    /* The run is finished with sample idx: settled (o->done set) or abandoned at a stop (not
     * done). The source writes it down and may free both. With an external evaluator every
     * sample is handed back after the batch is scored, at the end. */
    void (*done)(void *user, size_t idx, struct hret_sample *s, struct hret_outcome *o);
    void *user;
};

/* Runs count samples from src, holding only those in the window (with an external evaluator,
 * every answered sample until the batch is scored). Failures as hret_run_samples. */
enum hret_result hret_run_stream(const struct hret_run_params *p, const struct hret_run_source *src,
                                 size_t count, struct hret_run_report *report,
                                 struct hret_err *err);

/* Fills outcomes[i] for samples[i] (both borrowed arrays of count; outcomes zeroed by the
 * caller, who frees them with hret_outcome_fini). Endpoint failures are recorded per sample;
 * the function fails when the run cannot start (bad model config), or with HRET_E_PROTO when
 * a log-likelihood response has no prompt log-probabilities (the report is then partial). */
enum hret_result hret_run_samples(const struct hret_run_params *p,
                                  const struct hret_sample *samples, size_t count,
                                  struct hret_outcome *outcomes, struct hret_run_report *report,
                                  struct hret_err *err);

#endif
