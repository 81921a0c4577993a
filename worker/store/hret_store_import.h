/* hret runs import: a results JSON that hret run kept (HRET's save_results layout, with
 * run_metadata.run_id) stored as a run with its samples and metrics, as if hret run had stored
 * it. An existing run with that id is replaced only when it is abandoned (running with a
 * heartbeat older than two minutes) or partial; any other is refused (HRET_E_CONFLICT). */
#ifndef HRET_STORE_IMPORT_H
#define HRET_STORE_IMPORT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_store.h"

/* doc borrowed; run_id gets the stored run's id (the file's, or a new one when it has none),
 * *count its samples. HRET_E_INVAL when doc is not a results JSON. */
enum hret_result hret_store_run_import(struct hret_store *s, const cJSON *doc, char run_id[37],
                                       size_t *count, struct hret_err *err);

#endif
