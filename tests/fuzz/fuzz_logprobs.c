/* Echoed prompt log-probabilities from a server we do not control: the input is a completions
 * response; choice 0's logprobs goes through hret_logprobs_echo_ok, _chat_ok and _continuation
 * with the response's own "prompt" member (else a fixed prompt), usage.prompt_tokens and every
 * context length up to the prompt's. */
#include <string.h>

#include "hret_fuzz.h"
#include "hret_json.h"
#include "hret_logprobs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *doc = hret_json_parse((const char *)data, size, 1 << 20, NULL);
    if (doc == NULL) {
        return 0;
    }
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "choices"), 0);
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(choice, "logprobs");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(doc, "usage");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
    long prompt_tokens = cJSON_IsNumber(pt) && pt->valuedouble >= 0 && pt->valuedouble < 1e9
                             ? (long)pt->valuedouble
                             : 0;
    const char *prompt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "prompt"));
    if (prompt == NULL) {
        prompt = "질문: 1+1?\n정답: 2";
    }
    char why[200];
    (void)hret_logprobs_echo_ok(lp, prompt_tokens, why, sizeof why);
    (void)hret_logprobs_chat_ok(lp, why, sizeof why);
    size_t n = strlen(prompt);
    for (size_t ctx = 0; ctx <= n && ctx < 64; ctx++) {
        double sum = 0;
        size_t tokens = 0;
        struct hret_err err = HRET_ERR_INIT;
        (void)hret_logprobs_continuation(lp, prompt, ctx, prompt_tokens, &sum, &tokens, &err);
    }
    cJSON_Delete(doc);
    return 0;
}
