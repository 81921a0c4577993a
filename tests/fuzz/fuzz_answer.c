/* Model output against the scoring side: HRET's answer-marker search (first and last marker),
 * the Hangul share, and the string_match, partial_match and math_match evaluators (answer
 * extraction, math normalisation) in their default and robust modes. The input is
 * "<prediction>\0<reference>"; options are the reference
 * split on commas (when it has several). */
#include <stdlib.h>
#include <string.h>

#include "hret_eval.h"
#include "hret_fuzz.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_sample.h"

static const char *const methods[] = {"string_match", "partial_match", "math_match"};
static const char *const params[] = {NULL, "{\"extraction\": \"robust\"}", "{\"mcqa\": false}"};

static void score_all(const char *pred, const char *ref, const struct hret_strlist *options)
{
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        const struct hret_evaluator_ops *ops = hret_eval_find(methods[m]);
        for (size_t p = 0; ops != NULL && p < sizeof params / sizeof params[0]; p++) {
            cJSON *pj =
                params[p] ? hret_json_parse(params[p], strlen(params[p]), 1024, NULL) : NULL;
            void *state = NULL;
            struct hret_err err = HRET_ERR_INIT;
            if (ops->init(pj, &state, &err) == HRET_OK) {
                struct hret_verdict v = {0};
                (void)ops->score(state, pred, ref, options, &v, &err);
                hret_verdict_fini(&v);
                ops->destroy(state);
            }
            cJSON_Delete(pj);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = hret_xmalloc(size + 2);
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    const char *pred = text;
    const char *ref = text + strlen(text) + 1; /* "" when there is no NUL */
    if (ref > text + size) {
        ref = "";
    }
    size_t off = 0, len = 0, marker = 0;
    (void)hret_eval_find_answer(text, size, HRET_EVAL_MARKER_FIRST, &off, &len, &marker);
    (void)hret_eval_find_answer(text, size, HRET_EVAL_MARKER_LAST, &off, &len, &marker);
    (void)hret_eval_hangul_share(pred);
    struct hret_strlist options = {0};
    hret_strlist_split(&options, ref);
    score_all(pred, ref, options.count > 1 ? &options : NULL);
    hret_strlist_fini(&options);
    free(text);
    return 0;
}
