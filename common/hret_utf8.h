/* UTF-8 text the way Python's str sees it: HRET normalises answers with str.lower(),
 * str.split(), str.splitlines() and str.strip(), and parity needs the same character classes.
 * The tables come from Python itself (gen_utf8_tables.py -> hret_utf8_tables.h).
 *
 * Invalid UTF-8 never fails and never crashes: each byte of an invalid, overlong, surrogate or
 * truncated sequence decodes on its own to U+DC80..U+DCFF (0xDC00 + byte, Python's
 * "surrogateescape"), a code point that is no letter, no space and has no case, and encodes
 * back to the very same byte. So invalid bytes pass through every function byte-identical.
 *
 * Strings are (pointer, length) pairs, borrowed; NUL bytes are ordinary characters. */
#ifndef HRET_UTF8_H
#define HRET_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HRET_UTF8_ESCAPE_BASE 0xDC00u /* invalid byte b decodes to HRET_UTF8_ESCAPE_BASE + b */

/* Decodes the code point at s (n >= 1 bytes available) into *cp; returns the bytes used, 1..4. */
size_t hret_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Writes cp to out (room for 4 bytes); returns the length. An escaped byte is written back as
 * itself; any other surrogate or value past U+10FFFF as U+FFFD. */
size_t hret_utf8_encode(uint32_t cp, char *out);

bool hret_utf8_is_space(uint32_t cp);   /* str.isspace(), also re's \s */
bool hret_utf8_is_alpha(uint32_t cp);   /* str.isalpha(): general category L* */
bool hret_utf8_is_decimal(uint32_t cp); /* re's \d: category Nd */
bool hret_utf8_is_word(uint32_t cp);    /* re's \w: str.isalnum() or '_' */
/* Hangul syllables and jamo (U+1100-11FF, 3130-318F, A960-A97F, AC00-D7A3, D7B0-D7FF,
 * FFA0-FFDC) */
bool hret_utf8_is_hangul(uint32_t cp);
/* A line boundary for str.splitlines(): \n \r \v \f \x1c-\x1e \x85 U+2028 U+2029. */
bool hret_utf8_is_line_break(uint32_t cp);

/* The one-code-point lower case re uses (U+0130 -> 'i'). */
uint32_t hret_utf8_simple_lower(uint32_t cp);
/* Key for re.IGNORECASE: two code points match case-insensitively iff their keys are equal
 * (simple lower case, widened by re's extra cases such as s/ſ, i/ı, σ/ς). */
uint32_t hret_utf8_fold(uint32_t cp);

/* str.lower(): full lower-casing, 'İ' -> "i̇", final sigma 'Σ' -> 'ς'. Caller owns result
 * (NUL-terminated); *out_len (nullable) gets its length. */
char *hret_utf8_lower(const char *s, size_t n, size_t *out_len);
/* s with every invalid byte (as hret_utf8_decode sees it) replaced by U+FFFD, NUL-terminated;
 * NULL when s is valid UTF-8 (nothing to copy). *replaced gets the count, *first the offset of
 * the first invalid byte (both set either way; first = n when valid). Caller owns result. */
char *hret_utf8_sanitize(const char *s, size_t n, size_t *out_len, size_t *replaced, size_t *first);

/* " ".join(s.split()): whitespace runs become one space, none at either end. Caller owns
 * result; *out_len (nullable) gets its length. */
char *hret_utf8_squeeze_space(const char *s, size_t n, size_t *out_len);
/* str.strip(): *off and *len (not NULL) get the span of s without leading and trailing
 * whitespace. */
void hret_utf8_strip(const char *s, size_t n, size_t *off, size_t *len);
/* str.splitlines() one line at a time: start with *pos = 0; while it returns true, the line
 * is s[*line_off, *line_off + *line_len) without its break ("\r\n" counts as one). */
bool hret_utf8_next_line(const char *s, size_t n, size_t *pos, size_t *line_off, size_t *line_len);

/* Letters (L*) that are Hangul / all letters; 0 when the text has no letter. */
double hret_utf8_hangul_share(const char *s, size_t n);

#endif
