/* Reading echoed prompt log-probabilities (reference/infra.md §7.6): whether a completions
 * response is an echo of its prompt, and the log-probability of a continuation, which
 * log_likelihood scoring (reference/hret.md §3.4) sums per option. An echo qualifies when
 * choice 0's logprobs has token_logprobs and text_offset of the same length, at least
 * usage.prompt_tokens entries, the first log-probability null and the first offset 0: what vLLM
 * returns, and what llama.cpp (echo ignored) and TGI do not. Pure functions; hret_probe asks an
 * endpoint, hret_run scores with them. */
#ifndef HRET_LOGPROBS_H
#define HRET_LOGPROBS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"

/* Pure. Whether logprobs (choice 0's "logprobs" member, borrowed, nullable) is an echo of a
 * prompt of prompt_tokens tokens (0 = unknown) by the rules in the header comment; why (cap bytes)
 * says what is missing, or what was found. */
bool hret_logprobs_echo_ok(const cJSON *logprobs, long prompt_tokens, char *why, size_t cap);

/* Pure. Whether a chat choice's logprobs (borrowed, nullable) has per-token log-probabilities. */
bool hret_logprobs_chat_ok(const cJSON *logprobs, char *why, size_t cap);

/* Pure. The log-probability of the continuation prompt[context_len..] (prompt borrowed: the
 * text the request sent) from its echo logprobs (borrowed): the sum of token_logprobs over the
 * echoed prompt tokens (the first prompt_tokens entries, all when 0; generated ones excluded)
 * that start inside the continuation. The continuation starts len(continuation) before the end
 * of the last prompt token, so a BOS echoed in front ("<s>", which vLLM counts in text_offset)
 * shifts nothing. text_offset counts bytes on some servers (this project's fake, llama.cpp's
 * echo PR) and characters on Python ones (OpenAI, vLLM): the unit is the one the token strings
 * agree with (offset steps equal to their byte or character lengths), characters when they do
 * not tell. *tokens (nullable) gets the number of tokens summed. HRET_E_PROTO naming what is
 * missing when logprobs is not an echo (hret_logprobs_echo_ok), a continuation token has no
 * log-probability, or no token starts in the continuation. */
enum hret_result hret_logprobs_continuation(const cJSON *logprobs, const char *prompt,
                                            size_t context_len, long prompt_tokens, double *sum,
                                            size_t *tokens, struct hret_err *err);

#endif
