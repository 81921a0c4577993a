/* Answers of an MLflow tracking server (hret bridge mlflow): the same bytes as an error body, a
 * get-by-name answer, a runs/search and a runs/create answer, and a runs/get answer read at a
 * few steps (hret_mlflow.h; the sink parses nothing itself). */
#include <stdlib.h>

#include "hret_fuzz.h"
#include "hret_json.h"
#include "hret_mlflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *doc = hret_json_parse((const char *)data, size, 8u << 20, NULL);
    char code[64], msg[301];
    (void)hret_mlflow_error(doc, code, msg, sizeof msg);
    char *id = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_mlflow_experiment_id(doc, "hret", &id, &err) == HRET_OK) {
        free(id);
    }
    const cJSON *runs[] = {hret_mlflow_search_first(doc), hret_mlflow_created_run(doc)};
    for (size_t i = 0; i < 2; i++) {
        char *run_id = NULL, *uri = NULL;
        hret_mlflow_run_info(runs[i], &run_id, &uri);
        free(run_id);
        free(uri);
    }
    static const long long steps[] = {0, 1, -1, 9007199254740993LL};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        cJSON_Delete(hret_mlflow_metrics_at(doc, steps[i]));
    }
    cJSON_Delete(doc);
    return 0;
}
