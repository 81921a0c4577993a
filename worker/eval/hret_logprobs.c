#include "hret_logprobs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const cJSON *array_member(const cJSON *obj, const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(a) ? a : NULL;
}

bool hret_logprobs_echo_ok(const cJSON *logprobs, long prompt_tokens, char *why, size_t cap)
{
    if (!cJSON_IsObject(logprobs)) {
        snprintf(why, cap, "the response has no logprobs (logprobs/echo ignored)");
        return false;
    }
    const cJSON *lps = array_member(logprobs, "token_logprobs");
    const cJSON *offsets = array_member(logprobs, "text_offset");
    int n = lps ? cJSON_GetArraySize(lps) : 0;
    if (n == 0 || offsets == NULL || cJSON_GetArraySize(offsets) != n) {
        snprintf(why, cap, "logprobs lacks token_logprobs and text_offset of the same length");
        return false;
    }
    if (prompt_tokens > 0 && n < prompt_tokens) {
        snprintf(why, cap,
                 "only %d log-probabilities for a prompt of %ld tokens: the prompt was not "
                 "echoed",
                 n, prompt_tokens);
        return false;
    }
    const cJSON *first_off = cJSON_GetArrayItem(offsets, 0);
    if (!cJSON_IsNull(cJSON_GetArrayItem(lps, 0)) || !cJSON_IsNumber(first_off) ||
        first_off->valuedouble != 0) {
        snprintf(why, cap,
                 "the first token has a log-probability or a non-zero offset: the prompt was "
                 "not echoed");
        return false;
    }
    snprintf(why, cap, "%d prompt tokens echoed with log-probabilities", n);
    return true;
}

bool hret_logprobs_chat_ok(const cJSON *logprobs, char *why, size_t cap)
{
    const cJSON *content = array_member(logprobs, "content");
    const cJSON *first = content ? cJSON_GetArrayItem(content, 0) : NULL;
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(first, "logprob"))) {
        snprintf(why, cap, "the response has no per-token logprobs");
        return false;
    }
    snprintf(why, cap, "%d generated token(s) with log-probabilities", cJSON_GetArraySize(content));
    return true;
}

static size_t char_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return count;
}

/* Whether text_offset counts bytes: the unit the token strings' lengths agree with (steps
 * between offsets equal to the byte or the character length of non-ASCII tokens). */
static bool offsets_in_bytes(const cJSON *tokens, const cJSON *offsets, size_t n)
{
    long bytes = 0, chars = 0;
    const cJSON *tok = tokens ? tokens->child : NULL;
    const cJSON *off = offsets->child;
    for (size_t i = 0; i + 1 < n && tok && off; i++, tok = tok->next, off = off->next) {
        if (cJSON_IsString(tok) && cJSON_IsNumber(off) && cJSON_IsNumber(off->next)) {
            double step = off->next->valuedouble - off->valuedouble;
            size_t b = strlen(tok->valuestring), c = char_count(tok->valuestring, b);
            bytes += b != c && step == (double)b;
            chars += b != c && step == (double)c;
        }
    }
    return bytes > chars;
}

enum hret_result hret_logprobs_continuation(const cJSON *logprobs, const char *prompt,
                                            size_t context_len, long prompt_tokens, double *sum,
                                            size_t *tokens, struct hret_err *err)
{
    const cJSON *lps = array_member(logprobs, "token_logprobs");
    const cJSON *offsets = array_member(logprobs, "text_offset");
    const cJSON *toks = array_member(logprobs, "tokens");
    size_t n = lps ? (size_t)cJSON_GetArraySize(lps) : 0;
    char why[256];
    if (!hret_logprobs_echo_ok(logprobs, prompt_tokens, why, sizeof why)) {
        return hret_err_set(err, HRET_E_PROTO, "no prompt log-probabilities: %s", why);
    }
    /* The echo lists the prompt's tokens first, then the generated ones. */
    size_t p = prompt_tokens > 0 && (size_t)prompt_tokens < n ? (size_t)prompt_tokens : n;
    const char *cont = prompt + context_len;
    bool in_bytes = offsets_in_bytes(toks, offsets, p);
    size_t cont_len = in_bytes ? strlen(cont) : char_count(cont, strlen(cont));
    const cJSON *last_off = cJSON_GetArrayItem(offsets, (int)p - 1);
    const cJSON *last_tok = toks ? cJSON_GetArrayItem(toks, (int)p - 1) : NULL;
    double start;
    if (cJSON_IsString(last_tok) && cJSON_IsNumber(last_off)) {
        /* From the end of the echoed prompt, so a leading BOS ("<s>" counted in the offsets
         * by vLLM) shifts nothing. */
        size_t b = strlen(last_tok->valuestring);
        start = last_off->valuedouble +
                (double)(in_bytes ? b : char_count(last_tok->valuestring, b)) - (double)cont_len;
    } else {
        start = (double)(in_bytes ? context_len : char_count(prompt, context_len));
    }
    double total = 0;
    size_t count = 0, i = 0;
    const cJSON *lp = lps->child;
    for (const cJSON *off = offsets->child; i < p; off = off->next, lp = lp->next, i++) {
        if (!cJSON_IsNumber(off) || off->valuedouble < start) {
            continue;
        }
        if (!cJSON_IsNumber(lp) || !isfinite(lp->valuedouble)) {
            return hret_err_set(err, HRET_E_PROTO,
                                "continuation token %zu has no log-probability (null)", i);
        }
        total += lp->valuedouble;
        count++;
    }
    if (count == 0) {
        return hret_err_set(err, HRET_E_PROTO,
                            "no echoed token starts inside the continuation: the prompt was not "
                            "echoed");
    }
    *sum = total;
    if (tokens != NULL) {
        *tokens = count;
    }
    return HRET_OK;
}
