/* The fake model's answer key: prompt hash -> correct answer [, wrong answer], loaded from a TSV
 * file, and the answer the model decides to give for a prompt. */
#ifndef HRET_FAKE_KEY_H
#define HRET_FAKE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "hret_err.h"

/* What the model says when it does not know (UTF-8: "I don't know" in Korean). */
#define HRET_FAKE_UNSURE "\xeb\xaa\xa8\xeb\xa5\xb4\xea\xb2\xa0\xec\x8a\xb5\xeb\x8b\x88\xeb\x8b\xa4"
/* Room for a derived wrong letter answer such as "(B)". */
#define HRET_FAKE_KEY_SCRATCH 8

struct hret_fake_key;

/* Loads a TSV file (path borrowed), one "<hash>\t<correct>[\t<wrong>]" per line, where <hash> is
 * hret_hash_hex64(hret_hash_fnv1a64(prompt)). Empty lines and lines starting with '#' are
 * skipped; a repeated hash keeps its last line. Answers are taken verbatim (no escapes). Caller
 * owns result; NULL with err = HRET_E_CONFIG naming path:line on failure. */
struct hret_fake_key *hret_fake_key_load(const char *path, struct hret_err *err);
void hret_fake_key_destroy(struct hret_fake_key *key);
size_t hret_fake_key_size(const struct hret_fake_key *key);

/* The answer for a prompt whose hash is h: the correct one iff hret_fake_decide(h, seed) <
 * accuracy, else the wrong one (third column; else the next letter within A-D for a letter
 * answer "A".."E" or "(A)".."(E)", keeping the parentheses; else HRET_FAKE_UNSURE). NULL when
 * key is NULL or h is not in it. The result is borrowed from key or from scratch. */
const char *hret_fake_key_answer(const struct hret_fake_key *key, uint64_t h, double accuracy,
                                 uint64_t seed, char scratch[HRET_FAKE_KEY_SCRATCH]);

#endif
