/* The Weights & Biases wire protocol without the SDK (reference/infra.md §2), as pure functions
 * so tests can check every byte the W&B sink (hret_sink_wandb.c) sends:
 *
 *   POST {base}/graphql   upsertBucket: creates or updates the run named after the hret run
 *   POST {base}/files/{entity}/{project}/{run}/file_stream
 *        {"files": {"wandb-history.jsonl": {"offset": N, "content": [row]},
 *                   "wandb-summary.json": {"offset": 0, "content": [summary]}}}
 *        then {"complete": true, "exitcode": 0 | 1}
 *
 * One result event is one history row (line 0 of wandb-history.jsonl) and a summary equal to it;
 * every value is derived from the event alone, so a redelivered event resends the same bytes at
 * the same offsets. */
#ifndef HRET_WANDB_H
#define HRET_WANDB_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"

#define HRET_WANDB_HISTORY "wandb-history.jsonl"
#define HRET_WANDB_SUMMARY "wandb-summary.json"

/* The W&B run name (the run id in W&B URLs and the file_stream path) for hret run_id
 * (borrowed): run_id itself when it is 1-64 of [A-Za-z0-9_-], else "hret-" and 32 hex digits
 * of its SHA-256. Deterministic, so an upsert after a crash updates the same run. */
void hret_wandb_run_name(const char *run_id, char out[65]);

/* The upsertBucket request ({"query", "variables"}) for the run of event (borrowed; an
 * hret.run.completed/failed data object): name, project, entity (NULL: the key's default
 * entity), display name run_name, group request_id, job type "eval", tags model and dataset,
 * config the metadata, evaluation, model and dataset, each wrapped as {"key": {"value": v}}.
 * Caller owns result. */
char *hret_wandb_upsert_body(const cJSON *event, const char *name, const char *entity,
                             const char *project);

/* What the upsertBucket response says about the run. */
struct hret_wandb_bucket {
    char name[129];
    char project[129];
    char entity[129];
};

/* Parses the upsertBucket response body (len bytes, borrowed). GraphQL errors (even with HTTP
 * 200) and a response without bucket.name, project.name and project.entity.name fail with
 * HRET_E_PROTO and the server's message. */
enum hret_result hret_wandb_upsert_parse(const char *body, size_t len,
                                         struct hret_wandb_bucket *out, struct hret_err *err);

/* The history row of event (borrowed): `_step` (metadata.epoch or .step, else 0), `_runtime`
 * (duration_s, else finished_at - started_at), `_timestamp` (finished_at or failed_at, Unix
 * seconds) and the forwarded metrics (hret_sink_metrics: track_metrics applied, subsets as
 * "<subset>/<metric>"). Caller owns result. */
cJSON *hret_wandb_row(const cJSON *event);

/* Whether row carries any metric besides the `_` bookkeeping keys. */
bool hret_wandb_row_has_metrics(const cJSON *row);

/* A file_stream body with the summary (row, borrowed) at offset 0 and, when with_history, row
 * as the history line at history_offset. Caller owns result. */
char *hret_wandb_stream_body(const cJSON *row, bool with_history, long long history_offset);

/* The last file_stream body: {"complete": true, "exitcode": exitcode}. Caller owns result. */
char *hret_wandb_complete_body(int exitcode);

/* "{base}/files/{entity}/{project}/{name}/file_stream" with the segments percent-encoded and a
 * trailing '/' of base dropped. Caller owns result. */
char *hret_wandb_stream_url(const char *base, const char *entity, const char *project,
                            const char *name);

#endif
