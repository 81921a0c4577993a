/* Reading the store: runs by reference or filter, a run's samples back as the pipeline's
 * structs (so `hret runs export` writes them with hret_results_write), and metric values
 * across runs for history and comparison. All SQL is parameterized; optional filters are
 * NULL parameters of one fixed statement. */
#ifndef HRET_STORE_QUERY_H
#define HRET_STORE_QUERY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_cfg.h"
#include "hret_compare.h"
#include "hret_err.h"
#include "hret_outcome.h"
#include "hret_results.h"
#include "hret_sample.h"
#include "hret_store.h"

struct hret_store_run_row { /* everything owned; NULL strings = SQL NULL */
    char *run_id, *request_id, *run_name, *status, *model_name, *model_id, *served_model;
    char *fingerprint, *endpoint, *dataset_name, *dataset_version, *split, *method, *error;
    char *created_at; /* ISO 8601 UTC */
    long long planned, done, errors, cache_hits;
    double started_at, finished_at;            /* Unix seconds (microseconds); NAN when NULL */
    double start_time, end_time;               /* exactly as the run measured them; NAN when NULL */
    cJSON *metadata, *config, *info, *metrics; /* NULL when NULL */
};

void hret_store_run_row_fini(struct hret_store_run_row *r);
/* The row as a JSON object (times as ISO 8601 strings). Caller owns result. */
cJSON *hret_store_run_row_json(const struct hret_store_run_row *r);
void hret_store_run_rows_free(struct hret_store_run_row *rows, size_t n);
/* The results JSON's run metadata of a stored run (out borrows from r). */
void hret_store_run_results_meta(const struct hret_store_run_row *r, struct hret_results_meta *out);

/* The run a user means by ref: a run id, a unique prefix of one (8+ characters) or a run name
 * (the latest run of that name). HRET_E_INVAL naming the candidates when there is none or the
 * prefix is ambiguous. out is zeroed by the caller. */
enum hret_result hret_store_run_find(struct hret_store *s, const char *ref,
                                     struct hret_store_run_row *out, struct hret_err *err);

struct hret_store_run_filter { /* all borrowed, nullable */
    const char *model, *dataset, *status;
    const char *since; /* a timestamp PostgreSQL understands, or an age: 30m, 12h, 7d, 2w */
    long limit;        /* 0 = 1000 */
};

/* Runs newest first. Caller owns *rows (hret_store_run_rows_free). */
enum hret_result hret_store_runs_list(struct hret_store *s, const struct hret_store_run_filter *f,
                                      struct hret_store_run_row **rows, size_t *n,
                                      struct hret_err *err);

/* A run's stored samples in sample order as (sample, outcome) pairs, outcomes done. Caller
 * owns the arrays (hret_sample_fini / hret_outcome_fini each, then free). */
enum hret_result hret_store_samples_load(struct hret_store *s, const char *run_id,
                                         struct hret_sample **samples,
                                         struct hret_outcome **outcomes, size_t *count,
                                         struct hret_err *err);

/* The same with only what metrics and comparisons read (item id, subset, verdict, latency,
 * tokens, attempts, error class, judge type and gate): input "", and reference, options,
 * prediction, metadata, error text, judge texts, paths and log-probabilities left out. */
enum hret_result hret_store_samples_load_scores(struct hret_store *s, const char *run_id,
                                                struct hret_sample **samples,
                                                struct hret_outcome **outcomes, size_t *count,
                                                struct hret_err *err);

/* The same for at most limit (>= 1) samples from sample index first on: a page. */
enum hret_result hret_store_samples_page(struct hret_store *s, const char *run_id, long long first,
                                         long limit, struct hret_sample **samples,
                                         struct hret_outcome **outcomes, size_t *count,
                                         struct hret_err *err);

/* Adds run_id's stored outcomes to run (initialised by the caller), as hret compare and the
 * worker's comparisons pair them: item id, subset, correct, errored. */
enum hret_result hret_store_samples_compare_run(struct hret_store *s, const char *run_id,
                                                struct hret_compare_run *run, struct hret_err *err);

struct hret_store_metric_point { /* one run's value; strings owned */
    char *run_id, *run_name, *model_name, *dataset_name, *status, *created_at;
    char *group; /* the group-by value as text, NULL when absent or not grouping */
    double value;
};

struct hret_store_metric_query {     /* all borrowed */
    const char *metric;              /* required */
    const char *subset;              /* NULL = "" (the whole run) */
    const char *model, *dataset;     /* nullable filters */
    const struct hret_strlist *runs; /* nullable: only these run ids */
    const char *group_by;            /* nullable: "metadata.a.b", "model", "dataset" */
};

/* Values oldest first. Caller owns *points (hret_store_metric_points_free). */
enum hret_result hret_store_metric_points(struct hret_store *s,
                                          const struct hret_store_metric_query *q,
                                          struct hret_store_metric_point **points, size_t *n,
                                          struct hret_err *err);
void hret_store_metric_points_free(struct hret_store_metric_point *p, size_t n);
/* One point as JSON (run_id, run_name, model, dataset, status, created_at, metric, subset,
 * value): `hret metrics --json` and GET /v1/metrics/history. All borrowed; caller owns result. */
cJSON *hret_store_metric_point_json(const struct hret_store_metric_point *p, const char *metric,
                                    const char *subset);

/* The distinct metric names stored for subset (NULL = "", the whole run), alphabetical, appended
 * to names (caller-owned): what a mistyped metric name is matched against. */
enum hret_result hret_store_metric_names(struct hret_store *s, const char *subset,
                                         struct hret_strlist *names, struct hret_err *err);

/* Turns an age ("30m", "12h", "7d", "2w") into a PostgreSQL interval ("30 minutes") in out;
 * false when text is not an age (then it is taken as a timestamp). Pure. */
bool hret_store_parse_age(const char *text, char *out, size_t cap);

#endif
