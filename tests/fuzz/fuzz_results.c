/* The reading of a results file (`hret runs import`, `hret compare`, `hret report`): any bytes
 * parsed as JSON, then hret_results_load and hret_results_compare_run. A load that succeeds
 * gives done outcomes, a run id that is empty or a UUID, and an error count within the samples;
 * a refusal always says why. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hret_compare.h"
#include "hret_fuzz.h"
#include "hret_json.h"
#include "hret_results.h"
#include "hret_results_load.h"

static void check_run(const struct hret_results_run *run)
{
    size_t len = strlen(run->run_id), errors = 0;
    if (len != 0 && len != 36) {
        abort();
    }
    for (size_t i = 0; i < len; i++) {
        if (run->run_id[i] != '-' && !isxdigit((unsigned char)run->run_id[i])) {
            abort(); /* an imported run id is never a path or SQL text */
        }
    }
    for (size_t i = 0; i < run->n; i++) {
        if (!run->outcomes[i].done || run->samples[i].input == NULL ||
            (run->outcomes[i].error_code != HRET_OK) != (run->outcomes[i].error != NULL)) {
            abort();
        }
        errors += run->outcomes[i].error_code != HRET_OK;
    }
    if (errors != run->errors || run->duration < 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hret_err err = HRET_ERR_INIT;
    cJSON *doc = hret_json_parse((const char *)data, size, 1 << 20, &err);
    if (doc == NULL) {
        return 0;
    }
    struct hret_results_run run;
    hret_err_clear(&err);
    if (hret_results_load(doc, &run, &err) == HRET_OK) {
        check_run(&run);
        hret_results_run_fini(&run);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    struct hret_compare_run cmp;
    hret_compare_run_init(&cmp, "fuzz");
    hret_err_clear(&err);
    if (hret_results_compare_run(doc, &cmp, &err) != HRET_OK && err.msg[0] == '\0') {
        abort();
    }
    hret_compare_run_fini(&cmp);
    cJSON_Delete(doc);
    return 0;
}
