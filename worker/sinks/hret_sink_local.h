/* Trackers without the fleet: a finished run (its results document) delivered in this process
 * to the same sinks the bridges use (hret run --track, hret runs export --track). The run becomes
 * the hret.run.completed.v1 event a worker would have published, so MLflow, W&B, TensorBoard and
 * webhooks see the same names and values whichever way the run was made. */
#ifndef HRET_SINK_LOCAL_H
#define HRET_SINK_LOCAL_H

#include <cjson/cJSON.h>

#include "hret_cfg.h"
#include "hret_config.h"
#include "hret_err.h"
#include "hret_store.h"

/* The sinks to deliver to: spec is "none", or sink names separated by commas; NULL means the
 * config's defaults (mlflow_tracking, wandb_tracking, tensorboard_tracking). Fills out (caller
 * owns, hret_strlist_fini). HRET_E_INVAL naming an unknown sink and the known ones. */
enum hret_result hret_sink_local_select(const struct hret_config *cfg, const char *spec,
                                        struct hret_strlist *out, struct hret_err *err);

/* Pure. The hret.run.completed.v1 data of a run from its results document's run_metadata and
 * metrics (borrowed): run id, name, model, dataset, evaluation, metrics, subset_metrics, counts,
 * tokens, cost, times, metadata, and a tracking block turning on exactly the sinks listed
 * (borrowed). Caller owns result. */
cJSON *hret_sink_local_event(const cJSON *run_metadata, const cJSON *metrics,
                             const struct hret_strlist *sinks);

/* Delivers the run (run_metadata and metrics borrowed, as above) to each sink listed, in order,
 * with the configuration cfg (borrowed);
 * store (nullable) keeps the sinks' bridge_state so a second delivery of the same run changes
 * nothing. Retriable failures are retried a few times with backoff. Every sink is tried; the
 * first failure is returned naming its sink. */
enum hret_result hret_sink_local_deliver(const struct hret_config *cfg, struct hret_store *store,
                                         const struct hret_strlist *sinks,
                                         const cJSON *run_metadata, const cJSON *metrics,
                                         struct hret_err *err);

#endif
