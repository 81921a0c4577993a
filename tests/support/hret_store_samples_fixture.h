/* Synthetic samples and outcomes for the store's tests (header-only): every field the store
 * keeps is exercised (subsets and none, metadata and none, errors, unfinished samples, scores,
 * parse failures, language penalties, Korean text with tabs, newlines, quotes, backslashes).
 * kind 2 adds the scoring modes' fields (option log-probs, self-consistency paths, judge,
 * language gate); kind 3 hostile text: SQL in the input and invalid UTF-8 in a prediction. */
#ifndef HRET_STORE_SAMPLES_FIXTURE_H
#define HRET_STORE_SAMPLES_FIXTURE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hret_judge.h"
#include "hret_mem.h"
#include "hret_outcome.h"
#include "hret_sample.h"

struct fixture {
    struct hret_sample *samples;
    struct hret_outcome *outcomes;
    size_t n, not_done;
};

static inline void fixture_sample(struct hret_sample *s, size_t i, int kind)
{
    static const char *const subsets[] = {"Law", "Tax", NULL};
    s->idx = i;
    s->subset = hret_xstrdup(subsets[i % 3]);
    s->id = hret_xasprintf("%s/test/%zu", s->subset ? s->subset : "all", i);
    s->input = kind == 3 && i == 1 ? hret_xstrdup("'); DELETE FROM samples; --\t\\N")
                                   : hret_xasprintf("문제 %zu: 다음 중 옳은 것은?\n\tA. \"가\" \\ "
                                                    "'나'\r\nB. 다\n정답:",
                                                    i);
    s->reference = hret_xstrdup(i % 2 ? "(B)" : "(A)");
    if (i % 7 != 3) {
        const char *opts[] = {"가", "나", "다", "라"};
        for (int k = 0; k < 4; k++) {
            hret_strlist_push(&s->options, hret_xstrdup(opts[k]));
        }
    }
    if (i % 4 == 0) {
        s->metadata = cJSON_CreateObject();
        cJSON_AddNumberToObject(s->metadata, "row", (double)i);
        cJSON_AddStringToObject(s->metadata, "Category", "법률 \"quoted\"");
        cJSON *arr = cJSON_AddArrayToObject(s->metadata, "list");
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(1.5));
        cJSON_AddItemToArray(arr, cJSON_CreateNull());
    }
}

static inline void fixture_modes(struct hret_outcome *o, size_t i)
{
    if (i % 8 == 1) {
        static const double lp[] = {-1.25, -0.50000000000000011, -3.0e-9};
        o->option_logprobs = hret_xcalloc(3, sizeof *o->option_logprobs);
        memcpy(o->option_logprobs, lp, sizeof lp);
        o->n_option_logprobs = 3;
    } else if (i % 8 == 2) {
        hret_strlist_push(&o->paths, hret_xstrdup("첫째 경로\n정답 (A)"));
        hret_strlist_push(&o->paths, hret_xstrdup("second \"path\""));
        hret_strlist_push(&o->path_answers, hret_xstrdup("(a)"));
        hret_strlist_push(&o->path_answers, hret_xstrdup(""));
    } else if (i % 8 == 3) {
        o->judge_type = hret_judge_type_name(HRET_JUDGE_RUBRIC);
        o->judge_prompt = hret_xasprintf("평가하시오 %zu", i);
        o->judge_output = i % 16 == 3 ? NULL : hret_xstrdup("[RESULT] 4");
    } else if (i % 8 == 4) {
        o->gate = i % 16 == 4 ? HRET_GATE_PASSED : HRET_GATE_FAILED;
        o->gate_flipped = i % 16 != 4;
    }
}

static inline void fixture_outcome(struct hret_outcome *o, size_t i, int kind)
{
    o->language_penalizer = i % 6 == 0 ? 1.0 : NAN;
    o->verdict.score = i % 5 == 0 ? 0.5 : NAN;
    o->latency_ms = 1.2345678901234 * (double)i;
    o->attempts = 1 + (int)(i % 3);
    o->done = i % 97 != 96;
    if (i % 11 == 5) {
        o->error_code = i % 2 ? HRET_E_UNAVAILABLE : HRET_E_PROTO;
        o->error = hret_xasprintf("HTTP 500: boom %zu\n'quoted'", i);
        return;
    }
    o->prediction = kind == 3 && i == 2 ? hret_xstrdup("bad \xff byte")
                                        : hret_xasprintf("정답은 (%c)입니다.\n", i % 2 ? 'B' : 'A');
    o->finish_reason = i % 13 == 0 ? NULL : hret_xstrdup("stop");
    o->prompt_tokens = (long)(100 + i);
    o->completion_tokens = (long)(i % 9);
    o->verdict.correct = i % 3 != 0;
    o->verdict.parse_failure = i % 17 == 0;
    o->verdict.normalized_pred = hret_xstrdup(i % 2 ? "(b)" : "(a)");
    o->verdict.normalized_ref = hret_xstrdup(i % 2 ? "(b)" : "(a)");
    if (kind == 2) {
        fixture_modes(o, i);
    }
}

/* n samples (n may be 0); kind: 0 plain, 1 and 2 the same, 3 hostile. */
static inline void fixture_make(struct fixture *f, size_t n, int kind)
{
    f->n = n;
    f->not_done = 0;
    f->samples = hret_xcalloc(n ? n : 1, sizeof *f->samples);
    f->outcomes = hret_xcalloc(n ? n : 1, sizeof *f->outcomes);
    for (size_t i = 0; i < n; i++) {
        fixture_sample(&f->samples[i], i, kind);
        fixture_outcome(&f->outcomes[i], i, kind);
        f->not_done += !f->outcomes[i].done;
    }
}

static inline void fixture_free(struct fixture *f)
{
    for (size_t i = 0; i < f->n; i++) {
        hret_sample_fini(&f->samples[i]);
        hret_outcome_fini(&f->outcomes[i]);
    }
    free(f->samples);
    free(f->outcomes);
    memset(f, 0, sizeof *f);
}

#endif
