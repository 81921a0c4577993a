/* hret_json_parse, the bounded parse every event and HTTP body goes through: any bytes, no NUL
 * terminator, a cap, trailing garbage refused. What parses must print and parse back. */
#include <stdlib.h>
#include <string.h>

#include "hret_fuzz.h"
#include "hret_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hret_err err = HRET_ERR_INIT;
    /* a cap inside the input too, so the refusal of an oversized body is exercised */
    size_t cap = size > 0 ? data[0] * (size_t)16 : 0;
    cJSON *small = hret_json_parse((const char *)data, size, cap, &err);
    cJSON_Delete(small);
    cJSON *doc = hret_json_parse((const char *)data, size, 1 << 20, &err);
    if (doc == NULL) {
        return 0;
    }
    char *text = hret_json_print(doc);
    cJSON *again = hret_json_parse(text, strlen(text), 1 << 21, &err);
    if (again == NULL) {
        abort(); /* what we printed must parse */
    }
    cJSON_Delete(again);
    free(text);
    cJSON_Delete(doc);
    return 0;
}
