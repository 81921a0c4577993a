/* log_likelihood (reference/hret.md §3.4, HRET's log_prob_mcqa): multiple choice by option
 * log-probabilities. The run pipeline sends one completions request per option with
 * echo+logprobs and passes the option with the highest summed log-probability as `prediction`
 * (hret_run.c, hret_logprobs.h); this evaluator compares it with the reference exactly, both
 * stripped, no case folding. Like HRET it takes no params: any member is an error. */
#include <stdlib.h>
#include <string.h>

#include "hret_eval.h"
#include "hret_mem.h"
#include "hret_utf8.h"

static enum hret_result loglik_init(const cJSON *params, void **state, struct hret_err *err)
{
    *state = NULL;
    if (params != NULL && params->child != NULL) {
        return hret_err_set(err, HRET_E_INVAL,
                            "log_likelihood: unknown parameter '%s' (it takes none)",
                            params->child->string);
    }
    return HRET_OK;
}

static char *stripped(const char *s)
{
    size_t off = 0, len = 0;
    s = s ? s : "";
    hret_utf8_strip(s, strlen(s), &off, &len);
    return hret_xstrndup(s + off, len);
}

static enum hret_result loglik_score(const void *state, const char *prediction,
                                     const char *reference, const struct hret_strlist *options,
                                     struct hret_verdict *out, struct hret_err *err)
{
    (void)state;
    (void)options;
    (void)err;
    char *pred = stripped(prediction), *ref = stripped(reference);
    bool correct = strcmp(pred, ref) == 0;
    *out = (struct hret_verdict){correct, false, correct ? 1.0 : 0.0, pred, ref};
    return HRET_OK;
}

static void loglik_destroy(void *state)
{
    (void)state;
}

const struct hret_evaluator_ops hret_eval_log_likelihood = {
    "log_likelihood",
    loglik_init,
    loglik_score,
    loglik_destroy,
};
