/* Operations: metrics, readiness, the HTTP server and the stats line (see hret_ops.h). */
#include "hret_ops.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "hret_kafka.h"
#include "hret_log.h"
#include "hret_pg.h"
#include "hret_prom.h"

#define CONNECTION_LIMIT 16
#define PER_IP_LIMIT 8
#define CONNECTION_TIMEOUT_S 10
#define CONNECTION_MEMORY 16384 /* request line and headers; bodies are never read */
#define METRICS_CAP (8u << 20)
#define QUIET_MS 5000 /* probe what has not proved itself alive for this long */
#define KAFKA_PROBE_TIMEOUT_MS 2000
#define LAG_PARTITIONS 64

/* ---- the metrics ----------------------------------------------------------------------------- */

static struct {
    struct hret_prom *p;
    struct hret_prom_metric *requests, *rejected, *runs, *shards, *samples;
    struct hret_prom_metric *ep_requests, *ep_latency, *ep_inflight, *ep_retries, *ep_429;
    struct hret_prom_metric *ep_tokens, *ep_cost;
    struct hret_prom_metric *outbox_published, *outbox_failed, *outbox_backlog;
    struct hret_prom_metric *db_write, *db_failures, *lag, *assigned, *dispatch;
    struct hret_prom_metric *events, *deliveries, *alerts, *ready;
} m;

static pthread_once_t registered = PTHREAD_ONCE_INIT;

#define FAMILY(t, n, h, ...)                                                                       \
    hret_prom_register(m.p, &(struct hret_prom_def){                                               \
                                .type = (t), .name = (n), .help = (h), .labels = {__VA_ARGS__}})

static void register_all(void)
{
    m.p = hret_prom_new();
    struct hret_prom_metric *info = FAMILY(HRET_PROM_GAUGE, "hret_build_info",
                                           "Always 1; the version of this hret.", "version");
    hret_prom_set(hret_prom_series(info, (const char *[]){HRET_VERSION}), 1);
    m.ready = FAMILY(HRET_PROM_GAUGE, "hret_ready",
                     "1 while /readyz answers 200 (as of the last tick of the main loop).", NULL);
    m.requests = FAMILY(HRET_PROM_COUNTER, "hret_requests_total",
                        "Evaluation requests consumed, by outcome.", "outcome");
    m.rejected = FAMILY(HRET_PROM_COUNTER, "hret_requests_rejected_total",
                        "Evaluation requests rejected, by reason.", "reason");
    m.runs = FAMILY(HRET_PROM_COUNTER, "hret_runs_total", "Runs finished, by outcome.", "outcome");
    m.shards =
        FAMILY(HRET_PROM_COUNTER, "hret_shards_total", "Shards finished, by outcome.", "outcome");
    m.samples = FAMILY(HRET_PROM_COUNTER, "hret_samples_scored_total",
                       "Samples answered and scored, by model.", "model");
    m.ep_requests = FAMILY(HRET_PROM_COUNTER, "hret_endpoint_requests_total",
                           "Model endpoint requests answered, by model and final HTTP status class "
                           "(none: no response).",
                           "model", "status");
    m.ep_latency = hret_prom_register(
        m.p, &(struct hret_prom_def){
                 .type = HRET_PROM_HISTOGRAM,
                 .name = "hret_endpoint_latency_seconds",
                 .help = "Model endpoint latency of the last attempt of a request, by model.",
                 .labels = {"model"},
                 .buckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
                 .bucket_count = 11});
    m.ep_inflight = FAMILY(HRET_PROM_GAUGE, "hret_endpoint_inflight_requests",
                           "Model endpoint requests sent and not answered yet, by model.", "model");
    m.ep_retries = FAMILY(HRET_PROM_COUNTER, "hret_endpoint_retries_total",
                          "Model endpoint attempts retried, by model.", "model");
    m.ep_429 = FAMILY(HRET_PROM_COUNTER, "hret_endpoint_throttled_total",
                      "Model endpoint attempts answered 429 Too Many Requests, by model.", "model");
    m.ep_tokens = FAMILY(HRET_PROM_COUNTER, "hret_endpoint_tokens_total",
                         "Tokens the endpoint reported, by model and direction (input, output).",
                         "model", "direction");
    m.ep_cost = FAMILY(HRET_PROM_COUNTER, "hret_endpoint_cost_usd_total",
                       "Cost of the tokens at the model's configured prices, by model.", "model");
    m.outbox_published = FAMILY(HRET_PROM_COUNTER, "hret_outbox_published_total",
                                "Outbox events published to Kafka.", NULL);
    m.outbox_failed = FAMILY(HRET_PROM_COUNTER, "hret_outbox_publish_failures_total",
                             "Outbox events whose publication failed (retried later).", NULL);
    m.outbox_backlog = FAMILY(HRET_PROM_GAUGE, "hret_outbox_backlog_events",
                              "Outbox events not published yet, as the relay last saw them.", NULL);
    m.db_write = hret_prom_register(
        m.p, &(struct hret_prom_def){
                 .type = HRET_PROM_HISTOGRAM,
                 .name = "hret_db_write_seconds",
                 .help = "Time to write a batch of samples to PostgreSQL (COPY).",
                 .buckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
                 .bucket_count = 12});
    m.dispatch = hret_prom_register(
        m.p, &(struct hret_prom_def){
                 .type = HRET_PROM_HISTOGRAM,
                 .name = "hret_worker_dispatch_seconds",
                 .help = "From a message's Kafka timestamp (its publication) to a worker slot "
                         "starting it, by kind (request, task).",
                 .labels = {"kind"},
                 .buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
                 .bucket_count = 12});
    m.db_failures = FAMILY(HRET_PROM_COUNTER, "hret_db_write_failures_total",
                           "Sample batches whose write to PostgreSQL failed.", NULL);
    m.lag = FAMILY(HRET_PROM_GAUGE, "hret_consumer_lag_messages",
                   "Messages behind the partition's end, per assigned partition.", "topic",
                   "partition");
    m.assigned = FAMILY(HRET_PROM_GAUGE, "hret_consumer_assigned_partitions",
                        "Partitions assigned to this consumer.", NULL);
    m.events = FAMILY(HRET_PROM_COUNTER, "hret_events_total",
                      "Result events of a follower (bridge, monitor): done, rejected "
                      "(dead-lettered) or retry.",
                      "outcome");
    m.deliveries =
        FAMILY(HRET_PROM_COUNTER, "hret_bridge_deliveries_total",
               "Bridge deliveries, by sink and outcome (ok, failed).", "sink", "outcome");
    m.alerts =
        FAMILY(HRET_PROM_COUNTER, "hret_alerts_raised_total", "Alerts raised, by rule.", "rule");
}

static struct hret_prom_series *series(struct hret_prom_metric **family, const char *a,
                                       const char *b)
{
    pthread_once(&registered, register_all);
    return hret_prom_series(*family, (const char *[]){a, b});
}

void hret_ops_request(const char *outcome)
{
    hret_prom_inc(series(&m.requests, outcome, NULL), 1);
}

void hret_ops_request_rejected(const char *reason)
{
    hret_prom_inc(series(&m.rejected, reason, NULL), 1);
}

void hret_ops_run(const char *outcome)
{
    hret_prom_inc(series(&m.runs, outcome, NULL), 1);
}

void hret_ops_shard(const char *outcome)
{
    hret_prom_inc(series(&m.shards, outcome, NULL), 1);
}

#define STATUS_CLASSES 6 /* 1xx..5xx, none */
#define MODELS 64        /* past that, models share the registry's "other" series anyway */

struct hret_ops_model {
    char name[HRET_PROM_MAX_LABEL_VALUE + 1];
    struct hret_prom_series *samples, *latency, *inflight, *retries, *throttled;
    struct hret_prom_series *tokens_in, *tokens_out, *cost;
    _Atomic(struct hret_prom_series *) status[STATUS_CLASSES]; /* on first use */
};

static struct {
    pthread_mutex_t lock;
    struct hret_ops_model items[MODELS];
    size_t count;
} models = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct hret_ops_model *hret_ops_model(const char *model)
{
    pthread_once(&registered, register_all);
    pthread_mutex_lock(&models.lock);
    struct hret_ops_model *h = NULL;
    for (size_t i = 0; i < models.count && h == NULL; i++) {
        h = strncmp(models.items[i].name, model, HRET_PROM_MAX_LABEL_VALUE) == 0 ? &models.items[i]
                                                                                 : NULL;
    }
    if (h == NULL && models.count == MODELS) {
        h = &models.items[MODELS - 1]; /* "other", made when the table filled */
    }
    if (h == NULL) {
        bool last = models.count == MODELS - 1;
        h = &models.items[models.count++];
        snprintf(h->name, sizeof h->name, "%s", last ? "other" : model);
        const char *v[] = {h->name, NULL};
        h->samples = hret_prom_series(m.samples, v);
        h->latency = hret_prom_series(m.ep_latency, v);
        h->inflight = hret_prom_series(m.ep_inflight, v);
        h->retries = hret_prom_series(m.ep_retries, v);
        h->throttled = hret_prom_series(m.ep_429, v);
        h->cost = hret_prom_series(m.ep_cost, v);
        h->tokens_in = hret_prom_series(m.ep_tokens, (const char *[]){h->name, "input"});
        h->tokens_out = hret_prom_series(m.ep_tokens, (const char *[]){h->name, "output"});
    }
    pthread_mutex_unlock(&models.lock);
    return h;
}

void hret_ops_samples_scored(struct hret_ops_model *h, size_t n)
{
    hret_prom_inc(h->samples, n);
}

void hret_ops_endpoint_request(struct hret_ops_model *h, long status, double seconds)
{
    static const char *const classes[STATUS_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx", "none"};
    size_t c = status >= 100 && status < 600 ? (size_t)(status / 100 - 1) : STATUS_CLASSES - 1;
    struct hret_prom_series *s = atomic_load_explicit(&h->status[c], memory_order_acquire);
    if (s == NULL) { /* the registry returns the same series to racing threads */
        s = hret_prom_series(m.ep_requests, (const char *[]){h->name, classes[c]});
        atomic_store_explicit(&h->status[c], s, memory_order_release);
    }
    hret_prom_inc(s, 1);
    hret_prom_observe(h->latency, seconds);
}

void hret_ops_endpoint_inflight(struct hret_ops_model *h, int delta)
{
    hret_prom_add(h->inflight, delta);
}

void hret_ops_endpoint_retries(struct hret_ops_model *h, uint64_t retries, uint64_t throttled)
{
    hret_prom_inc(h->retries, retries);
    hret_prom_inc(h->throttled, throttled);
}

void hret_ops_endpoint_tokens(struct hret_ops_model *h, long input, long output, double cost_usd)
{
    hret_prom_inc(h->tokens_in, input > 0 ? (uint64_t)input : 0);
    hret_prom_inc(h->tokens_out, output > 0 ? (uint64_t)output : 0);
    if (cost_usd > 0) {
        hret_prom_add(h->cost, cost_usd);
    }
}

void hret_ops_outbox_published(size_t published, size_t failed)
{
    hret_prom_inc(series(&m.outbox_published, NULL, NULL), published);
    hret_prom_inc(series(&m.outbox_failed, NULL, NULL), failed);
}

void hret_ops_outbox_backlog(long long rows)
{
    hret_prom_set(series(&m.outbox_backlog, NULL, NULL), (double)rows);
}

void hret_ops_db_write(double seconds, bool ok)
{
    hret_prom_observe(series(&m.db_write, NULL, NULL), seconds);
    if (!ok) {
        hret_prom_inc(series(&m.db_failures, NULL, NULL), 1);
    }
}

void hret_ops_dispatch(const char *kind, double seconds)
{
    hret_prom_observe(series(&m.dispatch, kind, NULL), seconds < 0 ? 0 : seconds);
}

void hret_ops_event(const char *outcome)
{
    hret_prom_inc(series(&m.events, outcome, NULL), 1);
}

void hret_ops_bridge_delivered(const char *sink, bool ok)
{
    hret_prom_inc(series(&m.deliveries, sink, ok ? "ok" : "failed"), 1);
}

void hret_ops_alert_raised(const char *rule)
{
    hret_prom_inc(series(&m.alerts, rule, NULL), 1);
}

char *hret_ops_metrics_text(void)
{
    pthread_once(&registered, register_all);
    struct hret_buf b;
    hret_buf_init(&b, METRICS_CAP);
    hret_prom_render(m.p, &b, NULL);
    return hret_buf_take(&b);
}

/* ---- readiness ------------------------------------------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Written by the main loop (and any thread reporting a success), read by the HTTP thread. A
 * part never heard from is not ready: the first tick probes it. */
static atomic_int pg_ok, kafka_ok, stopping;
static atomic_llong pg_seen_ms, kafka_seen_ms; /* last proof of life */

void hret_ops_stopping(void)
{
    atomic_store(&stopping, 1); /* lock-free: fine in a signal handler */
}

void hret_ops_pg(bool ok)
{
    atomic_store_explicit(&pg_ok, ok, memory_order_relaxed);
    if (ok) {
        atomic_store_explicit(&pg_seen_ms, now_ms(), memory_order_relaxed);
    }
}

void hret_ops_kafka(bool ok)
{
    atomic_store_explicit(&kafka_ok, ok, memory_order_relaxed);
    if (ok) {
        atomic_store_explicit(&kafka_seen_ms, now_ms(), memory_order_relaxed);
    }
}

/* "" when ready, else what is not, for /readyz and the stats line. */
static void readiness(char *why, size_t cap)
{
    snprintf(why, cap, "%s%s%s", atomic_load(&stopping) ? "stopping; " : "",
             atomic_load(&pg_ok) ? "" : "postgres unreachable; ",
             atomic_load(&kafka_ok) ? "" : "kafka unreachable; ");
    size_t n = strlen(why);
    if (n >= 2) {
        why[n - 2] = '\0'; /* the last "; " */
    }
}

/* ---- the HTTP server ------------------------------------------------------------------------- */

static struct {
    struct MHD_Daemon *d;
    unsigned port;
    const char *role;
    long long stats_interval_s;
} srv;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (r == NULL) {
        if (mode == MHD_RESPMEM_MUST_FREE) {
            free(body);
        }
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_GET);
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *s)
{
    return reply(c, status, "text/plain; charset=utf-8", (char *)(uintptr_t)s, strlen(s),
                 MHD_RESPMEM_MUST_COPY);
}

/* On MHD's thread: reads atomics and the registry only, never the role's clients. */
static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)cls, (void)version, (void)upload_data;
    static int headers_seen, answered;
    if (*con_cls == NULL) { /* headers only: answer on the next call */
        *con_cls = &headers_seen;
        return MHD_YES;
    }
    *upload_data_size = 0; /* a body is never read; the connection closes after the answer */
    if (*con_cls == &answered) {
        return MHD_YES;
    }
    *con_cls = &answered;
    bool metrics = strcmp(url, "/metrics") == 0, health = strcmp(url, "/healthz") == 0,
         ready = strcmp(url, "/readyz") == 0;
    if (!metrics && !health && !ready) {
        return text(c, MHD_HTTP_NOT_FOUND, "not found: GET /metrics, /healthz or /readyz\n");
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0) {
        return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET\n");
    }
    if (health) {
        return text(c, MHD_HTTP_OK, "ok\n");
    }
    if (ready) {
        char why[128], body[160];
        readiness(why, sizeof why);
        snprintf(body, sizeof body, "%s%s\n", *why ? "not ready: " : "ready", why);
        return text(c, *why ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, body);
    }
    struct hret_buf b;
    hret_buf_init(&b, METRICS_CAP);
    if (hret_prom_render(m.p, &b, NULL) != HRET_OK) {
        hret_buf_fini(&b);
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics exceed the response cap\n");
    }
    size_t len = b.len;
    return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", hret_buf_take(&b), len,
                 MHD_RESPMEM_MUST_FREE);
}

void hret_ops_mhd_log(void *comp, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    hret_log_warn(comp ? (const char *)comp : "http", NULL, "libmicrohttpd: %s", line);
}

void hret_ops_block_signals(sigset_t *old)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &block, old);
}

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT" into host (NULL: every interface) and port. */
static bool split_listen(const char *v, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = NULL;
    if (v[0] == '[') {
        const char *end = strchr(v, ']');
        if (end == NULL || end[1] != ':' || (size_t)(end - v - 1) >= hcap) {
            return false;
        }
        snprintf(host, hcap, "%.*s", (int)(end - v - 1), v + 1);
        colon = end + 1;
    } else {
        colon = strrchr(v, ':');
        if (colon == NULL || (size_t)(colon - v) >= hcap || memchr(v, ':', colon - v) != NULL) {
            return false;
        }
        snprintf(host, hcap, "%.*s", (int)(colon - v), v);
    }
    size_t n = strlen(colon + 1);
    if (n == 0 || n >= pcap || strspn(colon + 1, "0123456789") != n || atol(colon + 1) > 65535) {
        return false;
    }
    snprintf(port, pcap, "%s", colon + 1);
    return true;
}

bool hret_ops_listen_valid(const char *v, char *msg, size_t cap)
{
    char host[256], port[8];
    if (*v != '\0' && !split_listen(v, host, sizeof host, port, sizeof port)) {
        snprintf(msg, cap, "expected HOST:PORT, [IPV6]:PORT or :PORT (port 0-65535), got '%.64s'",
                 v);
        return false;
    }
    return true;
}

enum hret_result hret_ops_resolve_listen(const char *listen, const char *key, struct addrinfo **ai,
                                         char *host, size_t hcap, struct hret_err *err)
{
    char port[8];
    if (!split_listen(listen, host, hcap, port, sizeof port)) {
        return hret_err_set(err, HRET_E_CONFIG,
                            "%s '%.64s': expected HOST:PORT, [IPV6]:PORT or :PORT", key, listen);
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    int gai = getaddrinfo(*host ? host : NULL, port, &hints, ai);
    if (gai != 0) {
        return hret_err_set(err, HRET_E_CONFIG, "%s %s: %s", key, listen, gai_strerror(gai));
    }
    return HRET_OK;
}

enum hret_result hret_ops_start(const char *listen, long long stats_interval_s, const char *role,
                                struct hret_err *err)
{
    pthread_once(&registered, register_all);
    if (srv.d != NULL) {
        return hret_err_set(err, HRET_E_CONFLICT, "the metrics server already runs");
    }
    srv.role = role;
    srv.stats_interval_s = stats_interval_s;
    if (listen == NULL || *listen == '\0') {
        return HRET_OK;
    }
    char host[256];
    struct addrinfo *ai = NULL;
    if (hret_ops_resolve_listen(listen, "http.listen", &ai, host, sizeof host, err) != HRET_OK) {
        return err->code;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    /* MHD's thread inherits a mask blocking the shutdown signals, so they reach the main loop */
    sigset_t old;
    hret_ops_block_signals(&old);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, answer, NULL, MHD_OPTION_EXTERNAL_LOGGER, hret_ops_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_END); /* the logger first, as MHD wants */
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    freeaddrinfo(ai);
    if (d == NULL) {
        return hret_err_set(err, HRET_E_UNAVAILABLE,
                            "http.listen %s: cannot listen (address in use?): set http.listen to "
                            "a free address, port 0 for any, or \"\" to serve no metrics",
                            listen);
    }
    srv.d = d;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    srv.port = info ? info->port : 0;
    hret_log_info(role, NULL, "listening on %s%s%s:%u for /metrics, /healthz and /readyz",
                  strchr(host, ':') ? "[" : "", *host ? host : "0.0.0.0",
                  strchr(host, ':') ? "]" : "", srv.port);
    return HRET_OK;
}

void hret_ops_stop(void)
{
    if (srv.d != NULL) {
        MHD_stop_daemon(srv.d);
        srv.d = NULL;
        srv.port = 0;
    }
}

unsigned hret_ops_port(void)
{
    return srv.port;
}

/* ---- the main loop's tick -------------------------------------------------------------------- */

static struct {
    long long last_ms, stats_ms, pg_probe_ms, kafka_probe_ms;
    struct hret_prom_series *lag[LAG_PARTITIONS]; /* set last time: zeroed when revoked */
    size_t lag_count;
    double lag_total;
} tick;

static void probe_pg(struct hret_pg *pg)
{
    struct hret_err err = HRET_ERR_INIT;
    if (hret_pg_ensure(pg, &err) == HRET_OK &&
        hret_pg_query(pg, "readiness probe", "SELECT 1", 0, NULL, false, NULL, &err) == HRET_OK) {
        hret_ops_pg(true);
        return;
    }
    hret_ops_pg(false);
    hret_log_warn(srv.role, NULL, "not ready: %s", err.msg);
}

static void probe_kafka(rd_kafka_t *rk)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, KAFKA_PROBE_TIMEOUT_MS);
    if (md != NULL) {
        rd_kafka_metadata_destroy(md);
    }
    hret_ops_kafka(e == RD_KAFKA_RESP_ERR_NO_ERROR);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        hret_log_warn(srv.role, NULL, "not ready: kafka metadata: %s", rd_kafka_err2str(e));
    }
}

static void update_lag(struct hret_kafka_consumer *c)
{
    struct hret_kafka_lag lags[LAG_PARTITIONS];
    size_t n = hret_kafka_consumer_lag(c, lags, LAG_PARTITIONS);
    hret_prom_set(series(&m.assigned, NULL, NULL), (double)hret_kafka_consumer_assigned(c));
    struct hret_prom_series *now[LAG_PARTITIONS];
    tick.lag_total = 0;
    for (size_t i = 0; i < n; i++) {
        char part[16];
        snprintf(part, sizeof part, "%d", (int)lags[i].partition);
        now[i] = series(&m.lag, lags[i].topic, part);
        hret_prom_set(now[i], (double)lags[i].lag);
        tick.lag_total += (double)lags[i].lag;
    }
    for (size_t i = 0; i < tick.lag_count; i++) { /* revoked since: nothing to catch up here */
        bool kept = false;
        for (size_t j = 0; j < n && !kept; j++) {
            kept = now[j] == tick.lag[i];
        }
        if (!kept) {
            hret_prom_set(tick.lag[i], 0);
        }
    }
    memcpy(tick.lag, now, n * sizeof now[0]);
    tick.lag_count = n;
}

static double where(struct hret_prom_metric *f, size_t label, const char *value)
{
    return hret_prom_total_where(f, label, value);
}

static void stats_line(const char *why)
{
    double ep = hret_prom_total(m.ep_requests);
    hret_log_info(
        srv.role, NULL,
        "stats requests=%.0f rejected=%.0f runs_completed=%.0f runs_failed=%.0f shards=%.0f "
        "samples=%.0f endpoint_req=%.0f errors=%.0f retries=%.0f 429s=%.0f inflight=%.0f "
        "tokens_in=%.0f tokens_out=%.0f cost_usd=%.4f outbox_backlog=%.0f lag=%.0f events=%.0f "
        "dead_lettered=%.0f deliveries=%.0f delivery_failures=%.0f alerts=%.0f ready=%s",
        hret_prom_total(m.requests), hret_prom_total(m.rejected), where(m.runs, 0, "completed"),
        where(m.runs, 0, "failed"), hret_prom_total(m.shards), hret_prom_total(m.samples), ep,
        ep - where(m.ep_requests, 1, "2xx"), hret_prom_total(m.ep_retries),
        hret_prom_total(m.ep_429), hret_prom_total(m.ep_inflight), where(m.ep_tokens, 1, "input"),
        where(m.ep_tokens, 1, "output"), hret_prom_total(m.ep_cost),
        hret_prom_total(m.outbox_backlog), tick.lag_total, where(m.events, 0, "done"),
        where(m.events, 0, "rejected"), where(m.deliveries, 1, "ok"),
        where(m.deliveries, 1, "failed"), hret_prom_total(m.alerts), *why ? "no" : "yes");
}

void hret_ops_tick(struct hret_pg *pg, struct hret_kafka_consumer *c, struct hret_kafka_producer *p)
{
    rd_kafka_t *rk = c ? hret_kafka_consumer_handle(c) : p ? hret_kafka_producer_handle(p) : NULL;
    pthread_once(&registered, register_all);
    long long now = now_ms();
    if (now - tick.last_ms < 1000) {
        return;
    }
    tick.last_ms = now;
    if (tick.stats_ms == 0) {
        tick.stats_ms = now;
    }
    /* probes wait for QUIET_MS of silence, and QUIET_MS between them while a part is down */
    if (pg != NULL && now - atomic_load(&pg_seen_ms) >= QUIET_MS &&
        now - tick.pg_probe_ms >= QUIET_MS) {
        tick.pg_probe_ms = now;
        probe_pg(pg);
    }
    if (rk != NULL && now - atomic_load(&kafka_seen_ms) >= QUIET_MS &&
        now - tick.kafka_probe_ms >= QUIET_MS) {
        tick.kafka_probe_ms = now;
        probe_kafka(rk);
    }
    if (c != NULL) {
        update_lag(c);
    }
    char why[128];
    readiness(why, sizeof why);
    hret_prom_set(series(&m.ready, NULL, NULL), *why ? 0 : 1);
    if (srv.stats_interval_s > 0 && now - tick.stats_ms >= srv.stats_interval_s * 1000) {
        tick.stats_ms = now;
        stats_line(why);
    }
}
