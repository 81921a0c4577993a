/* `hret bridge SINK`: a sink forwards the results topic's events to one tracking system (MLflow,
 * W&B, TensorBoard, webhooks). The bridge (hret_cmd_bridge.c) owns the loop (hret_role_follow,
 * group "hret-bridge-<sink>", dead letters to "hret.bridge.<sink>.dlq"), decides which events
 * reach the sink (hret_sink_wanted) and gives each to deliver. A sink is idempotent: what it
 * created outside (MLflow run id, W&B run name, stream offsets) lives in bridge_state, so a
 * redelivered event or a restarted bridge changes nothing outside. */
#ifndef HRET_SINK_H
#define HRET_SINK_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "hret_err.h"
#include "hret_pg.h"
#include "hret_role.h"

struct hret_sink {
    const char *name; /* "mlflow", "wandb", "tensorboard", "webhook" */
    /* The ce_types the sink takes, NULL-terminated; the bridge acknowledges every other event
     * without calling deliver. NULL: every type on the results topic. */
    const char *const *events;
    /* false: the bridge asks hret_sink_wanted (the event's tracking block, else the config
     * default) before deliver. true: the sink routes by its own filters (webhooks). */
    bool own_routing;
    /* Opens the sink's clients from r->cfg (r borrowed for the sink's life). */
    enum hret_result (*open)(struct hret_role *r, void **state, struct hret_err *err);
    /* Delivers one wanted event (see hret_role.h for the verdicts). */
    enum hret_role_verdict (*deliver)(void *state, const struct hret_role_event *ev,
                                      struct hret_err *err);
    void (*close)(void *state); /* NULL state is a no-op */
};

extern const struct hret_sink hret_sink_mlflow;
extern const struct hret_sink hret_sink_wandb;
extern const struct hret_sink hret_sink_tensorboard;
extern const struct hret_sink hret_sink_webhook;

/* The built-in sink of that name (borrowed), NULL when there is none. */
const struct hret_sink *hret_sink_find(const char *name);
/* The names of the built-in sinks, space-separated, for messages. */
const char *hret_sink_names(void);

/* Whether ev (borrowed) goes to the named tracking sink: the event's `tracking.<sink>` (true,
 * false or an object) decides, else the config default (mlflow_tracking, wandb_tracking,
 * tensorboard_tracking). *block (nullable) gets the sink's object from the tracking block, or
 * NULL. */
bool hret_sink_wanted(const struct hret_config *cfg, const char *sink, const cJSON *event,
                      const cJSON **block);

/* Whether metric name passes the event's track_metrics (absent or empty: every metric). A
 * per-subset name "SUBSET/NAME" passes when it or NAME is listed. */
bool hret_sink_metric_tracked(const cJSON *event, const char *name);

/* The numbers a tracking sink forwards for a run event (borrowed), as one flat object name ->
 * number, already filtered by track_metrics: every finite number of `metrics` (accuracy,
 * accuracy_ci_low/high, latency_p50_ms, tokens_in, cost, errors, ...), `subset_metrics` as
 * "SUBSET/NAME", and `cost_usd`, `tokens.input`/`tokens.output` (as tokens_input, tokens_output)
 * and `counts.errors`/`counts.parse_failures` (as errors, parse_failures) when `metrics` lacks
 * them. One list for every sink, so MLflow, W&B and TensorBoard show the same names. Caller
 * owns result (never NULL). */
cJSON *hret_sink_metrics(const cJSON *event);

/* The step a run's metrics are logged at: metadata.epoch, else metadata.step (an integer, or a
 * string holding one), else 0. */
long long hret_sink_step(const cJSON *event);

/* ---- bridge_state: per (sink, subject) where subject is the run id (or the comparison id) ----
 * (schemas/sql/002_bridge_state.sql renamed run_id to subject and dropped its foreign key.) */

struct hret_bridge_state {
    char *external_id;   /* the sink's id for the subject (MLflow run id, ...), NULL when none */
    char *state;         /* "open", "finished", "failed" */
    cJSON *offsets;      /* sink-defined progress (W&B file_stream offsets), an object */
    char *last_event_id; /* the last ce_id fully delivered */
};

/* Reads the row into out (zeroed first; caller releases with hret_bridge_state_fini); *found
 * false leaves out empty (offsets an empty object). pg NULL (a sink used in process without a
 * database): never found, and _put keeps nothing. */
enum hret_result hret_bridge_state_get(struct hret_pg *pg, const char *sink, const char *subject,
                                       struct hret_bridge_state *out, bool *found,
                                       struct hret_err *err);
/* Inserts or updates the row from st (borrowed). */
enum hret_result hret_bridge_state_put(struct hret_pg *pg, const char *sink, const char *subject,
                                       const struct hret_bridge_state *st, struct hret_err *err);
void hret_bridge_state_fini(struct hret_bridge_state *st);

#endif
