/* hret_config.yaml: the seed's keys plus the service sections (DESIGN.md §7). The field tables
 * in hret_config.c are the single description of every key; read-only once loaded. */
#ifndef HRET_CONFIG_H
#define HRET_CONFIG_H

#include <stdbool.h>

#include "hret_cfg.h"
#include "hret_err.h"
#include "hret_netguard.h"

enum hret_backend_kind {
    HRET_BACKEND_OPENAI_CHAT,
    HRET_BACKEND_OPENAI_COMPLETIONS,
    HRET_BACKEND_ANTHROPIC,
    HRET_BACKEND_AZURE_OPENAI,
};

struct hret_model_config {
    char *name;  /* the key under models: (must stay first) */
    int backend; /* enum hret_backend_kind */
    char *base_url;
    char *model;
    char *api_key_env;
    char *api_key_file;
    char *api_version;              /* azure_openai: the api-version query argument */
    char *system_message;           /* nullable */
    struct hret_kvlist headers;     /* header -> value, sent as is */
    struct hret_kvlist headers_env; /* header -> environment variable (read at send time) */
    long long max_inflight;
    long long rpm;
    long long tpm;
    long long fleet_max_inflight; /* 0: none; else the sum over every worker (PostgreSQL) */
    long long fleet_rpm;
    long long fleet_tpm;
    long long timeout_ms;
    long long connect_timeout_ms;
    long long max_retries;
    long long retry_after_cap_ms;
    long long max_response_bytes;
    long long max_tokens;
    double temperature;
    double price_input_per_1m;
    double price_output_per_1m;
    struct hret_kvlist extra_body;
    /* Not a config key: HRET_NET_ANY for models:, the endpoints policy for inline endpoints. */
    enum hret_net_policy net_policy;
};

/* evaluators.<name>: an external evaluator (hret_eval_external.h). */
struct hret_evaluator_config {
    char *name;                  /* the key under evaluators: (must stay first) */
    struct hret_strlist command; /* argv, run without a shell; command[0] found in PATH */
    long long timeout_ms;        /* the whole batch; the process group is killed after it */
};

struct hret_kafka_config {
    char *brokers;
    char *group_id;
    char *requests_topic;
    char *tasks_topic;
    char *results_topic;
    char *alerts_topic;
    long long max_message_bytes;
    struct hret_kvlist properties;
    char *sasl_password_env;
};

struct hret_postgres_config {
    char *conninfo;
    char *password_env;
};

struct hret_endpoints_config {
    bool allow_inline;
    bool allow_private_networks;
    struct hret_strlist allowlist;
};

/* Where datasets are read from (datasets.source). */
enum hret_datasets_source {
    HRET_DATASETS_AUTO,     /* an explicit data_dir: files; else an imported version; else root */
    HRET_DATASETS_POSTGRES, /* imported versions only */
    HRET_DATASETS_FILES,    /* datasets.root only */
};

struct hret_datasets_config {
    char *root;
    int source; /* enum hret_datasets_source */
    long long cache_mb;
    char *hub_rows_url;
    int invalid_utf8; /* 0 error, 1 replace */
    bool follow_symlinks;
    long long shard_size;
    long long shard_lease_s;
    long long max_shard_attempts;
};

struct hret_outbox_config {
    long long retention_s;
};

struct hret_mlflow_config {
    char *tracking_uri;
    char *experiment;
    char *token_env;
};

struct hret_wandb_config {
    char *base_url;
    char *entity;
    char *project;
    char *api_key_env;
};

struct hret_tensorboard_config {
    char *log_dir;
};

struct hret_webhook_config {
    char *name; /* nullable: the bridge then names the entry by its index */
    char *url;
    char *secret_env;
    struct hret_strlist events;
    struct hret_strlist datasets;
    struct hret_strlist models;
};

enum hret_monitor_kind {
    HRET_MONITOR_THRESHOLD,   /* metric op threshold */
    HRET_MONITOR_REGRESSION,  /* a significant drop of more than max_drop against a baseline */
    HRET_MONITOR_FINGERPRINT, /* served model id or system_fingerprint changed */
    HRET_MONITOR_FAILURE,     /* the run failed (or its error_rate exceeds threshold, when > 0) */
};

enum hret_monitor_severity {
    HRET_MONITOR_INFO,
    HRET_MONITOR_WARNING,
    HRET_MONITOR_CRITICAL,
};

struct hret_monitor_rule_config {
    char *name;
    int kind; /* enum hret_monitor_kind */
    char *metric;
    int op; /* index into "<", "<=", ">", ">=" */
    double threshold;
    char *model;                 /* fnmatch pattern, NULL = all */
    char *dataset;               /* fnmatch pattern, NULL = all */
    char *run_name;              /* fnmatch pattern, NULL = all */
    struct hret_kvlist metadata; /* metadata key -> value the run must carry */
    char *baseline;              /* "previous", "best", "mean_last_k" or a run id */
    long long k;                 /* runs averaged by mean_last_k */
    double max_drop;
    double alpha;
    int severity; /* enum hret_monitor_severity */
};

enum hret_monitor_channel_kind {
    HRET_CHANNEL_SLACK,     /* Slack-compatible incoming webhook: {"text": ...} */
    HRET_CHANNEL_WEBHOOK,   /* the alert event's JSON, HMAC-signed */
    HRET_CHANNEL_PAGERDUTY, /* PagerDuty Events API v2 */
};

struct hret_monitor_channel_config {
    char *name;
    int kind; /* enum hret_monitor_channel_kind */
    char *url;
    char *secret_env;      /* webhook: HMAC-SHA256 secret */
    char *routing_key_env; /* pagerduty: the integration's routing key */
    int min_severity;      /* enum hret_monitor_severity */
    long long timeout_ms;
    long long max_retries;
};

struct hret_monitor_config {
    long long cooldown_s;
    double alpha;
    struct hret_cfg_array rules;    /* struct hret_monitor_rule_config */
    struct hret_cfg_array channels; /* struct hret_monitor_channel_config */
};

struct hret_http_config {
    char *listen;
    long long stats_interval_s;
};

/* Which cached responses a run may reuse from other runs (response_cache); a run always reuses
 * its own (a redelivered or re-claimed shard never pays twice). */
enum hret_cache_policy {
    HRET_CACHE_DETERMINISTIC, /* requests at temperature 0 or with a seed */
    HRET_CACHE_ALWAYS,        /* every request, sampled ones too */
    HRET_CACHE_OFF,           /* none */
};

struct hret_api_config {
    char *listen;
    char *tokens_file;
    long long max_body_bytes;
    long long rate_per_minute;
    long long rate_burst;
    struct hret_strlist cors_origins;
    long long db_connections;
    long long max_connections;
    long long timeout_s;
    long long events_max_s;
};

struct hret_config {
    /* the seed's keys */
    char *default_dataset;
    char *default_model;
    char *default_split;
    char *default_evaluation_method;
    bool mlflow_tracking;
    bool wandb_tracking;
    bool tensorboard_tracking;
    char *output_dir;
    bool auto_save_results;
    int response_cache; /* enum hret_cache_policy */
    int log_level;      /* enum hret_log_level */
    int log_format;     /* enum hret_log_format */
    long long batch_size;
    long long max_workers;
    /* service sections */
    struct hret_kafka_config kafka;
    struct hret_postgres_config postgres;
    struct hret_cfg_array models;     /* struct hret_model_config */
    struct hret_cfg_array evaluators; /* struct hret_evaluator_config */
    struct hret_endpoints_config endpoints;
    struct hret_datasets_config datasets;
    struct hret_outbox_config outbox;
    struct hret_mlflow_config mlflow;
    struct hret_wandb_config wandb;
    struct hret_tensorboard_config tensorboard;
    struct hret_cfg_array webhooks; /* struct hret_webhook_config */
    struct hret_monitor_config monitor;
    struct hret_http_config http;
    struct hret_api_config api;
};

extern const struct hret_cfg_table hret_config_table;

/* The file to read: path if given, else $HRET_CONFIG, else ./hret_config.yaml when it exists,
 * else NULL (defaults and environment only). Borrowed or static result. */
const char *hret_config_locate(const char *path);

/* Loads and cross-checks the configuration into cfg (zeroed by the caller). Every problem is
 * appended to problems (nullable). Release with hret_config_fini, also after a failure. */
enum hret_result hret_config_load(struct hret_config *cfg, const char *path,
                                  struct hret_strlist *problems, struct hret_err *err);
/* The same, noting in sources (nullable, caller owns) where each value came from. */
enum hret_result hret_config_load_traced(struct hret_config *cfg, const char *path,
                                         struct hret_cfg_sources *sources,
                                         struct hret_strlist *problems, struct hret_err *err);
void hret_config_fini(struct hret_config *cfg);

/* A model config for a request's inline endpoint (allowed by `endpoints`, borrowed): the table's
 * defaults (limits, timeouts, retries) with name, base_url, model id and backend (all borrowed,
 * copied); no secret; net_policy from endpoints.allow_private_networks, so its connections are
 * checked (hret_netguard.h). Caller owns result: hret_config_model_free. */
struct hret_model_config *hret_config_model_inline(const char *name, const char *base_url,
                                                   const char *model, int backend,
                                                   const struct hret_endpoints_config *endpoints);
void hret_config_model_free(struct hret_model_config *m); /* NULL is a no-op */

/* The named model, or NULL. Borrowed. */
const struct hret_model_config *hret_config_model(const struct hret_config *cfg, const char *name);
/* The named external evaluator, or NULL (name may be NULL). Borrowed. */
const struct hret_evaluator_config *hret_config_evaluator(const struct hret_config *cfg,
                                                          const char *name);
/* Checks the model's key reference where it is read (never the value): an api_key_env variable
 * that is unset or empty, an api_key_file that cannot be read. HRET_E_CONFIG names the
 * reference. */
enum hret_result hret_config_model_key_check(const struct hret_model_config *m,
                                             struct hret_err *err);

#endif
