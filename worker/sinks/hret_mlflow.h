/* MLflow REST answers (reference/infra.md §1) read without I/O, so that the MLflow sink
 * (hret_sink_mlflow.c) does no parsing of its own and a fuzz target can feed them anything:
 * error bodies, experiments/get-by-name, runs/search and runs/create, runs/get. Every function is
 * pure; every cJSON argument is borrowed and may be NULL (an answer that did not parse). */
#ifndef HRET_MLFLOW_H
#define HRET_MLFLOW_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"

/* An error answer's error_code into code (64 bytes) and message into msg (cap bytes, "" when
 * absent); false, both "", when it has no error_code. */
bool hret_mlflow_error(const cJSON *doc, char code[64], char *msg, size_t cap);

/* The experiment_id of a get-by-name answer into *id (caller owns). HRET_E_INVAL when the
 * experiment is deleted (name, borrowed, is for the message), HRET_E_PROTO without an id. */
enum hret_result hret_mlflow_experiment_id(const cJSON *resp, const char *name, char **id,
                                           struct hret_err *err);

/* runs/search: the first run, or NULL. runs/create: its run, or NULL. */
const cJSON *hret_mlflow_search_first(const cJSON *resp);
const cJSON *hret_mlflow_created_run(const cJSON *resp);

/* A run's info.run_id (NULL when absent) and info.artifact_uri ("" when absent); caller owns
 * both. */
void hret_mlflow_run_info(const cJSON *run, char **run_id, char **artifact_uri);

/* runs/get: an object whose members are the keys of the metrics logged at step (value true);
 * steps may come as numbers or as int64 strings. Caller owns result. */
cJSON *hret_mlflow_metrics_at(const cJSON *resp, long long step);

#endif
