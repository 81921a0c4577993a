/* llm_judge (reference/hret.md §3.6): scores what a judge model said about an answer. The run
 * pipeline builds the judge prompt and sends it (hret_run.c, hret_judge.h); this evaluator reads
 * the judgement: `prediction` is the judge's raw text, `reference` the sample's reference (the
 * winner "A"/"B" for response_comparison). Params: judge_type (default k2_eval). */
#include <stdlib.h>

#include "hret_eval.h"
#include "hret_judge.h"
#include "hret_mem.h"

static enum hret_result judge_init(const cJSON *params, void **state, struct hret_err *err)
{
    enum hret_judge_type type;
    enum hret_result r = hret_judge_params(params, &type, err);
    if (r != HRET_OK) {
        return r;
    }
    enum hret_judge_type *st = hret_xmalloc(sizeof *st);
    *st = type;
    *state = st;
    return HRET_OK;
}

static enum hret_result judge_score(const void *state, const char *prediction,
                                    const char *reference, const struct hret_strlist *options,
                                    struct hret_verdict *out, struct hret_err *err)
{
    (void)options;
    (void)err;
    hret_judge_parse(*(const enum hret_judge_type *)state, prediction, reference, out);
    return HRET_OK;
}

static void judge_destroy(void *state)
{
    free(state);
}

const struct hret_evaluator_ops hret_eval_llm_judge = {
    "llm_judge",
    judge_init,
    judge_score,
    judge_destroy,
};
