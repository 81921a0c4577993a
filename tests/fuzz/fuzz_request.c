/* The evaluation-request parser (hret_request_parse): the body of a Kafka message or an HTTP
 * POST from anyone, against the request fixtures' configuration (tests/data/requests/
 * hret_config.yaml, inline endpoints allowed on an allowlist) with a larger message cap. A
 * request that parses must normalise to JSON that parses back to the same normalised JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cfg.h"
#include "hret_config.h"
#include "hret_fuzz.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_request.h"

static const char config_yaml[] =
    "default_dataset: kmmlu\n"
    "default_model: baseline\n"
    "default_split: test\n"
    "default_evaluation_method: string_match\n"
    "kafka:\n"
    "  max_message_bytes: 1048576\n"
    "models:\n"
    "  baseline:\n"
    "    base_url: \"http://127.0.0.1:8000/v1\"\n"
    "    model: \"base-7b\"\n"
    "  candidate:\n"
    "    base_url: \"http://127.0.0.1:8001/v1\"\n"
    "    model: \"cand-7b\"\n"
    "  judge:\n"
    "    base_url: \"http://127.0.0.1:8002/v1\"\n"
    "    model: \"judge-70b\"\n"
    "endpoints:\n"
    "  allow_inline: true\n"
    "  allowlist: [\"models.internal.example\", \"*.lab.example\", \"127.0.0.1\"]\n";

static struct hret_config cfg;
static bool loaded;

static void load_config(void)
{
    struct hret_strlist problems = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_cfg_load_text(&hret_config_table, &cfg, "fuzz_request.yaml", config_yaml,
                           sizeof config_yaml - 1, &problems, &err) != HRET_OK) {
        fprintf(stderr, "fuzz_request: config: %s\n", err.msg);
        abort();
    }
    hret_strlist_fini(&problems);
    hret_log_setup(HRET_LOG_ERROR, HRET_LOG_LOGFMT);
    loaded = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!loaded) {
        load_config();
    }
    struct hret_request *req = NULL;
    char path[HRET_REQUEST_PATH_MAX];
    struct hret_err err = HRET_ERR_INIT;
    if (hret_request_parse((const char *)data, size, &cfg, &req, path, &err) != HRET_OK) {
        hret_request_destroy(req);
        return 0;
    }
    cJSON *norm = hret_request_to_json(req);
    char *text = hret_json_print(norm);
    struct hret_request *again = NULL;
    if (hret_request_parse(text, strlen(text), &cfg, &again, path, &err) != HRET_OK) {
        fprintf(stderr, "normalised request refused: %s\n%s\n", err.msg, text);
        abort();
    }
    cJSON *norm2 = hret_request_to_json(again);
    char *text2 = hret_json_print(norm2);
    if (strcmp(text, text2) != 0) {
        fprintf(stderr, "normalised request changes on reparse:\n%s\n%s\n", text, text2);
        abort();
    }
    free(text2);
    cJSON_Delete(norm2);
    hret_request_destroy(again);
    free(text);
    cJSON_Delete(norm);
    hret_request_destroy(req);
    return 0;
}
