/* LLM-as-a-judge (reference/hret.md §3.6): the judge types, the prompt a judge model is sent for
 * one answer, and the parsing of what it says. Pure: no I/O, no globals.
 *
 * Parsing follows HRET's regexes, first match wins, and never guesses:
 *   k2_eval                   Score:\s*(\d+(?:\.\d+)?)         -> score
 *   rubric_and_response       \[RESULT\]\s*(\d+(?:\.\d+)?)     -> score (HRET's HF-judge regex;
 *                             HRET's OpenAI judge yields no metric for this type, quirk 10: fixed)
 *   rubric_response_and_gold  [[true]] / [[false]]              -> correct (HRET never parses it:
 *                             fixed)
 *   response_comparison       \[\[([AB])\]\]                    -> winner; correct = winner ==
 *                             the stripped reference
 * \s and \d are Python's Unicode classes (any Nd digit counts, e.g. "４"). A judgement without a
 * match is a parse failure: no score, not correct.
 *
 * The prompt texts are our own. hret.md gives only the outline of HRET's pairwise prompt
 * (instruction, response A, response B, "[[A]] or [[B]]"), which ours follows; the other three
 * are written from hret.md's description of what each template asks for. */
#ifndef HRET_JUDGE_H
#define HRET_JUDGE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "hret_err.h"
#include "hret_sample.h"

enum hret_judge_type {
    HRET_JUDGE_K2_EVAL,     /* "k2_eval": Korean rubric, "Score: n" (1-5) */
    HRET_JUDGE_RUBRIC,      /* "rubric_and_response": "[RESULT] n" (1-5) */
    HRET_JUDGE_RUBRIC_GOLD, /* "rubric_response_and_gold": "[[true]]" / "[[false]]" */
    HRET_JUDGE_PAIRWISE,    /* "response_comparison": "[[A]]" / "[[B]]" */
};

/* What the prompt is built from; every field borrowed and nullable (NULL reads as ""). Values
 * are stripped, as HRET does. */
struct hret_judge_input {
    const char *input;      /* the question or instruction */
    const char *response;   /* the answer under judgement (response A) */
    const char *reference;  /* gold answer (rubric_response_and_gold) */
    const char *response_b; /* the other answer (response_comparison) */
    const char *rubric;     /* scoring rubric (rubric_*); "" uses a generic one */
};

/* HRET's name of a type ("k2_eval", ...); static string. */
const char *hret_judge_type_name(enum hret_judge_type t);
/* False when name (borrowed, nullable) is not one of the four names. */
bool hret_judge_type_parse(const char *name, enum hret_judge_type *out);

/* The `judge_type` member of an llm_judge params object (borrowed, nullable): *out = k2_eval
 * when absent. HRET_E_INVAL naming the valid values when it is not one of them, or naming the
 * key when params has any other member. */
enum hret_result hret_judge_params(const cJSON *params, enum hret_judge_type *out,
                                   struct hret_err *err);

/* The judge prompt. Caller owns result. */
char *hret_judge_prompt(enum hret_judge_type t, const struct hret_judge_input *in);

/* Reads a judgement (text and reference borrowed, nullable) into out (caller frees with
 * hret_verdict_fini): score (NAN unless k2_eval / rubric_and_response parsed one), correct
 * (pairwise: winner == reference; gold: [[true]]), parse_failure, normalized_pred = what was
 * parsed ("4", "4.5", "A", "true"; "" on a failure), normalized_ref = the stripped reference. */
void hret_judge_parse(enum hret_judge_type t, const char *text, const char *reference,
                      struct hret_verdict *out);

#endif
