/* hret worker: what plans and shards share: loading a request's dataset the way `hret run`
 * does, and the event pieces (model and dataset objects, the failed-event data). */
#ifndef HRET_WORKER_DATA_H
#define HRET_WORKER_DATA_H

#include <cjson/cJSON.h>

#include "hret_config.h"
#include "hret_dataset.h"
#include "hret_err.h"
#include "hret_request.h"

/* Loads d (borrowed, one of req's datasets) from datasets.root/(d->data_dir or d->name) with
 * req's few-shot settings. Caller owns *out. Errors are HRET_E_INVAL naming the dataset. */
enum hret_result hret_worker_dataset_load(const struct hret_config *cfg,
                                          const struct hret_request *req,
                                          const struct hret_request_dataset *d,
                                          struct hret_dataset **out, struct hret_err *err);

/* The events' model object {name, model_id}; caller owns. */
cJSON *hret_worker_model_json(const struct hret_request_model *m);
/* The events' dataset object {name, split, subsets, version}; version nullable. Caller owns. */
cJSON *hret_worker_dataset_json(const struct hret_request_dataset *d, const char *version);

#endif
