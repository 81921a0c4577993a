#include "hret_prompt.h"

#include <stdio.h>
#include <string.h>

#include "hret_mem.h"

/* ---- templates --------------------------------------------------------------------------- */

/* One step of the template scan: literal text up to the next brace, or one field. */
struct tmpl_token {
    const char *text; /* literal text or the field name (not NUL-terminated) */
    size_t len;
    bool field;
};

/* Reads the token at *p and advances past it; HRET_E_CONFIG on a syntax error. */
static enum hret_result tmpl_next(const char **p, struct tmpl_token *tok, struct hret_err *err)
{
    const char *s = *p;
    if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
        *tok = (struct tmpl_token){s, 1, false};
        *p = s + 2;
        return HRET_OK;
    }
    if (s[0] == '}') {
        return hret_err_set(err, HRET_E_CONFIG, "prompt template: single '}' encountered");
    }
    if (s[0] != '{') {
        size_t n = strcspn(s, "{}");
        *tok = (struct tmpl_token){s, n, false};
        *p = s + n;
        return HRET_OK;
    }
    const char *name = s + 1;
    size_t n = strcspn(name, "{}[].!:");
    if (name[n] != '}') {
        return hret_err_set(err, HRET_E_CONFIG,
                            name[n] == '\0' ? "prompt template: '{' without a closing '}'"
                                            : "prompt template: unsupported field syntax in "
                                              "'{%.40s' (only {name} fields are supported)",
                            name);
    }
    if (n == 0 || strspn(name, "0123456789") == n) {
        return hret_err_set(err, HRET_E_CONFIG,
                            "prompt template: positional field '{%.*s}' (use a name)", (int)n,
                            name);
    }
    *tok = (struct tmpl_token){name, n, true};
    *p = name + n + 1;
    return HRET_OK;
}

static const struct hret_prompt_var *find_var(const struct hret_prompt_var *vars, size_t nvars,
                                              const struct tmpl_token *tok)
{
    for (size_t i = 0; i < nvars; i++) {
        if (strlen(vars[i].name) == tok->len && memcmp(vars[i].name, tok->text, tok->len) == 0) {
            return &vars[i];
        }
    }
    return NULL;
}

enum hret_result hret_prompt_format(struct hret_buf *out, const char *tmpl,
                                    const struct hret_prompt_var *vars, size_t nvars, bool *missing,
                                    struct hret_err *err)
{
    const char *p = tmpl;
    while (*p != '\0') {
        struct tmpl_token tok;
        enum hret_result r = tmpl_next(&p, &tok, err);
        if (r != HRET_OK) {
            return r;
        }
        if (!tok.field) {
            r = hret_buf_append(out, tok.text, tok.len, err);
        } else {
            const struct hret_prompt_var *v = find_var(vars, nvars, &tok);
            if (v == NULL) {
                if (missing != NULL) {
                    *missing = true;
                }
                return hret_err_set(err, HRET_E_CONFIG,
                                    "prompt template: unknown placeholder {%.*s}", (int)tok.len,
                                    tok.text);
            }
            r = v->value ? hret_buf_append(out, v->value, strlen(v->value), err) : HRET_OK;
        }
        if (r != HRET_OK) {
            return r;
        }
    }
    return hret_buf_append(out, "", 0, err); /* out->data is never NULL afterwards */
}

static bool name_listed(const char *const *names, const struct tmpl_token *tok)
{
    for (; *names != NULL; names++) {
        if (strlen(*names) == tok->len && memcmp(*names, tok->text, tok->len) == 0) {
            return true;
        }
    }
    return false;
}

static void list_names(char *dst, size_t cap, const char *const *names)
{
    size_t used = 0;
    dst[0] = '\0';
    for (; *names != NULL && used < cap; names++) {
        int n = snprintf(dst + used, cap - used, "%s{%s}", used ? ", " : "", *names);
        used += n > 0 ? (size_t)n : 0;
    }
}

enum hret_result hret_prompt_check(const char *tmpl, const char *const *names, struct hret_err *err)
{
    const char *p = tmpl;
    while (*p != '\0') {
        struct tmpl_token tok;
        enum hret_result r = tmpl_next(&p, &tok, err);
        if (r != HRET_OK) {
            return r;
        }
        if (tok.field && names != NULL && !name_listed(names, &tok)) {
            char accepted[256];
            list_names(accepted, sizeof accepted, names);
            return hret_err_set(err, HRET_E_CONFIG,
                                "prompt template: unknown placeholder {%.*s} (accepted: %s)",
                                (int)tok.len, tok.text, accepted);
        }
    }
    return HRET_OK;
}

/* ---- Python str.strip() ------------------------------------------------------------------ */

static bool is_py_space(unsigned long c)
{
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Length of the UTF-8 sequence at s (at most avail bytes) and its code point; 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t avail, unsigned long *cp)
{
    size_t n = s[0] < 0x80         ? 1
               : (s[0] >> 5) == 6  ? 2
               : (s[0] >> 4) == 14 ? 3
               : (s[0] >> 3) == 30 ? 4
                                   : 0;
    if (n == 0 || n > avail) {
        return 0;
    }
    unsigned long c = n == 1 ? s[0] : s[0] & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3fu);
    }
    *cp = c;
    return n;
}

/* Length of the whitespace character that ends s[0..len), or 0. */
static size_t trailing_space(const unsigned char *s, size_t len)
{
    size_t start = len;
    for (size_t back = 1; back <= 4 && back <= len; back++) {
        start = len - back;
        if ((s[start] & 0xc0) != 0x80) {
            break;
        }
    }
    unsigned long cp;
    size_t n = utf8_decode(s + start, len - start, &cp);
    return n == len - start && n > 0 && is_py_space(cp) ? n : 0;
}

const char *hret_prompt_strip(const char *s, size_t *len)
{
    if (s == NULL) {
        *len = 0;
        return "";
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    size_t lead = 0;
    unsigned long cp;
    size_t k;
    while (lead < n && (k = utf8_decode(u + lead, n - lead, &cp)) > 0 && is_py_space(cp)) {
        lead += k;
    }
    u += lead;
    n -= lead;
    while (n > 0 && (k = trailing_space(u, n)) > 0) {
        n -= k;
    }
    *len = n;
    return (const char *)u;
}

char *hret_prompt_strip_dup(const char *s)
{
    size_t n;
    const char *p = hret_prompt_strip(s, &n);
    return hret_xstrndup(p, n);
}

char *hret_prompt_remove_strip(const char *s, const char *needle)
{
    size_t nlen = strlen(needle);
    char *copy = hret_xstrdup(s ? s : "");
    char *w = copy;
    const char *r = copy;
    const char *hit;
    while (nlen > 0 && (hit = strstr(r, needle)) != NULL) {
        memmove(w, r, (size_t)(hit - r)); /* w trails r, so the regions may overlap */
        w += hit - r;
        r = hit + nlen;
    }
    memmove(w, r, strlen(r) + 1);
    size_t n;
    const char *p = hret_prompt_strip(copy, &n);
    memmove(copy, p, n);
    copy[n] = '\0';
    return copy;
}

uint64_t hret_prompt_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
