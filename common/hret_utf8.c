#include "hret_utf8.h"

#include <string.h>

#include "hret_mem.h"
#include "hret_utf8_tables.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

#define CAPITAL_SIGMA 0x3A3u
#define SMALL_SIGMA 0x3C3u
#define FINAL_SIGMA 0x3C2u
#define CAPITAL_I_DOT 0x130u

static bool cont(unsigned char c)
{
    return (c & 0xC0u) == 0x80u;
}

/* Bytes allowed right after the lead byte (RFC 3629 table): rules out overlongs, surrogates
 * and values past U+10FFFF. */
static bool second_ok(unsigned char lead, unsigned char c)
{
    switch (lead) {
    case 0xE0:
        return c >= 0xA0 && c <= 0xBF;
    case 0xED:
        return c >= 0x80 && c <= 0x9F;
    case 0xF0:
        return c >= 0x90 && c <= 0xBF;
    case 0xF4:
        return c >= 0x80 && c <= 0x8F;
    default:
        return cont(c);
    }
}

size_t hret_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char lead = u[0];
    size_t need;
    uint32_t v;
    if (lead < 0x80) {
        *cp = lead;
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        need = 2;
        v = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        need = 3;
        v = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        need = 4;
        v = lead & 0x07u;
    } else {
        *cp = HRET_UTF8_ESCAPE_BASE + lead;
        return 1;
    }
    if (n < need || !second_ok(lead, u[1])) {
        *cp = HRET_UTF8_ESCAPE_BASE + lead;
        return 1;
    }
    for (size_t i = 1; i < need; i++) {
        if (!cont(u[i])) {
            *cp = HRET_UTF8_ESCAPE_BASE + lead;
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3Fu);
    }
    *cp = v;
    return need;
}

size_t hret_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *u = (unsigned char *)out;
    if (cp >= HRET_UTF8_ESCAPE_BASE + 0x80 && cp <= HRET_UTF8_ESCAPE_BASE + 0xFF) {
        u[0] = (unsigned char)(cp - HRET_UTF8_ESCAPE_BASE);
        return 1;
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        cp = 0xFFFD;
    }
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool in_ranges(const struct hret_utf8_range *r, size_t count, uint32_t cp)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < r[mid].lo) {
            hi = mid;
        } else if (cp > r[mid].hi) {
            lo = mid + 1;
        } else {
            return true;
        }
    }
    return false;
}

static uint32_t map_runs(const struct hret_utf8_run *r, size_t count, uint32_t cp)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < r[mid].lo) {
            hi = mid;
        } else if (cp > r[mid].hi) {
            lo = mid + 1;
        } else {
            if ((cp - r[mid].lo) % r[mid].stride != 0) {
                return cp;
            }
            return (uint32_t)((int64_t)cp + r[mid].delta);
        }
    }
    return cp;
}

bool hret_utf8_is_space(uint32_t cp)
{
    if (cp < 0x80) {
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
    }
    return in_ranges(hret_utf8_space, N_OF(hret_utf8_space), cp);
}

bool hret_utf8_is_alpha(uint32_t cp)
{
    if (cp < 0x80) {
        return (cp | 0x20u) >= 'a' && (cp | 0x20u) <= 'z';
    }
    return in_ranges(hret_utf8_alpha, N_OF(hret_utf8_alpha), cp);
}

bool hret_utf8_is_decimal(uint32_t cp)
{
    return in_ranges(hret_utf8_decimal, N_OF(hret_utf8_decimal), cp);
}

bool hret_utf8_is_word(uint32_t cp)
{
    return cp == '_' || in_ranges(hret_utf8_alnum, N_OF(hret_utf8_alnum), cp);
}

bool hret_utf8_is_hangul(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x3130 && cp <= 0x318F) ||
           (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
           (cp >= 0xD7B0 && cp <= 0xD7FF) || (cp >= 0xFFA0 && cp <= 0xFFDC);
}

bool hret_utf8_is_line_break(uint32_t cp)
{
    return (cp >= 0x0A && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1E) || cp == 0x85 || cp == 0x2028 ||
           cp == 0x2029;
}

/* Blocks without case (test_utf8 checks them against the tables): a fast path for Korean and
 * Chinese text. Hangul Jamo, CJK punctuation, kana and compatibility jamo, CJK ideographs,
 * Hangul syllables. */
static bool caseless(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x3000 && cp <= 0x318F) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7A3);
}

uint32_t hret_utf8_simple_lower(uint32_t cp)
{
    if (cp < 0x80 || caseless(cp)) {
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    }
    if (cp == CAPITAL_I_DOT) {
        return 'i';
    }
    return map_runs(hret_utf8_lower_runs, N_OF(hret_utf8_lower_runs), cp);
}

uint32_t hret_utf8_fold(uint32_t cp)
{
    if (cp < 0x80 || caseless(cp)) {
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    }
    return map_runs(hret_utf8_fold_runs, N_OF(hret_utf8_fold_runs), cp);
}

static bool case_ignorable(uint32_t cp)
{
    return in_ranges(hret_utf8_case_ignorable, N_OF(hret_utf8_case_ignorable), cp);
}

static bool cased(uint32_t cp)
{
    return in_ranges(hret_utf8_cased, N_OF(hret_utf8_cased), cp);
}

/* CPython's handle_capital_sigma: 'Σ' is final when a cased letter precedes it (skipping
 * case-ignorables) and none follows. prev_cased says the former; s/n is the text after it. */
static uint32_t sigma_lower(bool prev_cased, const char *s, size_t n)
{
    if (!prev_cased) {
        return SMALL_SIGMA;
    }
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        i += hret_utf8_decode(s + i, n - i, &cp);
        if (!case_ignorable(cp)) {
            return cased(cp) ? SMALL_SIGMA : FINAL_SIGMA;
        }
    }
    return FINAL_SIGMA;
}

char *hret_utf8_lower(const char *s, size_t n, size_t *out_len)
{
    /* At most 3 output bytes per 2 input bytes (checked by the generator). */
    char *out = hret_xmalloc(n + n / 2 + 4);
    size_t o = 0;
    bool prev_cased = false; /* the last code point that is not case-ignorable was cased */
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = hret_utf8_decode(s + i, n - i, &cp);
        i += k;
        if (cp < 0x80) {
            out[o++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
        } else if (cp == CAPITAL_I_DOT) {
            out[o++] = 'i';
            o += hret_utf8_encode(0x307, out + o);
        } else if (cp == CAPITAL_SIGMA) {
            o += hret_utf8_encode(sigma_lower(prev_cased, s + i, n - i), out + o);
        } else {
            o += hret_utf8_encode(hret_utf8_simple_lower(cp), out + o);
        }
        if (!case_ignorable(cp)) {
            prev_cased = cased(cp);
        }
    }
    out[o] = '\0';
    if (out_len != NULL) {
        *out_len = o;
    }
    return out;
}

char *hret_utf8_squeeze_space(const char *s, size_t n, size_t *out_len)
{
    char *out = hret_xmalloc(n + 1);
    size_t o = 0;
    bool pending = false; /* a space is owed before the next word */
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = hret_utf8_decode(s + i, n - i, &cp);
        if (hret_utf8_is_space(cp)) {
            pending = o > 0;
        } else {
            if (pending) {
                out[o++] = ' ';
                pending = false;
            }
            memcpy(out + o, s + i, k);
            o += k;
        }
        i += k;
    }
    out[o] = '\0';
    if (out_len != NULL) {
        *out_len = o;
    }
    return out;
}

void hret_utf8_strip(const char *s, size_t n, size_t *off, size_t *len)
{
    size_t start = n, end = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = hret_utf8_decode(s + i, n - i, &cp);
        if (!hret_utf8_is_space(cp)) {
            if (start == n) {
                start = i;
            }
            end = i + k;
        }
        i += k;
    }
    *off = start == n ? n : start;
    *len = start == n ? 0 : end - start;
}

bool hret_utf8_next_line(const char *s, size_t n, size_t *pos, size_t *line_off, size_t *line_len)
{
    size_t i = *pos;
    if (i >= n) {
        return false;
    }
    *line_off = i;
    while (i < n) {
        uint32_t cp;
        size_t k = hret_utf8_decode(s + i, n - i, &cp);
        if (hret_utf8_is_line_break(cp)) {
            *line_len = i - *line_off;
            i += k;
            if (cp == '\r' && i < n && s[i] == '\n') {
                i++;
            }
            *pos = i;
            return true;
        }
        i += k;
    }
    *line_len = n - *line_off;
    *pos = n;
    return true;
}

double hret_utf8_hangul_share(const char *s, size_t n)
{
    size_t letters = 0, hangul = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += hret_utf8_decode(s + i, n - i, &cp);
        if (hret_utf8_is_alpha(cp)) {
            letters++;
            hangul += hret_utf8_is_hangul(cp);
        }
    }
    return letters == 0 ? 0.0 : (double)hangul / (double)letters;
}

static bool invalid_at(const char *s, size_t n, size_t *used)
{
    uint32_t cp;
    *used = hret_utf8_decode(s, n, &cp);
    return *used == 1 && cp >= HRET_UTF8_ESCAPE_BASE + 0x80 && cp <= HRET_UTF8_ESCAPE_BASE + 0xFF;
}

/* Length of the valid UTF-8 that s starts with, as hret_utf8_decode judges it: a run of ASCII
 * is skipped eight bytes at a time (the loaders check whole files). */
static size_t valid_prefix(const unsigned char *u, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        uint64_t w;
        if (c < 0x80) {
            i += n - i >= 8 && (memcpy(&w, u + i, 8), (w & 0x8080808080808080ULL) == 0) ? 8 : 1;
            continue;
        }
        if (c >= 0xE0 && c <= 0xEF && n - i >= 3) { /* three bytes, as Hangul: second_ok inline */
            unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
            if (u[i + 1] < lo || u[i + 1] > hi || !cont(u[i + 2])) {
                return i;
            }
            i += 3;
            continue;
        }
        size_t need = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (need == 0 || n - i < need || !second_ok(c, u[i + 1])) {
            return i;
        }
        for (size_t k = 2; k < need; k++) {
            if (!cont(u[i + k])) {
                return i;
            }
        }
        i += need;
    }
    return n;
}

char *hret_utf8_sanitize(const char *s, size_t n, size_t *out_len, size_t *replaced, size_t *first)
{
    size_t bad = 0, used;
    *first = n;
    for (size_t i = valid_prefix((const unsigned char *)s, n); i < n;
         i += 1 + valid_prefix((const unsigned char *)s + i + 1, n - i - 1)) {
        *first = bad++ == 0 ? i : *first; /* an invalid byte: decoding skips just it */
    }
    *replaced = bad;
    if (bad == 0) {
        return NULL;
    }
    char *out = hret_xmalloc(n + 2 * bad + 1); /* one byte becomes three */
    size_t o = 0;
    for (size_t i = 0; i < n; i += used) {
        if (invalid_at(s + i, n - i, &used)) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            memcpy(out + o, s + i, used);
            o += used;
        }
    }
    out[o] = '\0';
    if (out_len != NULL) {
        *out_len = o;
    }
    return out;
}
