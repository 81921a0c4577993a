/* math_match: final-answer extraction and numeric comparison.
 *
 * HRET's math_match (hret.md §3.5) hands both sides to the math-verify package (sympy): it
 * parses LaTeX and expressions symbolically and checks equivalence. This is not a port of that;
 * it is a deterministic, dependency-free subset that agrees with it on the common cases:
 *
 * Extraction (prediction): the last \boxed{...} or \fbox{...} (balanced braces), else the
 * first answer marker of §3.1 ("Answer:", "정답:", ...) or GSM8K's "####" (the first line of
 * what follows), else the first line when it is a number, else the last number in the text.
 * When the reference is not a number, the last-number step is replaced by the first line (a
 * symbolic answer such as \frac{\pi}{2} has numbers inside that are not the answer).
 * The reference: boxed, marker, else its first line. HRET instead takes the marker's first line
 * and lets math-verify find the LaTeX in it; with its default latex_only a bare "18" may not be
 * extracted at all (hret.md §3.5).
 *
 * Normalisation: $...$, \(...\), \[...\], \text{} \mathrm{} \textbf{} \mathbf{} \boxed{}
 * unwrapped; \left \right \, \; \! and spaces dropped; ^\circ, ^{\circ}, ° dropped; \dfrac and
 * \tfrac read as \frac; a leading single-letter "x =" dropped; a final "." dropped.
 * Numbers: thousands separators 1,234,567 (groups of three only), decimals, a/b, \frac{a}{b},
 * \frac12, a sign, and a trailing % which is ignored: 50% equals 50 (our choice: answers are
 * usually written with or without the sign for the same quantity, rarely as 0.5). Two numbers
 * are equal within a relative tolerance (rel_tol, default 1e-9). Anything else compares as the
 * normalised string, so x+1 and 1+x, or 12\text{ cm} and 12, differ here where sympy may call
 * them equal; no units, sets, intervals, matrices or symbolic simplification.
 *
 * parse_failure: nothing could be extracted from the prediction (no boxed, no marker, no
 * number). Then, like HRET's fallback, the prediction's first line is compared as a string.
 *
 * Parameters: extract_final_answer (default true), rel_tol; HRET's latex_only, expr_only and
 * answer_patterns are accepted for configuration compatibility and have no effect. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_eval.h"
#include "hret_mem.h"
#include "hret_utf8.h"

struct math_state {
    bool extract_final_answer;
    double rel_tol;
};

struct answer {
    char *text; /* normalised, owned */
    bool numeric;
    double value;
};

/* ---- extraction ---- */

/* The index just past the brace that closes the one at s[open], or 0 if unbalanced. */
static size_t close_brace(const char *s, size_t n, size_t open)
{
    int depth = 0;
    for (size_t i = open; i < n; i++) {
        depth += s[i] == '{' ? 1 : s[i] == '}' ? -1 : 0;
        if (depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* The content of the last balanced \boxed{...} or \fbox{...}. */
static bool last_boxed(const char *s, size_t n, size_t *off, size_t *len)
{
    static const char *const cmds[] = {"\\boxed{", "\\fbox{"};
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < 2; c++) {
            size_t k = strlen(cmds[c]);
            if (n - i < k || memcmp(s + i, cmds[c], k) != 0) {
                continue;
            }
            size_t end = close_brace(s, n, i + k - 1);
            if (end > 0) {
                *off = i + k;
                *len = end - 1 - *off;
                found = true;
            }
        }
    }
    return found;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* ",ddd" at s[j], not followed by another digit. */
static bool comma_group(const char *s, size_t n, size_t j)
{
    return j + 3 < n && s[j] == ',' && is_digit(s[j + 1]) && is_digit(s[j + 2]) &&
           is_digit(s[j + 3]) && (j + 4 >= n || !is_digit(s[j + 4]));
}

static size_t skip_digits(const char *s, size_t n, size_t j)
{
    while (j < n && is_digit(s[j])) {
        j++;
    }
    return j;
}

/* A number token at s[i] ("-1,234.5", "3/4", ".5"): its length, or 0. A '-' is a sign only
 * after a non-alphanumeric character ("x-5" is a difference). */
static size_t number_at(const char *s, size_t n, size_t i)
{
    size_t j = i;
    if (s[j] == '-') {
        if (i > 0 && is_alnum(s[i - 1])) {
            return 0;
        }
        j++;
    }
    size_t first = j;
    j = skip_digits(s, n, j);
    while (j > first && j - first <= 3 && comma_group(s, n, j)) {
        j += 4;
        first = j - 3; /* every later group is three digits too */
    }
    if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
        j = skip_digits(s, n, j + 1);
    }
    if (j == i || (j == i + 1 && s[i] == '-')) {
        return 0;
    }
    if (j + 1 < n && s[j] == '/' && is_digit(s[j + 1])) {
        j = skip_digits(s, n, j + 1);
    }
    return j - i;
}

static bool last_number(const char *s, size_t n, size_t *off, size_t *len)
{
    bool found = false;
    for (size_t i = 0; i < n;) {
        size_t k = i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.') ? 0 : number_at(s, n, i);
        if (k > 0) {
            *off = i;
            *len = k;
            found = true;
        }
        i += k > 0 ? k : 1;
    }
    return found;
}

/* The first non-blank line of s[off, off+len), stripped, as a new span. */
static void first_line(const char *s, size_t *off, size_t *len)
{
    size_t pos = 0, l_off, l_len, a = 0, b = 0;
    while (hret_utf8_next_line(s + *off, *len, &pos, &l_off, &l_len)) {
        hret_utf8_strip(s + *off + l_off, l_len, &a, &b);
        if (b > 0) {
            *off += l_off + a;
            *len = b;
            return;
        }
    }
    *len = 0;
}

/* Boxed, then a marker ("Answer:", "####"); the span of the answer. */
static bool marked_answer(const struct math_state *st, const char *s, size_t n, size_t *off,
                          size_t *len)
{
    if (last_boxed(s, n, off, len)) {
        return true;
    }
    const char *hashes = strstr(s, "####");
    if (st->extract_final_answer &&
        hret_eval_find_answer(s, n, HRET_EVAL_MARKER_FIRST, off, len, NULL)) {
        first_line(s, off, len);
        return *len > 0;
    }
    if (hashes != NULL) {
        *off = (size_t)(hashes - s) + 4;
        *len = n - *off;
        first_line(s, off, len);
        return *len > 0;
    }
    return false;
}

/* ---- normalisation ---- */

/* Deletes s[at, at+k) in place. */
static void cut(char *s, size_t *n, size_t at, size_t k)
{
    memmove(s + at, s + at + k, *n - at - k + 1);
    *n -= k;
}

static bool has_prefix(const char *s, size_t n, size_t i, const char *word)
{
    size_t k = strlen(word);
    return n - i >= k && memcmp(s + i, word, k) == 0;
}

/* Every `from` becomes `to` (not longer than from), in place. */
static void replace_all(char *s, size_t *n, const char *from, const char *to)
{
    size_t kf = strlen(from), kt = strlen(to);
    for (size_t i = 0; i + kf <= *n;) {
        if (memcmp(s + i, from, kf) == 0) {
            memcpy(s + i, to, kt);
            cut(s, n, i + kt, kf - kt);
            i += kt;
        } else {
            i++;
        }
    }
}

/* \cmd{X} -> X wherever the braces balance. */
static void unwrap(char *s, size_t *n, const char *cmd)
{
    size_t k = strlen(cmd);
    for (size_t i = 0; i < *n; i++) {
        size_t end = has_prefix(s, *n, i, cmd) ? close_brace(s, *n, i + k - 1) : 0;
        if (end > 0) {
            cut(s, n, end - 1, 1);
            cut(s, n, i, k);
        }
    }
}

/* Removes one pair of math delimiters around the whole text. */
static void strip_delimiters(char *s, size_t *n)
{
    static const char *const pairs[][2] = {
        {"$$", "$$"}, {"$", "$"}, {"\\(", "\\)"}, {"\\[", "\\]"}};
    for (size_t p = 0; p < 4; p++) {
        size_t a = strlen(pairs[p][0]), b = strlen(pairs[p][1]);
        if (*n >= a + b && has_prefix(s, *n, 0, pairs[p][0]) &&
            memcmp(s + *n - b, pairs[p][1], b) == 0) {
            cut(s, n, *n - b, b);
            cut(s, n, 0, a);
            return;
        }
    }
}

static void drop_spaces(char *s, size_t *n)
{
    size_t o = 0;
    for (size_t i = 0; i < *n;) {
        uint32_t cp;
        size_t k = hret_utf8_decode(s + i, *n - i, &cp);
        if (!hret_utf8_is_space(cp)) {
            memmove(s + o, s + i, k);
            o += k;
        }
        i += k;
    }
    s[o] = '\0';
    *n = o;
}

/* The LaTeX clean-up of the header comment, in place. */
static void clean(char *s, size_t *n)
{
    static const char *const wrappers[] = {"\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{",
                                           "\\boxed{"};
    static const char *const drops[] = {"\\left", "\\right", "\\,",           "\\;",
                                        "\\!",    "\\ ",     "^{\\circ}",     "^\\circ",
                                        "\\circ", "°",       "\\displaystyle"};
    strip_delimiters(s, n);
    for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++) {
        unwrap(s, n, wrappers[i]);
    }
    for (size_t i = 0; i < sizeof drops / sizeof drops[0]; i++) {
        replace_all(s, n, drops[i], "");
    }
    replace_all(s, n, "\\dfrac", "\\frac");
    replace_all(s, n, "\\tfrac", "\\frac");
    replace_all(s, n, "\\%", "%");
    drop_spaces(s, n);
    strip_delimiters(s, n);
    if (*n >= 2 && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == '=') {
        cut(s, n, 0, 2); /* x=5 */
    }
    if (*n > 1 && s[*n - 1] == '.') {
        cut(s, n, *n - 1, 1);
    }
}

/* A plain number "1,234.5" / ".5" spanning s[i, end); commas only in groups of three. */
static bool plain_number(const char *s, size_t i, size_t end, double *v)
{
    size_t k = end > i && s[i] == '-' ? 1 : 0;
    if (number_at(s, end, i) != end - i || memchr(s + i, '/', end - i) != NULL || end == i + k) {
        return false;
    }
    char buf[64];
    size_t o = 0;
    for (size_t j = i; j < end && o + 1 < sizeof buf; j++) {
        if (s[j] != ',') {
            buf[o++] = s[j];
        }
    }
    buf[o] = '\0';
    *v = strtod(buf, NULL);
    return true;
}

/* \frac{a}{b} or \frac12 after the sign at s[i]. */
static bool frac_number(const char *s, size_t n, size_t i, double *v)
{
    double a, b;
    i += strlen("\\frac");
    if (n - i == 2 && is_digit(s[i]) && is_digit(s[i + 1])) {
        *v = (double)(s[i] - '0') / (double)(s[i + 1] - '0');
        return true;
    }
    size_t a_end = i < n && s[i] == '{' ? close_brace(s, n, i) : 0;
    size_t b_end = a_end > 0 && a_end < n && s[a_end] == '{' ? close_brace(s, n, a_end) : 0;
    if (b_end != n || !plain_number(s, i + 1, a_end - 1, &a) ||
        !plain_number(s, a_end + 1, b_end - 1, &b)) {
        return false;
    }
    *v = a / b;
    return true;
}

/* The whole of s as a number (after clean()). */
static bool parse_value(const char *s, size_t n, double *v)
{
    if (n > 0 && s[n - 1] == '%') {
        n--; /* 50% = 50 */
    }
    size_t i = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    double sign = s[0] == '-' ? -1.0 : 1.0, a, b;
    const char *slash = memchr(s + i, '/', n - i);
    bool ok;
    if (has_prefix(s, n, i, "\\frac")) {
        ok = frac_number(s, n, i, &a);
    } else if (slash != NULL) {
        size_t at = (size_t)(slash - s);
        ok = plain_number(s, i, at, &a) && plain_number(s, at + 1, n, &b);
        a = ok ? a / b : a;
    } else {
        ok = plain_number(s, i, n, &a);
    }
    if (ok) {
        *v = sign * a;
    }
    return ok && isfinite(*v);
}

/* The normalised answer for s[off, off+len). */
static struct answer normalise(const char *s, size_t off, size_t len)
{
    struct answer a = {hret_xstrndup(s + off, len), false, 0.0};
    size_t n = len;
    clean(a.text, &n);
    a.numeric = parse_value(a.text, n, &a.value);
    if (a.numeric) {
        free(a.text);
        a.text = fabs(a.value) < 1e15 && a.value == floor(a.value)
                     ? hret_xasprintf("%.0f", a.value == 0 ? 0.0 : a.value)
                     : hret_xasprintf("%.15g", a.value);
    }
    return a;
}

/* ---- the evaluator ---- */

static void math_destroy(void *state)
{
    free(state);
}

static enum hret_result set_param(struct math_state *st, const cJSON *item, struct hret_err *err)
{
    const char *key = item->string;
    bool ignored;
    if (strcmp(key, "extract_final_answer") == 0) {
        return hret_eval_param_bool(item, &st->extract_final_answer, err);
    }
    if (strcmp(key, "latex_only") == 0 || strcmp(key, "expr_only") == 0) {
        return hret_eval_param_bool(item, &ignored, err);
    }
    if (strcmp(key, "answer_patterns") == 0) {
        return HRET_OK; /* stored but never used by HRET either */
    }
    if (strcmp(key, "rel_tol") == 0) {
        if (!cJSON_IsNumber(item) || !(item->valuedouble >= 0) || !isfinite(item->valuedouble)) {
            return hret_err_set(err, HRET_E_INVAL, "parameter 'rel_tol' must be a number >= 0");
        }
        st->rel_tol = item->valuedouble;
        return HRET_OK;
    }
    return hret_err_set(err, HRET_E_INVAL,
                        "unknown parameter '%s' for math_match (known: extract_final_answer, "
                        "rel_tol, latex_only, expr_only, answer_patterns)",
                        key);
}

static enum hret_result math_init(const cJSON *params, void **state, struct hret_err *err)
{
    struct math_state *st = hret_xcalloc(1, sizeof *st);
    st->extract_final_answer = true;
    st->rel_tol = 1e-9;
    if (params != NULL && !cJSON_IsNull(params) && !cJSON_IsObject(params)) {
        free(st);
        return hret_err_set(err, HRET_E_INVAL, "math_match: params must be a JSON object");
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, params)
    {
        if (set_param(st, item, err) != HRET_OK) {
            free(st);
            return HRET_E_INVAL;
        }
    }
    *state = st;
    return HRET_OK;
}

static struct answer reference_answer(const struct math_state *st, const char *ref)
{
    size_t n = strlen(ref), off = 0, len = n;
    if (!marked_answer(st, ref, n, &off, &len)) {
        off = 0;
        len = n;
        first_line(ref, &off, &len);
    }
    return normalise(ref, off, len);
}

/* The prediction's answer; *failed when nothing could be extracted (then its first line). */
static struct answer prediction_answer(const struct math_state *st, const char *pred,
                                       bool symbolic_ref, bool *failed)
{
    size_t n = strlen(pred), off = 0, len = n;
    *failed = false;
    if (marked_answer(st, pred, n, &off, &len)) {
        return normalise(pred, off, len);
    }
    off = 0;
    len = n;
    if (symbolic_ref) {
        first_line(pred, &off, &len);
        *failed = len == 0;
        return normalise(pred, off, len);
    }
    first_line(pred, &off, &len);
    struct answer line = normalise(pred, off, len);
    if (line.numeric) {
        return line; /* the first line is itself a number, as in HRET's extract_answer */
    }
    free(line.text);
    off = 0;
    len = n;
    if (last_number(pred, n, &off, &len)) {
        return normalise(pred, off, len);
    }
    *failed = true;
    off = 0;
    len = n;
    first_line(pred, &off, &len);
    return normalise(pred, off, len);
}

static bool same(const struct math_state *st, const struct answer *a, const struct answer *b)
{
    if (a->numeric && b->numeric) {
        double scale = fmax(fabs(a->value), fabs(b->value));
        return a->value == b->value || fabs(a->value - b->value) <= st->rel_tol * scale;
    }
    return strcmp(a->text, b->text) == 0;
}

static enum hret_result math_score(const void *state, const char *prediction, const char *reference,
                                   const struct hret_strlist *options, struct hret_verdict *out,
                                   struct hret_err *err)
{
    const struct math_state *st = state;
    (void)options;
    (void)err;
    struct answer ref = reference_answer(st, reference ? reference : "");
    bool failed;
    struct answer pred = prediction_answer(st, prediction ? prediction : "", !ref.numeric, &failed);
    bool correct = same(st, &pred, &ref);
    *out = (struct hret_verdict){correct, failed, correct ? 1.0 : 0.0, pred.text, ref.text};
    return HRET_OK;
}

const struct hret_evaluator_ops hret_eval_math_match = {
    "math_match",
    math_init,
    math_score,
    math_destroy,
};
