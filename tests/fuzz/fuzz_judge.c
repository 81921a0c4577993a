/* A judge model's answer: hret_judge_parse for every judge type on the same text, with the
 * reference after a NUL byte. */
#include <stdlib.h>
#include <string.h>

#include "hret_fuzz.h"
#include "hret_judge.h"
#include "hret_mem.h"
#include "hret_sample.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = hret_xmalloc(size + 2);
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    const char *ref = text + strlen(text) + 1;
    if (ref > text + size) {
        ref = NULL;
    }
    static const char *const types[] = {"k2_eval", "rubric_and_response",
                                        "rubric_response_and_gold", "response_comparison"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        enum hret_judge_type t;
        if (!hret_judge_type_parse(types[i], &t)) {
            abort(); /* the four names are HRET's: a rename must update this target */
        }
        struct hret_verdict v = {0};
        hret_judge_parse(t, text, ref, &v);
        hret_verdict_fini(&v);
    }
    free(text);
    return 0;
}
