/* The regex engine behind string_match's regexes_to_ignore, whose patterns come from requests:
 * compile the pattern, then remove its matches from a text. The input is the pattern, a NUL
 * byte, then the text (no NUL: the whole input is the pattern and the text is empty). */
#include <stdlib.h>
#include <string.h>

#include "hret_eval_regex.h"
#include "hret_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t plen = nul != NULL ? (size_t)(nul - data) : size;
    char *pattern = malloc(plen + 1);
    if (pattern == NULL) {
        abort();
    }
    memcpy(pattern, data, plen);
    pattern[plen] = '\0';
    const char *text = nul != NULL ? (const char *)nul + 1 : "";
    size_t tlen = nul != NULL ? size - plen - 1 : 0;
    struct hret_eval_regex *re = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_eval_regex_compile(pattern, &re, &err) == HRET_OK) {
        char *out = NULL;
        size_t out_len = 0;
        if (hret_eval_regex_remove(re, text, tlen, &out, &out_len, &err) == HRET_OK &&
            (out_len > tlen || strlen(out) > out_len)) {
            abort(); /* removing matches never lengthens the text */
        }
        free(out);
    }
    hret_eval_regex_destroy(re);
    free(pattern);
    return 0;
}
