/* hret_eval_external_parse, the reader of an external evaluator's verdict lines: any bytes, no
 * NUL terminator. A line that parses gives a verdict with both normalized strings set and a
 * finite score; one that does not gives a reason and nothing to free. */
#include <math.h>
#include <stdlib.h>

#include "hret_eval_external.h"
#include "hret_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_verdict v;
    const char *pred = size % 2 ? "(A)" : NULL;
    if (hret_eval_external_parse((const char *)data, size, pred, "(B)", &v, &err) != HRET_OK) {
        if (err.msg[0] == '\0') {
            abort(); /* a refusal always says why */
        }
        return 0;
    }
    if (v.normalized_pred == NULL || v.normalized_ref == NULL || !isfinite(v.score)) {
        abort();
    }
    hret_verdict_fini(&v);
    return 0;
}
