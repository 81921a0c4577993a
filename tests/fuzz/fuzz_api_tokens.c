/* The tokens file of `hret api` (hret_api_tokens_parse) on any text: it parses or refuses with
 * a message naming the line, never crashes, and a parsed entry has a valid name, known scopes
 * and a 64-digit hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_api_token.h"
#include "hret_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hret_api_tokens t = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_api_tokens_parse((const char *)data, size, "fuzz", &t, &err) == HRET_OK) {
        for (size_t i = 0; i < t.count; i++) {
            if (!hret_api_name_valid(t.items[i].name) || t.items[i].scopes == 0 ||
                t.items[i].scopes > 3 || strlen(t.items[i].hash) != 64) {
                fprintf(stderr, "bad entry %zu accepted\n", i);
                abort();
            }
        }
        (void)hret_api_tokens_match(&t, "hret_x");
    } else if (strncmp(err.msg, "fuzz:", 5) != 0) {
        fprintf(stderr, "refusal without the place: %s\n", err.msg);
        abort();
    }
    hret_api_tokens_fini(&t);
    return 0;
}
