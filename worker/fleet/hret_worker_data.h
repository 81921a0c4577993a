/* hret worker: what plans and shards share: loading a request's dataset the way `hret run`
 * does, and the event pieces (model and dataset objects, the failed-event data). */
#ifndef HRET_WORKER_DATA_H
#define HRET_WORKER_DATA_H

#include <cjson/cJSON.h>

#include "hret_config.h"
#include "hret_dataset.h"
#include "hret_err.h"
#include "hret_request.h"
#include "hret_store.h"

/* Loads d (borrowed, one of req's datasets) with req's few-shot settings from where
 * datasets.source says (hret_store_dataset_open): an imported version in store, else
 * datasets.root/(d->data_dir or d->name). pinned: NULL when planning (d->version, else the
 * latest import, else files); "" for a run planned on files; else the run's imported version,
 * which must still be stored. data_version (65 bytes) receives the imported version read, ""
 * for files. Caller owns *out. Errors are HRET_E_INVAL naming the dataset, except a retriable
 * store failure, which keeps its code. */
enum hret_result hret_worker_dataset_load(const struct hret_config *cfg, struct hret_store *store,
                                          const struct hret_request *req,
                                          const struct hret_request_dataset *d, const char *pinned,
                                          char data_version[65], struct hret_dataset **out,
                                          struct hret_err *err);

/* HRET_OK when the imported version (the run's data_version) of dataset name is still stored;
 * HRET_E_INVAL saying it was removed when not (a retriable store failure keeps its code). */
enum hret_result hret_worker_dataset_still_stored(struct hret_store *store, const char *name,
                                                  const char *version, struct hret_err *err);

/* Pure. A shard task message (len bytes of payload, borrowed, nullable when len is 0): a JSON
 * object with run_id (a string shorter than cap) and shard_index (an integer 0..2^53). Fills
 * run_id (cap bytes) and *shard_index; HRET_E_INVAL with the reason otherwise. */
enum hret_result hret_worker_task_parse(const char *payload, size_t len, char *run_id, size_t cap,
                                        long long *shard_index, struct hret_err *err);

/* The events' model object {name, model_id}; caller owns. */
cJSON *hret_worker_model_json(const struct hret_request_model *m);
/* The events' dataset object {name, split, subsets, version, data_version}; version and
 * data_version nullable ("" counts as absent). Caller owns. */
cJSON *hret_worker_dataset_json(const struct hret_request_dataset *d, const char *version,
                                const char *data_version);

#endif
