/* Runs samples against one model endpoint and scores them: the pipeline's inner loop, shared by
 * `hret run` and the worker's shards. Many requests in flight through the endpoint engine; a
 * bounded window of prepared requests keeps memory flat whatever the dataset size. */
#ifndef HRET_RUN_H
#define HRET_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "hret_backend.h"
#include "hret_config.h"
#include "hret_eval.h"
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

struct hret_run_params {
    const struct hret_model_config *model; /* borrowed */
    const struct hret_evaluator_ops *evaluator;
    const void *evaluator_state;
    struct hret_gen_params gen;
    double language_threshold; /* Hangul share for language_penalizer = 1; < 0 = off */
    /* Called at most every 100 ms and once at the end; nullable. */
    void (*progress)(void *user, size_t done, size_t total, size_t errors);
    void *progress_user;
    const volatile sig_atomic_t *stop;  /* nullable; when set, stop and keep what finished */
    const struct hret_run_cache *cache; /* nullable */
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

/* The cache key of a prepared request (out: 64 hex digits + NUL). */
void hret_run_cache_key(const struct hret_model_config *model, const char *body, size_t len,
                        char out[65]);

/* Fills outcomes[i] for samples[i] (both borrowed arrays of count; outcomes zeroed by the
 * caller, who frees them with hret_outcome_fini). Endpoint failures are recorded per sample;
 * the function fails only when the run cannot start (bad model config). */
enum hret_result hret_run_samples(const struct hret_run_params *p,
                                  const struct hret_sample *samples, size_t count,
                                  struct hret_outcome *outcomes, struct hret_run_report *report,
                                  struct hret_err *err);

#endif
