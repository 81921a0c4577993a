/* The Anthropic Messages and Azure OpenAI response parsers: the body of a 2xx answer from an
 * endpoint we do not control (content blocks, usage, stop_reason; Azure's filter results), and
 * the error-message extraction of a non-2xx one (Anthropic's {"type":"error"} shape). */
#include <stdlib.h>

#include "hret_backend.h"
#include "hret_fuzz.h"

static void parse_with(const struct hret_backend_ops *ops, const uint8_t *data, size_t size)
{
    struct hret_backend_output out = {0};
    struct hret_err err = HRET_ERR_INIT;
    (void)ops->parse((const char *)data, size, &out, &err);
    hret_backend_output_fini(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_with(&hret_backend_anthropic, data, size);
    parse_with(&hret_backend_azure_openai, data, size);
    char msg[64];
    hret_backend_error_message((const char *)data, size, msg, sizeof msg);
    return 0;
}
