/* The evaluator registry, HRET's answer markers, and the Hangul share. */
#include "hret_eval.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hret_utf8.h"

/* The registry: add a new evaluator here and in its own hret_eval_<name>.c. */
static const struct hret_evaluator_ops *const evaluators[] = {
    &hret_eval_string_match,   &hret_eval_partial_match, &hret_eval_math_match,
    &hret_eval_log_likelihood, &hret_eval_llm_judge,
};

#define N_EVALUATORS (sizeof evaluators / sizeof evaluators[0])

const struct hret_evaluator_ops *hret_eval_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < N_EVALUATORS; i++) {
        if (strcmp(evaluators[i]->name, name) == 0) {
            return evaluators[i];
        }
    }
    return NULL;
}

const struct hret_evaluator_ops *hret_eval_at(size_t i)
{
    return i < N_EVALUATORS ? evaluators[i] : NULL;
}

const char *hret_eval_names(char *buf, size_t cap)
{
    size_t used = 0;
    if (cap > 0) {
        buf[0] = '\0';
    }
    for (size_t i = 0; i < N_EVALUATORS && used < cap; i++) {
        int k = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", evaluators[i]->name);
        used += k > 0 ? (size_t)k : 0;
    }
    return buf;
}

enum hret_result hret_eval_param_bool(const cJSON *item, bool *out, struct hret_err *err)
{
    if (!cJSON_IsBool(item)) {
        return hret_err_set(err, HRET_E_INVAL, "parameter '%s' must be true or false",
                            item->string ? item->string : "?");
    }
    *out = cJSON_IsTrue(item);
    return HRET_OK;
}

double hret_eval_hangul_share(const char *text)
{
    return text == NULL ? 0.0 : hret_utf8_hangul_share(text, strlen(text));
}

/* ---- MULTILINGUAL_ANSWER_PATTERN ---- */

/* HRET's alternation in its order. In a spec a space stands for \s* and '：' for [:：]; every
 * other character matches case-insensitively (hret_utf8_fold). key is the fold of the first
 * character, a quick filter (the unit test checks each marker matches itself). */
struct marker_spec {
    const char *spec;
    uint32_t key;
};

static const struct marker_spec markers[] = {
    {"Answer :", 'a'},    {"Final Answer :", 'f'}, {"답변 :", 0xB2F5},  {"정답 :", 0xC815},
    {"정답은 :", 0xC815}, {"답 :", 0xB2F5},        {"답은 :", 0xB2F5},  {"답안 :", 0xB2F5},
    {"答案 ：", 0x7B54},  {"解答 ：", 0x89E3},     {"回答 ：", 0x56DE}, {"答 ：", 0x7B54},
    {"Jawaban :", 'j'},   {"Réponse :", 'r'},      {"Resposta :", 'r'}, {"Jibu :", 'j'},
    {"Idahun :", 'i'},    {"Ìdáhùn :", 0xEC},      {"Idáhùn :", 'i'},   {"Àmọ̀nà :", 0xE0},
    {"Àdáhùn :", 0xE0},   {"Ànúgọ :", 0xE0},       {"Àṣàyàn :", 0xE0},
};

#define N_MARKERS (sizeof markers / sizeof markers[0])
#define FULLWIDTH_COLON 0xFF1Au

static uint32_t fold(uint32_t cp)
{
    return hret_utf8_fold(cp);
}

/* Some marker starts with a character whose fold is key (the hot loop's filter). */
static bool marker_key(uint32_t key)
{
    switch (key) {
    case 'a':
    case 'f':
    case 'i':
    case 'j':
    case 'r':
    case 0xE0:
    case 0xEC:
    case 0x56DE:
    case 0x7B54:
    case 0x89E3:
    case 0xB2F5:
    case 0xC815:
        return true;
    default:
        return false;
    }
}

static size_t skip_space(const char *s, size_t n, size_t i)
{
    while (i < n) {
        uint32_t cp;
        size_t k = hret_utf8_decode(s + i, n - i, &cp);
        if (!hret_utf8_is_space(cp)) {
            break;
        }
        i += k;
    }
    return i;
}

/* Matches spec at s[i]; returns the end of the marker or SIZE_MAX. */
static size_t match_spec(const char *spec, const char *s, size_t n, size_t i)
{
    size_t slen = strlen(spec);
    for (size_t j = 0; j < slen;) {
        uint32_t want, got;
        j += hret_utf8_decode(spec + j, slen - j, &want);
        if (want == ' ') {
            i = skip_space(s, n, i);
            continue;
        }
        if (i >= n) {
            return SIZE_MAX;
        }
        i += hret_utf8_decode(s + i, n - i, &got);
        bool ok = want == FULLWIDTH_COLON ? got == ':' || got == FULLWIDTH_COLON
                                          : fold(got) == fold(want);
        if (!ok) {
            return SIZE_MAX;
        }
    }
    return i;
}

/* The marker at s[i] whose `\s*(?P<content>.+)` can match: the end of the marker or SIZE_MAX. */
static size_t marker_at(const char *s, size_t n, size_t i, uint32_t key)
{
    for (size_t m = 0; m < N_MARKERS; m++) {
        if (markers[m].key != key) {
            continue;
        }
        size_t end = match_spec(markers[m].spec, s, n, i);
        if (end < n) { /* .+ needs one character, which \s* gives back if it must */
            return end;
        }
    }
    return SIZE_MAX;
}

bool hret_eval_find_answer(const char *s, size_t n, enum hret_eval_marker which, size_t *off,
                           size_t *len, size_t *marker_off)
{
    bool found = false;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = hret_utf8_decode(s + i, n - i, &cp);
        uint32_t key = fold(cp);
        size_t end = marker_key(key) ? marker_at(s, n, i, key) : SIZE_MAX;
        size_t a_off = 0, a_len = 0;
        if (end != SIZE_MAX) {
            hret_utf8_strip(s + end, n - end, &a_off, &a_len);
        }
        /* FIRST: the first marker. LAST: the last one with an answer, else the first. */
        if (end != SIZE_MAX && (!found || a_len > 0)) {
            *off = end + a_off;
            *len = a_len;
            if (marker_off != NULL) {
                *marker_off = i;
            }
            found = true;
        }
        if (found && which == HRET_EVAL_MARKER_FIRST) {
            break;
        }
        i += k;
    }
    return found;
}
