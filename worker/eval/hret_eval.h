/* Evaluators: const vtables in a hand-written registry (hret_eval.c), one file each
 * (hret_eval_<name>.c). score() is pure, so a fixture folder can drive every evaluator. */
#ifndef HRET_EVAL_H
#define HRET_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_cfg.h"
#include "hret_err.h"
#include "hret_sample.h"

struct hret_evaluator_ops {
    const char *name; /* "string_match", "partial_match", "math_match", ... */
    /* params: a JSON object (borrowed, may be NULL). Unknown keys or wrong types -> HRET_E_INVAL
     * naming the key. Caller owns *state (release with destroy). */
    enum hret_result (*init)(const cJSON *params, void **state, struct hret_err *err);
    /* Pure: no I/O, no globals. prediction/reference/options borrowed (options may be NULL);
     * fills out (caller frees with hret_verdict_fini). */
    enum hret_result (*score)(const void *state, const char *prediction, const char *reference,
                              const struct hret_strlist *options, struct hret_verdict *out,
                              struct hret_err *err);
    void (*destroy)(void *state); /* NULL is a no-op */
};

extern const struct hret_evaluator_ops hret_eval_string_match;
extern const struct hret_evaluator_ops hret_eval_partial_match;
extern const struct hret_evaluator_ops hret_eval_math_match;
extern const struct hret_evaluator_ops hret_eval_log_likelihood;
extern const struct hret_evaluator_ops hret_eval_llm_judge;

/* The evaluator called name (borrowed), NULL if unknown. */
const struct hret_evaluator_ops *hret_eval_find(const char *name);
/* The i-th registered evaluator, NULL past the last: for --help and error messages. */
const struct hret_evaluator_ops *hret_eval_at(size_t i);
/* "string_match, partial_match, ..." written to buf (borrowed, cap bytes); returns buf. */
const char *hret_eval_names(char *buf, size_t cap);

/* Where HRET's MULTILINGUAL_ANSWER_PATTERN (hret.md §3.1) finds the answer in s[0..n).
 * HRET_EVAL_MARKER_FIRST is HRET's re.search: the leftmost marker ("Answer:", "정답:", "答案：",
 * ... case-insensitive as re.IGNORECASE) with at least one character after it. _LAST takes the
 * rightmost marker whose answer is not blank, or the first when all are (the robust mode). */
enum hret_eval_marker { HRET_EVAL_MARKER_FIRST, HRET_EVAL_MARKER_LAST };

/* s borrowed (UTF-8, invalid bytes allowed). On a match, *off and *len get the answer: the text
 * after the marker to the end, stripped (so possibly empty), and *marker_off (nullable) where
 * the marker starts; HRET's extract_final_answer() returns that answer. False (outputs
 * untouched) if there is none: HRET then keeps the whole text. */
bool hret_eval_find_answer(const char *s, size_t n, enum hret_eval_marker which, size_t *off,
                           size_t *len, size_t *marker_off);

/* Hangul syllables and jamo / all letters (Unicode L*) of text (borrowed, NUL-terminated); 0
 * when it has no letter. Deterministic: it replaces HRET's langdetect penalty (§3.8). */
double hret_eval_hangul_share(const char *text);

/* Reads a boolean object member (item borrowed); HRET_E_INVAL naming the key on another type.
 * Shared by the evaluators' init. */
enum hret_result hret_eval_param_bool(const cJSON *item, bool *out, struct hret_err *err);

#endif
