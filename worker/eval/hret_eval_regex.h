/* The subset of Python's `re` that HRET's `regexes_to_ignore` needs: re.sub(pattern, "", text)
 * with Python's semantics (leftmost-first backtracking over code points, Unicode \s \d \w,
 * `.` not matching "\n", `$` also before a final "\n"). Compiled once per evaluator.
 *
 * Supported: literals, `.`, `^`, `$`, \A \Z \b \B, \d \D \s \S \w \W, escapes \t \n \r \f \v
 * \a \xhh \uXXXX \UXXXXXXXX and escaped punctuation, classes [...] with ranges, negation and
 * the escapes above, groups (...) and (?:...), alternation, and the greedy or lazy quantifiers
 * * + ? {m} {m,} {,n} {m,n}. Anything else (back-references, lookaround, named groups, inline
 * flags, possessive quantifiers) is refused at compile time with "not supported". */
#ifndef HRET_EVAL_REGEX_H
#define HRET_EVAL_REGEX_H

#include <stddef.h>

#include "hret_err.h"

struct hret_eval_regex;

/* pattern borrowed (UTF-8); *out caller owns (hret_eval_regex_destroy). HRET_E_INVAL with the
 * reason and the offending position when the pattern is invalid or outside the subset. */
enum hret_result hret_eval_regex_compile(const char *pattern, struct hret_eval_regex **out,
                                         struct hret_err *err);
void hret_eval_regex_destroy(struct hret_eval_regex *re);

/* re.sub(pattern, "", s[0..n)): *out (caller owns, NUL-terminated) and *out_len get the text
 * with every match removed. Fails with HRET_E_INVAL only when the match backtracks past a
 * budget proportional to n (a catastrophic pattern), never on the text's content. */
enum hret_result hret_eval_regex_remove(const struct hret_eval_regex *re, const char *s, size_t n,
                                        char **out, size_t *out_len, struct hret_err *err);

#endif
