/* What an endpoint can do (reference/infra.md §7.2, §7.6), asked through the endpoint engine
 * before a run depends on it. Whether a response qualifies is hret_logprobs' reading.
 *
 * The probe sends, in parallel with the model's limits (retries capped at 1):
 *   GET  {base_url}/models                        reachable, served ids, configured id listed
 *   POST {base_url}/completions                   echo:true, logprobs:1, max_tokens:0,
 *                                                 temperature:0 -> supports_echo_logprobs
 *   POST {base_url}/chat/completions (chat only)  logprobs:true, top_logprobs:1, max_tokens:1
 *                                                 -> supports_chat_logprobs
 *   POST the model's backend and {base_url}/completions, plain (max_tokens 16, temperature 0)
 *                                                 -> chat_answers, completions_answer */
#ifndef HRET_PROBE_H
#define HRET_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_cfg.h"
#include "hret_config.h"
#include "hret_err.h"

struct hret_probe_report {
    bool reachable;             /* the server answered GET /models with any HTTP status */
    long models_status;         /* that status, 0 when there was no answer */
    struct hret_strlist served; /* ids listed by GET /models (owned) */
    bool model_listed;          /* the configured `model` id is among them */
    bool echo_logprobs;         /* supports_echo_logprobs */
    bool chat_checked;          /* the chat check ran (chat backends) */
    bool chat_logprobs;         /* supports_chat_logprobs */
    char *models_detail;        /* owned, never NULL after a probe: what GET /models said */
    char *echo_detail;          /* owned, never NULL: why echo+logprobs works or not */
    char *chat_detail;          /* owned, NULL unless chat_checked */
    /* plain answers, as hret run asks (max_tokens 16, temperature 0): the model's own backend
     * and /completions; the details are worded as hret run words sample errors */
    bool chat_answers, completions_answer;
    char *chat_answer_detail, *completions_detail; /* owned, never NULL after a probe */
    double elapsed_ms;
};

void hret_probe_report_fini(struct hret_probe_report *r);

/* Probes model (borrowed); out zeroed by the caller. Endpoint failures are recorded in out; it
 * fails only when the engine cannot start (bad limits). check_chat: also try chat logprobs;
 * check_answers: also the plain chat and completions answers. */
enum hret_result hret_probe_run(const struct hret_model_config *model, bool check_chat,
                                bool check_answers, struct hret_probe_report *out,
                                struct hret_err *err);

/* Probes model (borrowed) for echo+logprobs: HRET_OK when log_likelihood can score it, else
 * HRET_E_UNAVAILABLE with a message naming the model and what is missing. For `hret run` and
 * the worker, before any log-likelihood request. */
enum hret_result hret_probe_require_echo(const struct hret_model_config *model,
                                         struct hret_err *err);

/* The report as JSON {reachable, models_status, served_models, model_listed,
 * supports_echo_logprobs, supports_chat_logprobs (null unless checked), details{...}}. Caller
 * owns result. */
cJSON *hret_probe_report_json(const struct hret_model_config *model,
                              const struct hret_probe_report *r);

#endif
