/* The fake model's answers to POST /v1/chat/completions and POST /v1/completions: a pure
 * function from the parsed request and the decision inputs to a reply (200, or 400 with an
 * OpenAI error body). One token per UTF-8 code point.
 *
 * Chat: the prompt is the text of the last "user" message; the answer is the answer key's
 * decision for it (hret_fake_key_answer), else default_answer, cut to max_tokens.
 *
 * Completions: each prompt is answered the same way. With echo the text and logprobs cover the
 * prompt, then the generated tokens (max_tokens 0 generates nothing); text_offset counts bytes
 * from the start of the prompt with echo, from the start of the generated text without (vLLM).
 * Log-likelihood: W is the prompt's last whitespace-delimited word and C the text before it
 * (with the whitespace). If hash(C) is in the key, W's tokens score -0.05 each when W equals the
 * decided answer (surrounding parentheses ignored) and -4.0 each otherwise; every other prompt
 * token scores -1.0, generated tokens -0.05, and the first prompt token has logprob null. */
#ifndef HRET_FAKE_ANSWER_H
#define HRET_FAKE_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "hret_fake_key.h"
#include "hret_fake_reply.h"

/* What one request is answered with; every pointer borrowed. */
struct hret_fake_model {
    const struct hret_fake_key *key; /* nullable: no prompt is known */
    const char *model;               /* reported as "model" */
    const char *fingerprint;         /* reported as "system_fingerprint" */
    const char *default_answer;      /* for prompts not in the key */
    double accuracy;
    uint64_t seed;
    enum hret_fake_logprobs logprobs;
    bool ignore_n;       /* one choice whatever n is */
    long context_tokens; /* 0: no context window */
    uint64_t request_no; /* makes the response id */
    long long created;   /* unix seconds */
};

/* req borrowed; out must be initialised and receives the reply. */
void hret_fake_answer_chat(const struct hret_fake_model *m, const cJSON *req,
                           struct hret_fake_reply *out);
void hret_fake_answer_completions(const struct hret_fake_model *m, const cJSON *req,
                                  struct hret_fake_reply *out);

#endif
