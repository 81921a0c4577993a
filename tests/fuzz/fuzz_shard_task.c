/* Shard task messages from the tasks topic (another worker, or anyone who can produce to it):
 * hret_worker_task_parse, which the worker runs before touching the database. */
#include <stdlib.h>

#include "hret_fuzz.h"
#include "hret_worker_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char run_id[64];
    long long idx = 0;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_worker_task_parse((const char *)data, size, run_id, sizeof run_id, &idx, &err) ==
        HRET_OK) {
        if (idx < 0 || run_id[0] == '\0') {
            abort(); /* the parser promised both */
        }
    }
    return 0;
}
