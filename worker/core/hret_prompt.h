/* Prompt text helpers with Python's semantics, so rendered prompts match HRET byte for byte:
 * str.format with named fields, str.strip() and str.replace(old, "").
 *
 * Template grammar (the subset of str.format HRET's templates use): "{name}" is replaced by the
 * variable's value, "{{" and "}}" are literal braces. A field with a conversion, a format spec,
 * an index or an attribute ("{x!r}", "{x:>5}", "{x[0]}", "{x.y}"), an empty or numbered field,
 * or a lone "}" is a syntax error, as are unbalanced braces. */
#ifndef HRET_PROMPT_H
#define HRET_PROMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hret_buf.h"
#include "hret_err.h"

struct hret_prompt_var {
    const char *name;  /* borrowed */
    const char *value; /* borrowed; NULL renders as "" */
};

/* Appends tmpl (borrowed) with its fields filled from vars to out. A field naming no variable is
 * HRET_E_CONFIG with "unknown placeholder {name}" (KeyError in Python); a syntax error is
 * HRET_E_CONFIG too. *missing (nullable) is set to true only for the unknown-field case. */
enum hret_result hret_prompt_format(struct hret_buf *out, const char *tmpl,
                                    const struct hret_prompt_var *vars, size_t nvars, bool *missing,
                                    struct hret_err *err);
/* Checks tmpl's syntax and, when names (NULL-terminated) is given, that every field is one of
 * them; the error lists the accepted names. */
enum hret_result hret_prompt_check(const char *tmpl, const char *const *names,
                                   struct hret_err *err);

/* Python str.strip(): the borrowed span of s without leading and trailing whitespace as
 * str.isspace() defines it (ASCII \t\n\v\f\r, \x1c-\x1f and space, U+0085, U+00A0, U+1680,
 * U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000). s may be NULL (empty span). */
const char *hret_prompt_strip(const char *s, size_t *len);
/* Caller owns result: s with every occurrence of needle removed, then stripped. */
char *hret_prompt_remove_strip(const char *s, const char *needle);
/* Caller owns result: strip(s). */
char *hret_prompt_strip_dup(const char *s);

/* FNV-1a 64 over n bytes, continuing from h (start with HRET_FNV1A64_INIT). */
#define HRET_FNV1A64_INIT 0xcbf29ce484222325ULL
uint64_t hret_prompt_fnv1a64(uint64_t h, const void *p, size_t n);

#endif
