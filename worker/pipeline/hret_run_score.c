/* Scoring a sample whose requests are back (see hret_run_state.h). */
#include <stdlib.h>
#include <string.h>

#include "hret_eval_external.h"
#include "hret_mem.h"
#include "hret_run_state.h"
#include "hret_utf8.h"

/* Records an error on the sample; the first one wins. */
void hret_run_fail(struct hret_outcome *o, enum hret_result code, const char *error,
                   const char *detail)
{
    if (o->error_code != HRET_OK) {
        return;
    }
    o->error_code = code;
    o->error = *detail ? hret_xasprintf("%s: %s", error, detail) : hret_xstrdup(error);
}

void hret_run_release(struct run *run, size_t idx)
{
    struct job *j = &run->jobs[idx];
    if (j->s != NULL) {
        run->src->done(run->src->user, idx, j->s, j->o);
        j->s = NULL;
        j->o = NULL;
    }
}

void hret_run_settle(struct run *run, size_t idx)
{
    struct hret_outcome *o = run->jobs[idx].o;
    o->done = true;
    run->done++;
    run->errors += o->error_code != HRET_OK;
    if (run->p->external == NULL) {
        hret_run_release(run, idx);
    }
}

/* ---- scoring ---- */

bool hret_run_score(struct run *run, size_t idx, const char *text, struct hret_verdict *v)
{
    const struct hret_run_params *p = run->p;
    const struct hret_sample *s = run->jobs[idx].s;
    struct hret_err err = HRET_ERR_INIT;
    if (p->external != NULL) {
        return true; /* scored as a batch at the end (score_external) */
    }
    if (p->evaluator->score(p->evaluator_state, text, s->reference, &s->options, v, &err) !=
        HRET_OK) {
        hret_run_fail(run->jobs[idx].o, err.code, "scoring failed", err.msg);
        return false;
    }
    return true;
}

/* Self-consistency: scores every path and keeps the majority's verdict and raw output. */
void hret_run_vote(struct run *run, size_t idx)
{
    struct hret_outcome *o = run->jobs[idx].o;
    size_t n = o->paths.count;
    struct hret_verdict *v = hret_xcalloc(n, sizeof *v);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ok = hret_run_score(run, idx, o->paths.items[i], &v[i]);
        if (ok) {
            hret_strlist_push(&o->path_answers,
                              hret_xstrdup(v[i].normalized_pred ? v[i].normalized_pred : ""));
        }
    }
    if (ok) {
        size_t win = hret_run_majority((const char *const *)o->path_answers.items, n, NULL);
        o->verdict = v[win];
        memset(&v[win], 0, sizeof v[win]);
        o->prediction = hret_xstrdup(o->paths.items[win]);
    }
    for (size_t i = 0; i < n; i++) {
        hret_verdict_fini(&v[i]);
    }
    free(v);
}

/* Log-likelihood: the option with the highest sum (first on ties), stripped, is the answer. */
void hret_run_pick_option(struct run *run, size_t idx)
{
    struct hret_outcome *o = run->jobs[idx].o;
    const struct hret_strlist *options = &run->jobs[idx].s->options;
    size_t best = 0;
    for (size_t i = 1; i < o->n_option_logprobs; i++) {
        best = o->option_logprobs[i] > o->option_logprobs[best] ? i : best;
    }
    const char *opt = options->items[best];
    size_t off = 0, len = 0;
    hret_utf8_strip(opt, strlen(opt), &off, &len); /* HRET: .strip() */
    o->prediction = hret_xstrndup(opt + off, len);
    hret_run_score(run, idx, o->prediction, &o->verdict);
}

/* A failed language gate marks the scored answer wrong. */
void hret_run_apply_gate(struct hret_outcome *o)
{
    if (o->gate == HRET_GATE_FAILED) {
        o->gate_flipped = o->verdict.correct;
        o->verdict.correct = false;
    }
}

/* The language penalizer and, when asked, the gate; then the sample is done. */
void hret_run_finish(struct run *run, size_t idx)
{
    const struct hret_run_params *p = run->p;
    struct hret_outcome *o = run->jobs[idx].o;
    if (o->error_code == HRET_OK && p->language_threshold >= 0) {
        o->language_penalizer = hret_eval_hangul_share(o->prediction) >= p->language_threshold;
        if (p->language_gate) {
            o->gate = o->language_penalizer > 0 ? HRET_GATE_PASSED : HRET_GATE_FAILED;
            if (p->external == NULL) {
                hret_run_apply_gate(o);
            }
        }
    }
    hret_run_settle(run, idx);
}

/* External evaluator: scores every answered sample in one batch; what it fails on becomes the
 * sample's error. */
void hret_run_score_external(struct run *run)
{
    size_t n = 0;
    size_t *idx = hret_xcalloc(run->count ? run->count : 1, sizeof *idx);
    for (size_t i = 0; i < run->count; i++) {
        if (run->jobs[i].o != NULL && run->jobs[i].o->done &&
            run->jobs[i].o->error_code == HRET_OK) {
            idx[n++] = i;
        }
    }
    struct hret_eval_external_item *items = hret_xcalloc(n ? n : 1, sizeof *items);
    struct hret_verdict *verdicts = hret_xcalloc(n ? n : 1, sizeof *verdicts);
    char **errors = hret_xcalloc(n ? n : 1, sizeof *errors);
    for (size_t k = 0; k < n; k++) {
        items[k] =
            (struct hret_eval_external_item){run->jobs[idx[k]].s, run->jobs[idx[k]].o->prediction};
    }
    struct hret_err err = HRET_ERR_INIT;
    hret_eval_external_score(run->p->external, run->p->external_params, items, n, verdicts, errors,
                             &err);
    for (size_t k = 0; k < n; k++) {
        struct hret_outcome *o = run->jobs[idx[k]].o;
        if (errors[k] != NULL) {
            hret_run_fail(o, HRET_E_PROTO, errors[k], "");
            run->errors++;
            free(errors[k]);
            continue;
        }
        o->verdict = verdicts[k];
        hret_run_apply_gate(o);
    }
    free(errors);
    free(verdicts);
    free(items);
    free(idx);
}
