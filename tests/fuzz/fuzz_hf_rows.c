/* Answers of the Hugging Face datasets-server (hret dataset import --from URL): the same bytes
 * as a /splits answer (every pair, one split), as a /rows page, and as the URL the operator gave
 * (hret_store_hf_parse_url). */
#include <stdlib.h>
#include <string.h>

#include "hret_fuzz.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_store_hf.h"

static void as_answer(const uint8_t *data, size_t size)
{
    cJSON *doc = hret_json_parse((const char *)data, size, 1 << 20, NULL);
    if (doc == NULL) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        struct hret_strlist configs = {0}, splits = {0};
        struct hret_err err = HRET_ERR_INIT;
        if (hret_store_hf_splits(doc, i ? "test" : NULL, &configs, &splits, &err) == HRET_OK &&
            configs.count != splits.count) {
            abort(); /* pairs */
        }
        hret_strlist_fini(&configs);
        hret_strlist_fini(&splits);
    }
    cJSON *rows = cJSON_CreateArray();
    struct hret_err err = HRET_ERR_INIT;
    (void)hret_store_hf_take_rows(doc, "Accounting", "test", rows, &err);
    cJSON_Delete(rows);
    cJSON_Delete(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_answer(data, size);
    char *url = hret_xmalloc(size + 1);
    memcpy(url, data, size);
    url[size] = '\0';
    char *base = NULL, *dataset = NULL, *config = NULL, *split = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_hf_parse_url(url, &base, &dataset, &config, &split, &err) == HRET_OK) {
        free(base);
        free(dataset);
        free(config);
        free(split);
    }
    free(url);
    return 0;
}
