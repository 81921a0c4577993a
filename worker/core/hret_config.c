#include "hret_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hret_mem.h"
#include "hret_ops.h"

/* One table line per key: AT() names the member once, for both the key and the offset. */
#define AT(type, member) .key = #member, .offset = offsetof(type, member)

static bool check_http_url(const char *v, char *msg, size_t cap)
{
    if (strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0) {
        snprintf(msg, cap, "expected an http:// or https:// URL, got '%.64s'", v);
        return false;
    }
    return true;
}

static bool check_no_password(const char *v, char *msg, size_t cap)
{
    if (strstr(v, "password") != NULL) {
        snprintf(msg, cap,
                 "secrets are never read from the config file; remove the password "
                 "and name an environment variable with 'password_env' (or use "
                 "PGPASSFILE)");
        return false;
    }
    return true;
}

static bool check_env_name(const char *v, char *msg, size_t cap)
{
    for (const char *p = v; *p; p++) {
        if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (p > v && *p >= '0' && *p <= '9'))) {
            snprintf(msg, cap,
                     "expected the name of an environment variable (not its value), "
                     "got something else");
            return false;
        }
    }
    return true;
}

static const char *const log_levels[] = {"error", "warn", "info", "debug", "trace", NULL};
static const char *const log_formats[] = {"logfmt", "json", NULL};
static const char *const invalid_utf8_policies[] = {"error", "replace", NULL};
static const char *const cache_policies[] = {"deterministic", "always", "off", NULL};
static const char *const backends[] = {"openai_chat", "openai_completions", "anthropic",
                                       "azure_openai", NULL};
static const char *const rule_ops[] = {"<", "<=", ">", ">=", NULL};

#define M struct hret_model_config
static const struct hret_cfg_field model_fields[] = {
    {AT(M, backend), .type = HRET_CFG_ENUM, .def = "openai_chat", .enums = backends,
     .desc = "API dialect: OpenAI-compatible chat completions or legacy completions, "
             "Anthropic's Messages API, or Azure OpenAI's deployment route."},
    {AT(M, base_url), .type = HRET_CFG_STR, .flags = HRET_CFG_F_REQUIRED, .check = check_http_url,
     .desc = "The provider's API base: ends in `/v1` for the OpenAI dialects "
             "(`http://127.0.0.1:8000/v1`); the root for anthropic (`https://api.anthropic.com`, "
             "hret appends `/v1/messages`); the resource endpoint for azure_openai "
             "(`https://NAME.openai.azure.com`)."},
    {AT(M, model), .type = HRET_CFG_STR, .flags = HRET_CFG_F_REQUIRED,
     .desc = "Model id sent in each request (azure_openai: the deployment name)."},
    {AT(M, api_version), .type = HRET_CFG_STR,
     .desc = "azure_openai: the `api-version` query argument (required there), e.g. "
             "`2024-10-21`."},
    {AT(M, system_message), .type = HRET_CFG_STR,
     .desc = "HRET's system message: a first message with role `system` (OpenAI dialects), "
             "the top-level `system` (anthropic); not sent to legacy completions."},
    {AT(M, headers), .type = HRET_CFG_MAP,
     .desc = "Extra request headers, name: value (a gateway's routing headers; no secrets)."},
    {AT(M, headers_env), .type = HRET_CFG_MAP,
     .desc = "Secret request headers, name: environment variable; read at send time, never "
             "logged or stored; an unset variable fails the request before it is sent."},
    {AT(M, api_key_env), .type = HRET_CFG_STR, .check = check_env_name,
     .desc = "Environment variable holding the API key (read at send time, never logged): "
             "`Authorization: Bearer`, anthropic `x-api-key`, azure_openai `api-key`."},
    {AT(M, api_key_file), .type = HRET_CFG_STR,
     .desc = "File holding the API key (alternative to `api_key_env`)."},
    {AT(M, max_inflight), .type = HRET_CFG_INT, .def = "64", .min = 1, .max = 100000,
     .desc = "Requests in flight at once for this model in one process (its runs share it)."},
    {AT(M, rpm), .type = HRET_CFG_INT, .def = "0", .min = 0, .max = 1e9,
     .desc = "Requests per minute in one process (0 = unlimited)."},
    {AT(M, tpm), .type = HRET_CFG_INT, .def = "0", .min = 0, .max = 1e12,
     .desc = "Tokens per minute in one process (0 = unlimited)."},
    {AT(M, fleet_max_inflight), .type = HRET_CFG_INT, .def = "0", .min = 0, .max = 1e7,
     .desc = "Requests in flight summed over every worker (0 = no fleet limit); shared "
             "through PostgreSQL leases, on top of `max_inflight`."},
    {AT(M, fleet_rpm), .type = HRET_CFG_INT, .def = "0", .min = 0, .max = 1e9,
     .desc = "Requests per minute summed over every worker (0 = no fleet limit)."},
    {AT(M, fleet_tpm), .type = HRET_CFG_INT, .def = "0", .min = 0, .max = 1e12,
     .desc = "Tokens per minute summed over every worker (0 = no fleet limit)."},
    {AT(M, timeout_ms), .type = HRET_CFG_INT, .def = "120000", .min = 100, .max = 3600000,
     .desc = "Per-request timeout, counted from when the request is sent."},
    {AT(M, connect_timeout_ms), .type = HRET_CFG_INT, .def = "10000", .min = 100, .max = 600000,
     .desc = "TCP/TLS connect timeout."},
    {AT(M, max_retries), .type = HRET_CFG_INT, .def = "6", .min = 0, .max = 100,
     .desc = "Retry budget per request for retriable failures (408/409/429/5xx, timeouts)."},
    {AT(M, retry_after_cap_ms), .type = HRET_CFG_INT, .def = "60000", .min = 0, .max = 3600000,
     .desc = "Longest `Retry-After` honoured; longer values fall back to backoff."},
    {AT(M, max_response_bytes), .type = HRET_CFG_INT, .def = "8388608", .min = 1024,
     .max = 1073741824, .desc = "Response body cap; larger bodies abort the transfer."},
    {AT(M, max_tokens), .type = HRET_CFG_INT, .def = "0", .min = 0, .max = 10000000,
     .desc = "Default `max_tokens` per request (0 = the server's default)."},
    {AT(M, temperature), .type = HRET_CFG_DOUBLE, .def = "0", .min = 0, .max = 2,
     .desc = "Default sampling temperature."},
    {AT(M, price_input_per_1m), .type = HRET_CFG_DOUBLE, .def = "0", .min = 0, .max = 1e6,
     .desc = "Price per million input tokens, for cost metrics."},
    {AT(M, price_output_per_1m), .type = HRET_CFG_DOUBLE, .def = "0", .min = 0, .max = 1e6,
     .desc = "Price per million output tokens, for cost metrics."},
    {AT(M, extra_body), .type = HRET_CFG_MAP,
     .desc = "Extra request-body fields passed through as strings (e.g. `top_k`)."},
    {0},
};
#undef M
static const struct hret_cfg_table model_table = {sizeof(struct hret_model_config), model_fields};

#define EV struct hret_evaluator_config
static const struct hret_cfg_field evaluator_fields[] = {
    {AT(EV, command), .type = HRET_CFG_STRLIST, .flags = HRET_CFG_F_REQUIRED,
     .desc = "argv of the external evaluator, run without a shell (`command[0]` is looked up in "
             "`PATH`): it reads the samples as `hret score` JSONL on stdin and writes one verdict "
             "per line on stdout."},
    {AT(EV, timeout_ms), .type = HRET_CFG_INT, .def = "60000", .min = 100, .max = 3600000,
     .desc = "Time a batch may take; past it the process group is killed and the batch's samples "
             "are errors."},
    {0},
};
#undef EV
static const struct hret_cfg_table evaluator_table = {sizeof(struct hret_evaluator_config),
                                                      evaluator_fields};

#define K struct hret_kafka_config
static const struct hret_cfg_field kafka_fields[] = {
    {AT(K, brokers), .type = HRET_CFG_STR, .def = "127.0.0.1:9092",
     .desc = "Bootstrap brokers (`host:port,...`)."},
    {AT(K, group_id), .type = HRET_CFG_STR, .def = "hret-workers",
     .desc = "Consumer group of the workers."},
    {AT(K, requests_topic), .type = HRET_CFG_STR, .def = "hret.eval.requests",
     .desc = "Evaluation requests (invalid ones go to `<topic>.dlq`)."},
    {AT(K, tasks_topic), .type = HRET_CFG_STR, .def = "hret.eval.tasks",
     .desc = "Shard tasks handed between workers."},
    {AT(K, results_topic), .type = HRET_CFG_STR, .def = "hret.eval.results",
     .desc = "Run results and comparisons (CloudEvents)."},
    {AT(K, alerts_topic), .type = HRET_CFG_STR, .def = "hret.eval.alerts",
     .desc = "Alerts raised by the monitor."},
    {AT(K, max_message_bytes), .type = HRET_CFG_INT, .def = "1048576", .min = 1024,
     .max = 104857600, .desc = "Largest request message accepted."},
    {AT(K, properties), .type = HRET_CFG_MAP,
     .desc = "librdkafka properties passed through as is (SASL/SSL settings; no secrets)."},
    {AT(K, sasl_password_env), .type = HRET_CFG_STR, .check = check_env_name,
     .desc = "Environment variable holding `sasl.password` (never in the file)."},
    {0},
};
#undef K
static const struct hret_cfg_table kafka_table = {sizeof(struct hret_kafka_config), kafka_fields};

#define P struct hret_postgres_config
static const struct hret_cfg_field postgres_fields[] = {
    {AT(P, conninfo), .type = HRET_CFG_STR, .check = check_no_password,
     .desc = "libpq connection string, without a password (`HRET_PG` also sets it)."},
    {AT(P, password_env), .type = HRET_CFG_STR, .check = check_env_name,
     .desc = "Environment variable holding the PostgreSQL password."},
    {0},
};
#undef P
static const struct hret_cfg_table postgres_table = {sizeof(struct hret_postgres_config),
                                                     postgres_fields};

#define E struct hret_endpoints_config
static const struct hret_cfg_field endpoints_fields[] = {
    {AT(E, allow_inline), .type = HRET_CFG_BOOL, .def = "false",
     .desc = "Accept endpoints given inline in requests (only hosts on the allowlist)."},
    {AT(E, allow_private_networks), .type = HRET_CFG_BOOL, .def = "false",
     .desc = "Let inline endpoints reach loopback and private addresses (RFC 1918, RFC 4193); "
             "link-local and cloud metadata addresses stay refused. Checked on the address "
             "connected to."},
    {AT(E, allowlist), .type = HRET_CFG_STRLIST,
     .desc = "What inline endpoints may name: `host[:port]`, `*.example.com[:port]` or "
             "`[v6addr][:port]`; an entry without a port allows 80 and 443 only."},
    {0},
};
#undef E
static const struct hret_cfg_table endpoints_table = {sizeof(struct hret_endpoints_config),
                                                      endpoints_fields};

static const char *const dataset_sources[] = {"auto", "postgres", "files", NULL};

#define D struct hret_datasets_config
static const struct hret_cfg_field datasets_fields[] = {
    {AT(D, root), .type = HRET_CFG_STR, .def = "./data",
     .desc = "Directory holding downloaded benchmark files."},
    {AT(D, source), .type = HRET_CFG_ENUM, .def = "auto", .enums = dataset_sources,
     .desc = "Where runs read datasets: `auto` (an explicit `--data-dir` or request `data_dir` "
             "reads files; else the latest version imported with `hret dataset import` when a "
             "database is configured; else `datasets.root`), `postgres` (imported versions "
             "only) or `files` (`datasets.root` only)."},
    {AT(D, cache_mb), .type = HRET_CFG_INT, .def = "512", .min = 0, .max = 1048576,
     .desc = "Memory a worker keeps imported dataset versions in, least recently used first "
             "out (0: no cache, every run reads its version from PostgreSQL)."},
    {AT(D, hub_rows_url), .type = HRET_CFG_STR, .def = "https://datasets-server.huggingface.co",
     .check = check_http_url,
     .desc = "The Hugging Face rows API that `hret dataset import NAME --from hub:OWNER/NAME` "
             "pages through."},
    {AT(D, follow_symlinks), .type = HRET_CFG_BOOL, .def = "false",
     .desc = "Read data files through symbolic links that lead out of `datasets.root` (or "
             "`--data-dir`); off, such a file is refused."},
    {AT(D, shard_size), .type = HRET_CFG_INT, .def = "256", .min = 1, .max = 1000000,
     .desc = "Samples per shard when a run is split across workers."},
    {AT(D, invalid_utf8), .type = HRET_CFG_ENUM, .def = "error", .enums = invalid_utf8_policies,
     .desc = "Invalid UTF-8 in a dataset file: `error` (the load fails naming file:line:column) "
             "or `replace` (U+FFFD, counted in the run summary); `hret run --invalid-utf8`."},
    {AT(D, shard_lease_s), .type = HRET_CFG_INT, .def = "60", .min = 3, .max = 86400,
     .desc = "Seconds a worker holds a shard unrenewed (it renews every third of that); a shard "
             "whose worker died is run again by another once its lease has run out."},
    {AT(D, max_shard_attempts), .type = HRET_CFG_INT, .def = "5", .min = 1, .max = 1000,
     .desc = "Times a shard is handed out (claims, steals, re-queues after a lost lease) before "
             "its run fails with the shard's last error."},
    {0},
};
#undef D
static const struct hret_cfg_table datasets_table = {sizeof(struct hret_datasets_config),
                                                     datasets_fields};

#define OB struct hret_outbox_config
static const struct hret_cfg_field outbox_fields[] = {
    {AT(OB, retention_s), .type = HRET_CFG_INT, .def = "604800", .min = 60, .max = 315360000,
     .desc = "Seconds a published outbox row is kept; then a worker prunes it (the shard tasks of "
             "runs still going stay: the lease sweep copies them)."},
    {0},
};
#undef OB
static const struct hret_cfg_table outbox_table = {sizeof(struct hret_outbox_config),
                                                   outbox_fields};

#define ML struct hret_mlflow_config
static const struct hret_cfg_field mlflow_fields[] = {
    {AT(ML, tracking_uri), .type = HRET_CFG_STR, .def = "http://127.0.0.1:5000",
     .check = check_http_url, .desc = "MLflow tracking server."},
    {AT(ML, experiment), .type = HRET_CFG_STR, .def = "hret",
     .desc = "Default experiment when a request names none."},
    {AT(ML, token_env), .type = HRET_CFG_STR, .check = check_env_name,
     .desc = "Environment variable holding a bearer token for MLflow."},
    {0},
};
#undef ML
static const struct hret_cfg_table mlflow_table = {sizeof(struct hret_mlflow_config),
                                                   mlflow_fields};

#define W struct hret_wandb_config
static const struct hret_cfg_field wandb_fields[] = {
    {AT(W, base_url), .type = HRET_CFG_STR, .def = "https://api.wandb.ai", .check = check_http_url,
     .desc = "W&B API server."},
    {AT(W, entity), .type = HRET_CFG_STR, .desc = "W&B entity (user or team)."},
    {AT(W, project), .type = HRET_CFG_STR, .def = "llm_evaluation",
     .desc = "Default project when a request names none."},
    {AT(W, api_key_env), .type = HRET_CFG_STR, .def = "WANDB_API_KEY", .check = check_env_name,
     .desc = "Environment variable holding the W&B API key."},
    {0},
};
#undef W
static const struct hret_cfg_table wandb_table = {sizeof(struct hret_wandb_config), wandb_fields};

static const struct hret_cfg_field tensorboard_fields[] = {
    {AT(struct hret_tensorboard_config, log_dir), .type = HRET_CFG_STR, .def = "./hret_tb",
     .desc = "Directory for TensorBoard event files: <run_name or request id>/<model>/ per "
             "run."},
    {0},
};
static const struct hret_cfg_table tensorboard_table = {sizeof(struct hret_tensorboard_config),
                                                        tensorboard_fields};

#define WH struct hret_webhook_config
static const struct hret_cfg_field webhook_fields[] = {
    {AT(WH, name), .type = HRET_CFG_STR,
     .desc = "Name in logs and delivery records (default: the entry's index); give one so "
             "reordering the list does not make the bridge send past events again."},
    {AT(WH, url), .type = HRET_CFG_STR, .flags = HRET_CFG_F_REQUIRED, .check = check_http_url,
     .desc = "Receiver of result events (POST, JSON)."},
    {AT(WH, secret_env), .type = HRET_CFG_STR, .check = check_env_name,
     .desc = "Environment variable holding the HMAC-SHA256 signing secret."},
    {AT(WH, events), .type = HRET_CFG_STRLIST, .desc = "Event types to send (empty = all)."},
    {AT(WH, datasets), .type = HRET_CFG_STRLIST, .desc = "Datasets to send (empty = all)."},
    {AT(WH, models), .type = HRET_CFG_STRLIST, .desc = "Models to send (empty = all)."},
    {0},
};
#undef WH
static const struct hret_cfg_table webhook_table = {sizeof(struct hret_webhook_config),
                                                    webhook_fields};

static const char *const rule_kinds[] = {"threshold", "regression", "fingerprint", "failure", NULL};
static const char *const severities[] = {"info", "warning", "critical", NULL};
static const char *const channel_kinds[] = {"slack", "webhook", "pagerduty", NULL};

#define R struct hret_monitor_rule_config
static const struct hret_cfg_field rule_fields[] = {
    {AT(R, name), .type = HRET_CFG_STR, .flags = HRET_CFG_F_REQUIRED,
     .desc = "Rule name (part of the alert dedupe key)."},
    {AT(R, kind), .type = HRET_CFG_ENUM, .def = "threshold", .enums = rule_kinds,
     .desc = "threshold, regression (significant drop against `baseline`), fingerprint (served "
             "model or system_fingerprint changed) or failure (failed run; error_rate above "
             "`threshold` when it is > 0)."},
    {AT(R, metric), .type = HRET_CFG_STR, .def = "accuracy", .desc = "Metric the rule watches."},
    {AT(R, op), .type = HRET_CFG_ENUM, .def = "<", .enums = rule_ops,
     .desc = "threshold: fires when `metric op threshold`."},
    {AT(R, threshold), .type = HRET_CFG_DOUBLE, .def = "0", .desc = "Bound for the metric."},
    {AT(R, model), .type = HRET_CFG_STR,
     .desc = "Only runs of matching models (glob; default: all)."},
    {AT(R, dataset), .type = HRET_CFG_STR,
     .desc = "Only runs on matching datasets (glob; default: all)."},
    {AT(R, run_name), .type = HRET_CFG_STR,
     .desc = "Only runs whose run_name matches (glob; default: all)."},
    {AT(R, metadata), .type = HRET_CFG_MAP,
     .desc = "Only runs whose request metadata has these top-level values (compared as text)."},
    {AT(R, baseline), .type = HRET_CFG_STR, .def = "previous",
     .desc = "regression: `previous` completed run of the model and dataset, `best`, "
             "`mean_last_k` or a pinned run id."},
    {AT(R, k), .type = HRET_CFG_INT, .def = "5", .min = 1, .max = 1000,
     .desc = "regression with `mean_last_k`: runs averaged."},
    {AT(R, max_drop), .type = HRET_CFG_DOUBLE, .def = "0.02", .min = 0, .max = 1,
     .desc = "regression: least drop (fraction, 0.02 = 2 points) that may fire."},
    {AT(R, alpha), .type = HRET_CFG_DOUBLE, .def = "0", .min = 0, .max = 0.5,
     .desc = "regression: significance level (0 = `monitor.alpha`)."},
    {AT(R, severity), .type = HRET_CFG_ENUM, .def = "warning", .enums = severities,
     .desc = "Severity of the alerts the rule raises."},
    {0},
};
#undef R
static const struct hret_cfg_table rule_table = {sizeof(struct hret_monitor_rule_config),
                                                 rule_fields};

#define CH struct hret_monitor_channel_config
static const struct hret_cfg_field channel_fields[] = {
    {AT(CH, name), .type = HRET_CFG_STR, .flags = HRET_CFG_F_REQUIRED,
     .desc = "Channel name (delivery records, logs)."},
    {AT(CH, kind), .type = HRET_CFG_ENUM, .def = "webhook", .enums = channel_kinds,
     .desc = "slack (incoming webhook text), webhook (signed JSON) or pagerduty (Events API v2)."},
    {AT(CH, url), .type = HRET_CFG_STR, .flags = HRET_CFG_F_REQUIRED, .check = check_http_url,
     .desc = "Where alerts are POSTed (PagerDuty: https://events.pagerduty.com/v2/enqueue)."},
    {AT(CH, secret_env), .type = HRET_CFG_STR, .check = check_env_name,
     .desc = "webhook: environment variable holding the HMAC-SHA256 signing secret."},
    {AT(CH, routing_key_env), .type = HRET_CFG_STR, .check = check_env_name,
     .desc = "pagerduty: environment variable holding the integration's routing key."},
    {AT(CH, min_severity), .type = HRET_CFG_ENUM, .def = "info", .enums = severities,
     .desc = "Alerts below this severity are not sent to the channel."},
    {AT(CH, timeout_ms), .type = HRET_CFG_INT, .def = "10000", .min = 100, .max = 600000,
     .desc = "Per-attempt timeout, counted from send."},
    {AT(CH, max_retries), .type = HRET_CFG_INT, .def = "3", .min = 0, .max = 100,
     .desc = "Quick retries per delivery; the monitor keeps retrying with backoff after that."},
    {0},
};
#undef CH
static const struct hret_cfg_table channel_table = {sizeof(struct hret_monitor_channel_config),
                                                    channel_fields};

#define MO struct hret_monitor_config
static const struct hret_cfg_field monitor_fields[] = {
    {AT(MO, cooldown_s), .type = HRET_CFG_INT, .def = "3600", .min = 0, .max = 604800,
     .desc = "Least time between two alerts of a dedupe key that is still open (repeats in "
             "between are suppressed; a resolved key raises again at once)."},
    {AT(MO, alpha), .type = HRET_CFG_DOUBLE, .def = "0.05", .min = 0.0001, .max = 0.5,
     .desc = "Two-sided significance level of regression rules."},
    {AT(MO, rules), .type = HRET_CFG_LIST, .sub = &rule_table,
     .desc = "Alert rules applied to every run (requests add their own)."},
    {AT(MO, channels), .type = HRET_CFG_LIST, .sub = &channel_table,
     .desc = "Where alerts are delivered besides the alerts topic."},
    {0},
};
#undef MO
static const struct hret_cfg_table monitor_table = {sizeof(struct hret_monitor_config),
                                                    monitor_fields};

static const struct hret_cfg_field http_fields[] = {
    {AT(struct hret_http_config, listen), .type = HRET_CFG_STR, .def = "127.0.0.1:9464",
     .check = hret_ops_listen_valid,
     .desc = "Address (`HOST:PORT`, `[IPV6]:PORT`, `:PORT` for every interface) of `/metrics`, "
             "`/healthz` and `/readyz` in each long-running role; port 0 picks a free one (the "
             "log says which), `\"\"` serves none."},
    {AT(struct hret_http_config, stats_interval_s), .type = HRET_CFG_INT, .def = "60", .min = 0,
     .max = 86400, .desc = "Seconds between the one-line `stats` log lines of a role; 0 = none."},
    {0},
};
static const struct hret_cfg_table http_table = {sizeof(struct hret_http_config), http_fields};

#define A struct hret_api_config
static const struct hret_cfg_field api_fields[] = {
    {AT(A, listen), .type = HRET_CFG_STR, .def = "127.0.0.1:8080", .check = hret_ops_listen_valid,
     .desc = "Address of `hret api` (`HOST:PORT`, `[IPV6]:PORT`, `:PORT`; port 0 picks a free one "
             "and the log says which). Its `/healthz`, `/readyz` and `/metrics` stay on "
             "`http.listen`."},
    {AT(A, tokens_file), .type = HRET_CFG_STR, .def = "./hret_api_tokens",
     .desc = "File of the API's bearer tokens: name, scopes and SHA-256 hash per line, never the "
             "token (`hret api token add|list|revoke`); re-read when it changes."},
    {AT(A, max_body_bytes), .type = HRET_CFG_INT, .def = "1048576", .min = 1024, .max = 104857600,
     .desc = "Largest request body accepted (413 above)."},
    {AT(A, rate_per_minute), .type = HRET_CFG_INT, .def = "600", .min = 0, .max = 1000000,
     .desc = "Requests per minute per token (429 with `Retry-After` above); 0 = unlimited."},
    {AT(A, rate_burst), .type = HRET_CFG_INT, .def = "60", .min = 1, .max = 1000000,
     .desc = "Requests a token may send at once before `rate_per_minute` paces it."},
    {AT(A, cors_origins), .type = HRET_CFG_STRLIST,
     .desc = "Origins allowed to call the API from a browser (`*` = any); empty = no CORS "
             "headers."},
    {AT(A, db_connections), .type = HRET_CFG_INT, .def = "4", .min = 1, .max = 256,
     .desc = "PostgreSQL connections the API's request threads share."},
    {AT(A, max_connections), .type = HRET_CFG_INT, .def = "64", .min = 1, .max = 10000,
     .desc = "HTTP connections served at once (each has a thread; event streams hold one)."},
    {AT(A, timeout_s), .type = HRET_CFG_INT, .def = "30", .min = 1, .max = 3600,
     .desc = "Seconds an idle HTTP connection is kept, and the longest wait for a database "
             "connection."},
    {AT(A, events_max_s), .type = HRET_CFG_INT, .def = "3600", .min = 1, .max = 86400,
     .desc = "Longest a `/v1/requests/{id}/events` stream stays open (the client reconnects)."},
    {0},
};
#undef A
static const struct hret_cfg_table api_table = {sizeof(struct hret_api_config), api_fields};

#define C struct hret_config
static const struct hret_cfg_field config_fields[] = {
    {AT(C, default_dataset), .type = HRET_CFG_STR, .def = "kmmlu",
     .desc = "Dataset used when a command or request names none."},
    {AT(C, default_model), .type = HRET_CFG_STR,
     .desc = "Entry of `models` used when a command or request names none."},
    {AT(C, default_split), .type = HRET_CFG_STR, .def = "test", .desc = "Default dataset split."},
    {AT(C, default_evaluation_method), .type = HRET_CFG_STR, .def = "string_match",
     .desc = "Default evaluator."},
    {AT(C, mlflow_tracking), .type = HRET_CFG_BOOL, .def = "false",
     .desc = "Forward every run to MLflow unless its request says otherwise."},
    {AT(C, wandb_tracking), .type = HRET_CFG_BOOL, .def = "false",
     .desc = "Forward every run to Weights & Biases unless its request says otherwise."},
    {AT(C, tensorboard_tracking), .type = HRET_CFG_BOOL, .def = "false",
     .desc = "Write TensorBoard event files for every run unless its request says otherwise."},
    {AT(C, output_dir), .type = HRET_CFG_STR, .def = "./hret_results",
     .desc = "Where results JSON files are written."},
    {AT(C, auto_save_results), .type = HRET_CFG_BOOL, .def = "true",
     .desc = "Write a results JSON file for every `hret run`."},
    {AT(C, response_cache), .type = HRET_CFG_ENUM, .def = "deterministic", .enums = cache_policies,
     .desc = "Responses reused from other runs' cache: `deterministic` (requests at temperature 0 "
             "or with a seed), `always` (sampled answers too) or `off`. A run always reuses its "
             "own responses (a redelivered shard never pays twice); `hret run --no-cache` uses "
             "no cache at all."},
    {AT(C, log_level), .type = HRET_CFG_ENUM, .def = "info", .enums = log_levels,
     .desc = "Least severe log level printed (case-insensitive)."},
    {AT(C, log_format), .type = HRET_CFG_ENUM, .def = "logfmt", .enums = log_formats,
     .desc = "Log line format on stderr."},
    {AT(C, batch_size), .type = HRET_CFG_INT, .def = "32", .min = 1, .max = 100000,
     .desc = "Samples scored and written per batch."},
    {AT(C, max_workers), .type = HRET_CFG_INT, .def = "4", .min = 1, .max = 1024,
     .desc = "Shards a worker process runs at once."},
    {AT(C, kafka), .type = HRET_CFG_SECTION, .sub = &kafka_table, .desc = "Kafka."},
    {AT(C, postgres), .type = HRET_CFG_SECTION, .sub = &postgres_table, .desc = "PostgreSQL."},
    {AT(C, models), .type = HRET_CFG_NAMED, .sub = &model_table,
     .desc = "Named model endpoints that requests refer to."},
    {AT(C, evaluators), .type = HRET_CFG_NAMED, .sub = &evaluator_table,
     .desc = "Named external evaluators that `--method` or a request's evaluation method picks."},
    {AT(C, endpoints), .type = HRET_CFG_SECTION, .sub = &endpoints_table,
     .desc = "Endpoint policy."},
    {AT(C, datasets), .type = HRET_CFG_SECTION, .sub = &datasets_table, .desc = "Datasets."},
    {AT(C, outbox), .type = HRET_CFG_SECTION, .sub = &outbox_table,
     .desc = "The workers' transactional outbox."},
    {AT(C, mlflow), .type = HRET_CFG_SECTION, .sub = &mlflow_table, .desc = "MLflow bridge."},
    {AT(C, wandb), .type = HRET_CFG_SECTION, .sub = &wandb_table, .desc = "W&B bridge."},
    {AT(C, tensorboard), .type = HRET_CFG_SECTION, .sub = &tensorboard_table,
     .desc = "TensorBoard bridge."},
    {AT(C, webhooks), .type = HRET_CFG_LIST, .sub = &webhook_table,
     .desc = "Webhook receivers of result events."},
    {AT(C, monitor), .type = HRET_CFG_SECTION, .sub = &monitor_table, .desc = "Monitor."},
    {AT(C, http), .type = HRET_CFG_SECTION, .sub = &http_table, .desc = "Metrics endpoint."},
    {AT(C, api), .type = HRET_CFG_SECTION, .sub = &api_table, .desc = "`hret api`."},
    {0},
};
#undef C

const struct hret_cfg_table hret_config_table = {sizeof(struct hret_config), config_fields};

struct hret_model_config *hret_config_model_inline(const char *name, const char *base_url,
                                                   const char *model, int backend,
                                                   const struct hret_endpoints_config *endpoints)
{
    struct hret_model_config *m = hret_xcalloc(1, sizeof *m);
    struct hret_err err = HRET_ERR_INIT;
    /* an empty document: every key takes its default; it cannot fail */
    (void)hret_cfg_load_text(&model_table, m, "inline endpoint", "{}", 2, NULL, &err);
    free(m->name);
    free(m->base_url);
    free(m->model);
    m->name = hret_xstrdup(name);
    m->base_url = hret_xstrdup(base_url);
    m->model = hret_xstrdup(model);
    m->backend = backend;
    m->net_policy = endpoints->allow_private_networks ? HRET_NET_PRIVATE_OK : HRET_NET_PUBLIC;
    return m;
}

void hret_config_model_free(struct hret_model_config *m)
{
    if (m != NULL) {
        free(m->name); /* the entry's name is freed by its parent array, and this has none */
        hret_cfg_free(&model_table, m);
        free(m);
    }
}

const char *hret_config_locate(const char *path)
{
    if (path != NULL) {
        return path;
    }
    const char *env = getenv("HRET_CONFIG");
    if (env != NULL && *env != '\0') {
        return env;
    }
    return access("hret_config.yaml", R_OK) == 0 ? "hret_config.yaml" : NULL;
}

/* A header name is an HTTP token; a value holds no line break (either would let a config
 * value forge another header). */
static bool header_ok(const char *name, const char *value)
{
    if (*name == '\0' || strspn(name, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(name)) {
        return false;
    }
    return value == NULL || strpbrk(value, "\r\n") == NULL;
}

/* The problem of one model entry that spans keys (caller owns result), or NULL. */
static char *model_problem(const struct hret_model_config *m)
{
    char why[160];
    if (m->api_key_env != NULL && m->api_key_file != NULL) {
        return hret_xasprintf("models.%s: set api_key_env or api_key_file, not both", m->name);
    }
    if (m->backend == HRET_BACKEND_AZURE_OPENAI && (m->api_version == NULL || !*m->api_version)) {
        return hret_xasprintf("models.%s: backend azure_openai needs api_version (e.g. "
                              "\"2024-10-21\")",
                              m->name);
    }
    for (size_t i = 0; i < m->headers.count; i++) {
        if (!header_ok(m->headers.keys[i], m->headers.values[i])) {
            return hret_xasprintf("models.%s.headers: '%.64s' is not a header name, or its value "
                                  "holds a line break",
                                  m->name, m->headers.keys[i]);
        }
    }
    for (size_t i = 0; i < m->headers_env.count; i++) {
        if (!header_ok(m->headers_env.keys[i], NULL) ||
            !check_env_name(m->headers_env.values[i], why, sizeof why) ||
            !*m->headers_env.values[i]) {
            return hret_xasprintf("models.%s.headers_env.%.64s: expected a header name and the "
                                  "name of an environment variable (not its value)",
                                  m->name, m->headers_env.keys[i]);
        }
    }
    return NULL;
}

/* Checks that span several keys; single-key rules live in the tables. */
static size_t cross_check(const struct hret_config *cfg, const char *name,
                          struct hret_strlist *problems, struct hret_err *err)
{
    size_t found = 0;
    for (size_t i = 0; i < cfg->models.count; i++) {
        const struct hret_model_config *m = (const struct hret_model_config *)cfg->models.items + i;
        char *why = model_problem(m);
        if (why != NULL) {
            char *msg = hret_xasprintf("%s: %s", name, why);
            free(why);
            hret_err_set(err, HRET_E_CONFIG, "%s", msg);
            found++;
            if (problems != NULL) {
                hret_strlist_push(problems, msg);
            } else {
                free(msg);
            }
        }
    }
    return found;
}

enum hret_result hret_config_load(struct hret_config *cfg, const char *path,
                                  struct hret_strlist *problems, struct hret_err *err)
{
    return hret_config_load_traced(cfg, path, NULL, problems, err);
}

enum hret_result hret_config_load_traced(struct hret_config *cfg, const char *path,
                                         struct hret_cfg_sources *sources,
                                         struct hret_strlist *problems, struct hret_err *err)
{
    enum hret_result r =
        hret_cfg_load_file_traced(&hret_config_table, cfg, path, sources, problems, err);
    /* HRET_PG is the documented short form for every command that talks to PostgreSQL. */
    const char *pg = getenv("HRET_PG");
    if (pg != NULL && *pg != '\0') {
        free(cfg->postgres.conninfo);
        cfg->postgres.conninfo = hret_xstrdup(pg);
        hret_cfg_sources_note(sources, "postgres.conninfo", "environment HRET_PG");
    }
    const char *kafka = getenv("HRET_KAFKA");
    if (kafka != NULL && *kafka != '\0') {
        free(cfg->kafka.brokers);
        cfg->kafka.brokers = hret_xstrdup(kafka);
        hret_cfg_sources_note(sources, "kafka.brokers", "environment HRET_KAFKA");
    }
    size_t crossed = cross_check(cfg, path ? path : "(defaults)", problems, err);
    return r != HRET_OK || crossed > 0 ? HRET_E_CONFIG : HRET_OK;
}

void hret_config_fini(struct hret_config *cfg)
{
    hret_cfg_free(&hret_config_table, cfg);
}

const struct hret_model_config *hret_config_model(const struct hret_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->models.count; i++) {
        const struct hret_model_config *m = (const struct hret_model_config *)cfg->models.items + i;
        if (strcmp(m->name, name) == 0) {
            return m;
        }
    }
    return NULL;
}

const struct hret_evaluator_config *hret_config_evaluator(const struct hret_config *cfg,
                                                          const char *name)
{
    for (size_t i = 0; name != NULL && i < cfg->evaluators.count; i++) {
        const struct hret_evaluator_config *e =
            (const struct hret_evaluator_config *)cfg->evaluators.items + i;
        if (strcmp(e->name, name) == 0) {
            return e;
        }
    }
    return NULL;
}

enum hret_result hret_config_model_key_check(const struct hret_model_config *m,
                                             struct hret_err *err)
{
    if (m->api_key_env != NULL) {
        const char *v = getenv(m->api_key_env);
        if (v == NULL || *v == '\0') {
            return hret_err_set(err, HRET_E_CONFIG,
                                "models.%s.api_key_env: environment variable %s is not set",
                                m->name, m->api_key_env);
        }
    } else if (m->api_key_file != NULL && access(m->api_key_file, R_OK) != 0) {
        return hret_err_set(err, HRET_E_CONFIG, "models.%s.api_key_file: cannot read %s: %s",
                            m->name, m->api_key_file, strerror(errno));
    }
    return HRET_OK;
}
