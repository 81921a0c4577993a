/* The W&B side of the bridge: the upsertBucket answer of a server we do not control, and the
 * pure functions that turn a result event from Kafka into a history row, a file_stream body and
 * a run name. The same bytes are tried as the GraphQL answer and as the event. */
#include <stdlib.h>
#include <string.h>

#include "hret_cloudevents.h"
#include "hret_fuzz.h"
#include "hret_json.h"
#include "hret_wandb.h"

static void event(const uint8_t *data, size_t size)
{
    cJSON *ev = hret_json_parse((const char *)data, size, 1 << 20, NULL);
    if (ev == NULL) {
        return;
    }
    cJSON *row = hret_wandb_row(ev);
    if (row != NULL) {
        (void)hret_wandb_row_has_metrics(row);
        free(hret_wandb_stream_body(row, true, 7));
        cJSON_Delete(row);
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "run_id");
    if (cJSON_IsString(id)) {
        char name[65];
        hret_wandb_run_name(id->valuestring, name);
        free(hret_wandb_stream_url("https://api.wandb.ai/", id->valuestring, "p", name));
    }
    cJSON_Delete(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hret_wandb_bucket bucket;
    struct hret_err err = HRET_ERR_INIT;
    (void)hret_wandb_upsert_parse((const char *)data, size, &bucket, &err);
    event(data, size);
    char *text = malloc(size + 1);
    if (text == NULL) {
        abort();
    }
    memcpy(text, data, size);
    text[size] = '\0';
    double t = 0;
    (void)hret_cloudevent_parse_time(text, &t);
    free(text);
    return 0;
}
