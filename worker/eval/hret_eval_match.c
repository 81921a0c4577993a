/* string_match and partial_match (hret.md §3.2, §3.3), byte-identical to HRET by default,
 * including its double parse of the prediction. extraction: "robust" is our opt-in fix of
 * HRET's misses (see parse_robust). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hret_eval.h"
#include "hret_eval_regex.h"
#include "hret_mem.h"
#include "hret_utf8.h"

struct match_state {
    const char *name;
    bool partial;
    bool ignore_case, ignore_punctuation, ignore_numbers, extract_final_answer, mcqa;
    bool robust;
    struct hret_eval_regex **regexes;
    size_t nregexes;
};

/* An owned string and its length. */
struct text {
    char *s;
    size_t n;
};

static struct text text_dup(const char *s, size_t n)
{
    return (struct text){hret_xstrndup(s, n), n};
}

static void text_set(struct text *t, char *s, size_t n)
{
    free(t->s);
    t->s = s;
    t->n = n;
}

/* Deletes every byte in set (ASCII only, so UTF-8 stays intact). */
static void delete_bytes(struct text *t, const char *set)
{
    size_t o = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->s[i] == '\0' || strchr(set, t->s[i]) == NULL) {
            t->s[o++] = t->s[i];
        }
    }
    t->s[o] = '\0';
    t->n = o;
}

/* HRET's _normalize_text. Takes ownership of t's string; the result replaces it. */
static enum hret_result normalize(const struct match_state *st, struct text *t,
                                  struct hret_err *err)
{
    static const char punctuation[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    for (size_t i = 0; i < st->nregexes; i++) {
        char *out;
        size_t len;
        if (hret_eval_regex_remove(st->regexes[i], t->s, t->n, &out, &len, err) != HRET_OK) {
            hret_err_prefix(err, "regexes_to_ignore[%zu]", i);
            return err != NULL ? err->code : HRET_E_INVAL;
        }
        text_set(t, out, len);
    }
    if (st->ignore_case) {
        size_t len;
        char *low = hret_utf8_lower(t->s, t->n, &len);
        text_set(t, low, len);
    }
    if (st->ignore_punctuation) {
        delete_bytes(t, punctuation);
    }
    if (st->ignore_numbers) {
        delete_bytes(t, "0123456789");
    }
    size_t len;
    char *sq = hret_utf8_squeeze_space(t->s, t->n, &len);
    text_set(t, sq, len);
    return HRET_OK;
}

/* re.sub(r"(\*\*|__|~~|`)", "", s), in place. */
static void strip_markdown(struct text *t)
{
    size_t o = 0;
    for (size_t i = 0; i < t->n;) {
        char c = t->s[i];
        if (i + 1 < t->n && (c == '*' || c == '_' || c == '~') && t->s[i + 1] == c) {
            i += 2;
        } else if (c == '`') {
            i++;
        } else {
            t->s[o++] = t->s[i++];
        }
    }
    t->s[o] = '\0';
    t->n = o;
}

/* string_match: the first non-blank line, stripped. partial_match: text.strip().splitlines()[0].
 * Replaces t. */
static void first_line(bool partial, struct text *t)
{
    size_t pos = 0, off = 0, len = 0, s_off = 0, s_len = 0;
    if (partial) {
        hret_utf8_strip(t->s, t->n, &s_off, &s_len);
        if (!hret_utf8_next_line(t->s + s_off, s_len, &pos, &off, &len)) {
            len = 0;
        }
        off += s_off;
    } else {
        bool found = false;
        while (!found && hret_utf8_next_line(t->s, t->n, &pos, &s_off, &s_len)) {
            hret_utf8_strip(t->s + s_off, s_len, &off, &len);
            off += s_off;
            found = len > 0;
        }
        len = found ? len : 0;
    }
    memmove(t->s, t->s + off, len);
    t->s[len] = '\0';
    t->n = len;
}

/* HRET's parse_prediction: extraction, markdown removal (string_match), one line, normalise.
 * Caller owns *out. */
static enum hret_result parse_hret(const struct match_state *st, const char *s, size_t n,
                                   struct text *out, struct hret_err *err)
{
    size_t off = 0, len = n;
    if (st->extract_final_answer) {
        hret_eval_find_answer(s, n, HRET_EVAL_MARKER_FIRST, &off, &len, NULL);
    }
    *out = text_dup(s + off, len);
    if (!st->partial) {
        strip_markdown(out);
    }
    first_line(st->partial, out);
    return normalize(st, out, err);
}

/* ---- robust extraction ---- */

/* Full-width ASCII (U+FF01-FF5E) to ASCII and U+3000 to a space, in place (never longer). */
static void fold_fullwidth(struct text *t)
{
    size_t o = 0;
    for (size_t i = 0; i < t->n;) {
        uint32_t cp = 0;
        unsigned char lead = (unsigned char)t->s[i];
        size_t k = lead == 0xEF || lead == 0xE3 ? hret_utf8_decode(t->s + i, t->n - i, &cp) : 1;
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            t->s[o++] = (char)(cp - 0xFEE0);
        } else if (cp == 0x3000) {
            t->s[o++] = ' ';
        } else {
            for (size_t j = 0; j < k; j++) {
                t->s[o++] = t->s[i + j];
            }
        }
        i += k;
    }
    t->s[o] = '\0';
    t->n = o;
}

static bool ascii_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static size_t skip_blanks(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    return i;
}

/* Length of an option letter "(B)", "( B )", "B)", "B." or "B" at s, or 0; ASCII only.
 * *letter (nullable) gets the letter. */
static size_t letter_token(const char *s, size_t n, char *letter)
{
    bool paren = n > 0 && s[0] == '(';
    size_t i = paren ? skip_blanks(s, n, 1) : 0;
    if (i >= n || !ascii_alpha(s[i])) {
        return 0;
    }
    if (letter != NULL) {
        *letter = s[i] >= 'a' ? (char)(s[i] - 32) : s[i];
    }
    i = paren ? skip_blanks(s, n, i + 1) : i + 1;
    if (paren && (i >= n || s[i] != ')')) {
        return 0;
    }
    if (i < n && (s[i] == ')' || s[i] == '.')) {
        i++;
    }
    return i;
}

/* An option letter that stands alone: followed by the end, a space, punctuation or Hangul
 * ("정답은 A입니다"), not by more letters ("정답은 Apple"). */
static bool standalone_letter(const char *s, size_t n)
{
    size_t k = letter_token(s, n, NULL);
    if (k == 0 || k == n) {
        return k > 0;
    }
    uint32_t cp;
    hret_utf8_decode(s + k, n - k, &cp);
    return hret_utf8_is_space(cp) || hret_utf8_is_hangul(cp) ||
           (cp < 0x80 && strchr(".,;:!?)", (int)cp));
}

/* The length of word (lower-case) if s starts with it, ASCII case-insensitively; else 0. */
static size_t starts_with_ci(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; word[i] != '\0'; i++) {
        if (i >= n || (s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i]) != word[i]) {
            return 0;
        }
    }
    return i;
}

/* The last "정답은 B", "답은 (B)", "answer is B" without a colon: start of the answer, or n. */
static size_t last_bare_marker(const char *s, size_t n, size_t *marker)
{
    static const char *const words[] = {"정답은", "답은", "정답", "answer is", "answer"};
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != (char)0xEC && s[i] != (char)0xEB && (s[i] | 0x20) != 'a') {
            continue; /* 정 and 답 start with 0xEC and 0xEB */
        }
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
            size_t k = starts_with_ci(s + i, n - i, words[w]);
            size_t a = k > 0 ? skip_blanks(s, n, i + k) : n;
            if (k > 0 && standalone_letter(s + a, n - a)) {
                best = a;
                *marker = i;
            }
        }
    }
    return best;
}

/* The last marker, with or without a colon. */
static void robust_answer(const char *s, size_t n, size_t *off, size_t *len)
{
    size_t c_off, c_len, c_marker = 0, b_marker = 0;
    bool colon = hret_eval_find_answer(s, n, HRET_EVAL_MARKER_LAST, &c_off, &c_len, &c_marker);
    size_t b_off = last_bare_marker(s, n, &b_marker);
    if (b_off < n && (!colon || b_marker > c_marker)) {
        hret_utf8_strip(s + b_off, n - b_off, off, len);
        *off += b_off;
    } else if (colon) {
        *off = c_off;
        *len = c_len;
    }
}

/* Drops emphasis left around the answer ("***(A)***" leaves "*(A)*") and the blanks inside. */
static void trim_emphasis(struct text *t)
{
    size_t a = 0, b = t->n;
    while (a < b && t->s[a] != '\0' && strchr("*_ \t", t->s[a]) != NULL) {
        a++;
    }
    while (b > a && t->s[b - 1] != '\0' && strchr("*_ \t", t->s[b - 1]) != NULL) {
        b--;
    }
    memmove(t->s, t->s + a, b - a);
    t->n = b - a;
    t->s[t->n] = '\0';
}

/* Drops a trailing "입니다." / "입니다" / "이다." / "이다" and the spaces before it. */
static void drop_copula(struct text *t)
{
    static const char *const tails[] = {"입니다.", "입니다", "이다.", "이다"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        size_t k = strlen(tails[i]);
        if (t->n >= k && memcmp(t->s + t->n - k, tails[i], k) == 0) {
            t->n -= k;
            while (t->n > 0 && (t->s[t->n - 1] == ' ' || t->s[t->n - 1] == '\t')) {
                t->n--;
            }
            t->s[t->n] = '\0';
            return;
        }
    }
}

/* The robust prediction parse (once, not twice): full-width forms folded, the last marker
 * (also "정답은 B" without a colon), HRET's markdown and line rules, leftover emphasis and a
 * trailing copula dropped, and when letters_ok an option letter written "(B)": a lone "B",
 * "b", "B.", "( B )" or "(B).", or "(B)", "B." or "B)" followed by the option's text. */
static enum hret_result parse_robust(const struct match_state *st, const char *s, size_t n,
                                     bool letters_ok, struct text *out, struct hret_err *err)
{
    struct text all = text_dup(s, n);
    fold_fullwidth(&all);
    size_t off = 0, len = all.n;
    if (st->extract_final_answer) {
        robust_answer(all.s, all.n, &off, &len);
    }
    *out = text_dup(all.s + off, len);
    free(all.s);
    if (!st->partial) {
        strip_markdown(out);
    }
    first_line(st->partial, out);
    trim_emphasis(out);
    drop_copula(out);
    char letter;
    size_t k = letter_token(out->s, out->n, &letter);
    bool marked = k > 1; /* "(B)", "B." or "B)": may be followed by the option's text */
    if (letters_ok && k > 0 &&
        (k == out->n || (k + 1 == out->n && out->s[k] == '.') ||
         (marked && (out->s[k] == ' ' || out->s[k] == '\t')))) {
        text_set(out, hret_xasprintf("(%c)", letter), 3);
    }
    return normalize(st, out, err);
}

/* "(X)": HRET's MCQA reference form. */
static bool letter_reference(const char *ref)
{
    size_t off, len;
    hret_utf8_strip(ref, strlen(ref), &off, &len);
    return len == 3 && ref[off] == '(' && ascii_alpha(ref[off + 1]) && ref[off + 2] == ')';
}

/* ---- the evaluator ---- */

static void match_destroy(void *state)
{
    struct match_state *st = state;
    if (st != NULL) {
        for (size_t i = 0; i < st->nregexes; i++) {
            hret_eval_regex_destroy(st->regexes[i]);
        }
        free(st->regexes);
        free(st);
    }
}

static enum hret_result set_regexes(struct match_state *st, const cJSON *item, struct hret_err *err)
{
    if (cJSON_IsNull(item)) {
        return HRET_OK; /* HRET's default is None */
    }
    if (!cJSON_IsArray(item)) {
        return hret_err_set(err, HRET_E_INVAL,
                            "parameter 'regexes_to_ignore' must be a list of strings");
    }
    size_t count = (size_t)cJSON_GetArraySize(item);
    st->regexes = hret_xcalloc(count + 1, sizeof *st->regexes);
    const cJSON *p;
    cJSON_ArrayForEach(p, item)
    {
        if (!cJSON_IsString(p)) {
            return hret_err_set(err, HRET_E_INVAL,
                                "parameter 'regexes_to_ignore' must be a list of strings");
        }
        if (hret_eval_regex_compile(p->valuestring, &st->regexes[st->nregexes], err) != HRET_OK) {
            hret_err_prefix(err, "parameter 'regexes_to_ignore'[%zu] \"%s\"", st->nregexes,
                            p->valuestring);
            return HRET_E_INVAL;
        }
        st->nregexes++;
    }
    return HRET_OK;
}

static enum hret_result set_extraction(struct match_state *st, const cJSON *item,
                                       struct hret_err *err)
{
    const char *v = cJSON_GetStringValue(item);
    if (v == NULL || (strcmp(v, "hret") != 0 && strcmp(v, "robust") != 0)) {
        return hret_err_set(err, HRET_E_INVAL,
                            "parameter 'extraction' must be \"hret\" or \"robust\"");
    }
    st->robust = strcmp(v, "robust") == 0;
    return HRET_OK;
}

static enum hret_result set_param(struct match_state *st, const cJSON *item, struct hret_err *err)
{
    const char *key = item->string;
    struct {
        const char *key;
        bool *field;
    } const bools[] = {
        {"ignore_case", &st->ignore_case},
        {"ignore_punctuation", &st->ignore_punctuation},
        {"ignore_numbers", &st->ignore_numbers},
        {"extract_final_answer", &st->extract_final_answer},
        {"mcqa", &st->mcqa},
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        if (strcmp(key, bools[i].key) == 0) {
            return hret_eval_param_bool(item, bools[i].field, err);
        }
    }
    if (strcmp(key, "regexes_to_ignore") == 0) {
        return set_regexes(st, item, err);
    }
    if (strcmp(key, "extraction") == 0) {
        return set_extraction(st, item, err);
    }
    return hret_err_set(err, HRET_E_INVAL,
                        "unknown parameter '%s' for %s (known: ignore_case, ignore_punctuation, "
                        "ignore_numbers, regexes_to_ignore, extract_final_answer, mcqa, "
                        "extraction)",
                        key, st->name);
}

static enum hret_result match_init(bool partial, const cJSON *params, void **state,
                                   struct hret_err *err)
{
    struct match_state *st = hret_xcalloc(1, sizeof *st);
    st->name = partial ? "partial_match" : "string_match";
    st->partial = partial;
    st->ignore_case = st->extract_final_answer = st->mcqa = true;
    if (params != NULL && !cJSON_IsNull(params) && !cJSON_IsObject(params)) {
        match_destroy(st);
        return hret_err_set(err, HRET_E_INVAL, "%s: params must be a JSON object",
                            partial ? "partial_match" : "string_match");
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, params)
    {
        if (set_param(st, item, err) != HRET_OK) {
            match_destroy(st);
            return HRET_E_INVAL;
        }
    }
    *state = st;
    return HRET_OK;
}

static enum hret_result string_init(const cJSON *params, void **state, struct hret_err *err)
{
    return match_init(false, params, state, err);
}

static enum hret_result partial_init(const cJSON *params, void **state, struct hret_err *err)
{
    return match_init(true, params, state, err);
}

/* ref is one of the normalised options (only normalisation: no extraction, no markdown). */
static enum hret_result in_options(const struct match_state *st, const struct text *ref,
                                   const struct hret_strlist *options, bool *found,
                                   struct hret_err *err)
{
    *found = false;
    for (size_t i = 0; i < options->count && !*found; i++) {
        const char *o = options->items[i] ? options->items[i] : "";
        struct text t = text_dup(o, strlen(o));
        enum hret_result r = normalize(st, &t, err);
        *found = r == HRET_OK && t.n == ref->n && memcmp(t.s, ref->s, t.n) == 0;
        free(t.s);
        if (r != HRET_OK) {
            return r;
        }
    }
    return HRET_OK;
}

/* The prediction as HRET compares it: parsed twice (BaseEvaluator.evaluate, then
 * evaluate_predictions), or parsed once the robust way. */
static enum hret_result parse_pred(const struct match_state *st, const char *pred, const char *ref,
                                   const struct hret_strlist *options, struct text *out,
                                   struct hret_err *err)
{
    if (st->robust) {
        bool letters_ok = (options != NULL && options->count > 0) || letter_reference(ref);
        return parse_robust(st, pred, strlen(pred), letters_ok, out, err);
    }
    struct text once = {0};
    enum hret_result r = parse_hret(st, pred, strlen(pred), &once, err);
    if (r == HRET_OK) {
        r = parse_hret(st, once.s, once.n, out, err);
    }
    free(once.s);
    return r;
}

static enum hret_result match_score(const void *state, const char *prediction,
                                    const char *reference, const struct hret_strlist *options,
                                    struct hret_verdict *out, struct hret_err *err)
{
    const struct match_state *st = state;
    const char *pred_in = prediction ? prediction : ""; /* HRET: None -> "" */
    const char *ref_in = reference ? reference : "";
    struct text pred = {0}, ref = {0};
    enum hret_result r = parse_pred(st, pred_in, ref_in, options, &pred, err);
    if (r == HRET_OK) {
        r = parse_hret(st, ref_in, strlen(ref_in), &ref, err);
    }
    bool correct = false;
    if (r == HRET_OK) {
        correct = st->partial ? strstr(pred.s, ref.s) != NULL : strcmp(pred.s, ref.s) == 0;
        if (correct && st->mcqa && options != NULL && options->count > 0) {
            r = in_options(st, &ref, options, &correct, err);
        }
    }
    if (r != HRET_OK) {
        free(pred.s);
        free(ref.s);
        return r;
    }
    *out = (struct hret_verdict){correct, false, correct ? 1.0 : 0.0, pred.s, ref.s};
    return HRET_OK;
}

const struct hret_evaluator_ops hret_eval_string_match = {
    "string_match",
    string_init,
    match_score,
    match_destroy,
};

const struct hret_evaluator_ops hret_eval_partial_match = {
    "partial_match",
    partial_init,
    match_score,
    match_destroy,
};
