/* fake-llm: a fake OpenAI-compatible model server for integration tests, benchmarks and the
 * demo. libmicrohttpd with an epoll thread pool; delayed answers suspend their connection and
 * the timer thread (hret_fake_delay) resumes them, so thousands can wait at once. See --help. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "hret_buf.h"
#include "hret_fake_answer.h"
#include "hret_fake_config.h"
#include "hret_fake_decide.h"
#include "hret_fake_delay.h"
#include "hret_fake_dialect.h"
#include "hret_fake_key.h"
#include "hret_fake_reply.h"
#include "hret_fake_route.h"
#include "hret_fake_stats.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"

#define COMP "fake-llm"
#define BODY_MAX ((size_t)4 << 20)
#define CONNECTION_TIMEOUT_S 600u
#define LISTEN_BACKLOG 4096u
#define FD_RESERVE 64
#define DRAIN_TIMEOUT_MS 5000

struct server {
    const struct hret_fake_config *cfg;
    const struct hret_fake_key *key; /* nullable */
    struct hret_fake_delay *delay;
    struct hret_fake_stats stats;
    atomic_ullong next_request;
    uint64_t id_salt; /* keeps response ids apart across runs */
};

/* One HTTP request, owned by its connection from the first handler call to completion. */
struct request {
    enum hret_fake_endpoint ep;
    char deployment[128]; /* Azure route */
    bool too_large;
    bool suspended;
    struct hret_buf body;
    struct hret_fake_reply reply;
};

/* The uniform draws of one request, always taken in this order. */
enum draw {
    DRAW_429,
    DRAW_500,
    DRAW_503,
    DRAW_HANG,
    DRAW_MALFORMED,
    DRAW_TRUNCATED,
    DRAW_JITTER,
    DRAW_SLOW,
    DRAW_COUNT
};

struct header_scan {
    struct hret_fake_knobs *knobs;
    struct hret_err *err;
    bool accuracy_set;
};

static void draw_all(uint64_t seed, uint64_t request_no, double u[DRAW_COUNT])
{
    uint64_t state = hret_fake_mix64(seed ^ hret_fake_mix64(request_no));
    for (int i = 0; i < DRAW_COUNT; i++) {
        state += 0x9E3779B97F4A7C15ULL;
        u[i] = (double)(hret_fake_mix64(state) >> 11) * 0x1.0p-53;
    }
}

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct header_scan *scan = cls;
    if (strncasecmp(key, "x-fake-", 7) != 0) {
        return MHD_YES;
    }
    if (hret_fake_knobs_override(scan->knobs, key + 7, value != NULL ? value : "", scan->err) !=
        HRET_OK) {
        return MHD_NO;
    }
    if (strcasecmp(key + 7, "accuracy") == 0) {
        scan->accuracy_set = true;
    }
    return MHD_YES;
}

/* The faults that replace the answer: forced status, quota, 429, 500, 503. */
static bool fault_reply(const struct hret_fake_knobs *k, const double u[DRAW_COUNT],
                        struct hret_fake_reply *r)
{
    if (k->status != 0 && k->status != 200) {
        hret_fake_reply_forced(r, (unsigned)k->status, k->retry_after);
    } else if (k->quota || u[DRAW_429] < k->rate_429) {
        hret_fake_reply_rate_limited(r, k->quota, k->retry_after);
    } else if (u[DRAW_500] < k->rate_500) {
        hret_fake_reply_vllm_500(r);
    } else if (u[DRAW_503] < k->rate_503) {
        hret_fake_reply_proxy_503(r);
    } else {
        return false;
    }
    return true;
}

static void answer(struct server *srv, struct request *rq, const struct hret_fake_call *call,
                   const struct hret_fake_knobs *k, bool accuracy_set, uint64_t request_no)
{
    struct hret_err err = HRET_ERR_INIT;
    cJSON *raw = hret_json_parse(hret_buf_str(&rq->body), rq->body.len, BODY_MAX, &err);
    cJSON *req = raw != NULL ? hret_fake_dialect_request(call, raw, &rq->reply) : NULL;
    cJSON_Delete(raw);
    if (raw != NULL && req == NULL) {
        return; /* the dialect's 400 */
    }
    const char *model = NULL;
    if (req == NULL || hret_json_get_string(req, "model", true, &model, &err) != HRET_OK) {
        hret_err_prefix(&err, "request body");
        hret_fake_reply_error(&rq->reply, 400, "invalid_request_error", NULL, NULL, err.msg);
        cJSON_Delete(req);
        return;
    }
    const struct hret_fake_model_accuracy *named = hret_fake_config_model(srv->cfg, model);
    struct hret_fake_model m = {
        .key = srv->key,
        .model = named != NULL ? model : srv->cfg->model_id,
        .fingerprint = srv->cfg->fingerprint,
        .default_answer = k->default_answer,
        .accuracy = named != NULL && !accuracy_set ? named->accuracy : k->accuracy,
        .seed = k->seed,
        .logprobs = k->logprobs,
        .ignore_n = k->ignore_n,
        .context_tokens = k->context_tokens,
        .request_no = request_no ^ srv->id_salt,
        .created = (long long)time(NULL),
    };
    if (rq->ep == HRET_FAKE_EP_COMPLETIONS) {
        hret_fake_answer_completions(&m, req, &rq->reply);
    } else {
        hret_fake_answer_chat(&m, req, &rq->reply);
    }
    cJSON_Delete(req);
}

/* Breaks a successful answer as the knobs say. */
static void corrupt(struct server *srv, const struct hret_fake_knobs *k, const double u[DRAW_COUNT],
                    struct hret_fake_reply *r)
{
    if (r->status != 200) {
        return;
    }
    if (k->body_bytes > 0) {
        hret_fake_reply_pad(r, (size_t)k->body_bytes);
    }
    if (u[DRAW_MALFORMED] < k->rate_malformed) {
        hret_fake_reply_malform(r);
        hret_fake_stats_event(&srv->stats, HRET_FAKE_EV_MALFORMED);
    } else if (u[DRAW_TRUNCATED] < k->rate_truncated) {
        hret_fake_reply_truncate(r);
        hret_fake_stats_event(&srv->stats, HRET_FAKE_EV_TRUNCATED);
    }
}

/* Fills rq->reply for a chat or completions call; returns how long to hold it, in ms. */
static long model_call(struct server *srv, struct MHD_Connection *conn, struct request *rq)
{
    struct hret_fake_knobs k = srv->cfg->knobs;
    struct hret_err err = HRET_ERR_INIT;
    struct header_scan scan = {&k, &err, false};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header, &scan);
    if (err.code != HRET_OK) {
        hret_fake_reply_error(&rq->reply, 400, "invalid_request_error", NULL, NULL, err.msg);
        return 0;
    }
    if (rq->too_large) {
        hret_fake_reply_error(&rq->reply, 413, "invalid_request_error", NULL, NULL,
                              "request body exceeds 4 MiB");
        return 0;
    }
    struct hret_fake_call call =
        hret_fake_route_call(conn, rq->ep, rq->deployment, srv->cfg->api_key);
    if (!hret_fake_dialect_check(&call, &rq->reply) ||
        !hret_fake_route_headers(srv->cfg, conn, &rq->reply)) {
        hret_fake_dialect_reply(call.dialect, &rq->reply);
        return 0;
    }
    uint64_t request_no = atomic_fetch_add(&srv->next_request, 1);
    double u[DRAW_COUNT];
    draw_all(k.seed, request_no, u);
    time_t now = time(NULL);
    unsigned long long this_minute = hret_fake_stats_minute(&srv->stats, (long long)now / 60);
    if (srv->cfg->rpm > 0 && this_minute > (unsigned long long)srv->cfg->rpm) {
        hret_fake_reply_rate_limited(&rq->reply, false, 60 - (long)(now % 60));
    } else if (!fault_reply(&k, u, &rq->reply)) {
        answer(srv, rq, &call, &k, scan.accuracy_set, request_no);
    }
    hret_fake_dialect_reply(call.dialect, &rq->reply);
    corrupt(srv, &k, u, &rq->reply); /* answers only */
    if (u[DRAW_HANG] < k.rate_hang) {
        hret_fake_stats_event(&srv->stats, HRET_FAKE_EV_HANG);
        return k.hang_ms;
    }
    long ms = k.latency_ms + (long)(u[DRAW_JITTER] * (double)(k.jitter_ms + 1));
    return u[DRAW_SLOW] < k.rate_slow ? ms * k.slow_factor : ms; /* a heavy tail */
}

static void models_reply(const struct server *srv, struct hret_fake_reply *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(doc, "data");
    cJSON *model = cJSON_CreateObject();
    cJSON_AddStringToObject(model, "id", srv->cfg->model_id);
    cJSON_AddStringToObject(model, "object", "model");
    cJSON_AddNumberToObject(model, "created", 0);
    cJSON_AddStringToObject(model, "owned_by", "fake-llm");
    cJSON_AddItemToArray(data, model);
    hret_fake_reply_json(r, 200, doc);
}

static void control_reply(struct server *srv, struct request *rq)
{
    struct hret_fake_reply *r = &rq->reply;
    switch (rq->ep) {
    case HRET_FAKE_EP_MODELS:
        models_reply(srv, r);
        break;
    case HRET_FAKE_EP_HEALTH:
        hret_fake_reply_json(r, 200, cJSON_Parse("{\"status\":\"ok\"}"));
        break;
    case HRET_FAKE_EP_STATS:
        hret_fake_reply_json(r, 200, hret_fake_stats_json(&srv->stats));
        break;
    case HRET_FAKE_EP_RESET:
        hret_fake_stats_reset(&srv->stats);
        hret_fake_reply_json(r, 200, cJSON_Parse("{\"status\":\"reset\"}"));
        break;
    case HRET_FAKE_EP_BAD_METHOD:
        hret_fake_reply_error(r, 405, "invalid_request_error", NULL, NULL, "method not allowed");
        break;
    default:
        hret_fake_reply_error(r, 404, "not_found_error", NULL, NULL, "no such endpoint");
        break;
    }
}

static enum MHD_Result queue_reply(struct server *srv, struct MHD_Connection *conn,
                                   struct request *rq)
{
    struct hret_fake_reply *r = &rq->reply;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(r->len, r->body, free);
    if (resp == NULL) {
        return MHD_NO;
    }
    r->body = NULL; /* the response owns it now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->close) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    if (r->retry_after_s >= 0) {
        char value[32];
        snprintf(value, sizeof value, "%ld", r->retry_after_s);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, value);
        snprintf(value, sizeof value, "%ld", r->retry_after_s * 1000);
        MHD_add_response_header(resp, "retry-after-ms", value);
    }
    if (hret_fake_route_counted(rq->ep)) {
        hret_fake_stats_status(&srv->stats, r->status);
    }
    enum MHD_Result ret = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result first_call(struct server *srv, struct MHD_Connection *conn,
                                  const char *method, const char *url, void **con_cls)
{
    struct request *rq = hret_xcalloc(1, sizeof *rq);
    rq->ep = hret_fake_route(method, url, rq->deployment, sizeof rq->deployment);
    hret_buf_init(&rq->body, BODY_MAX);
    hret_fake_reply_init(&rq->reply);
    *con_cls = rq;
    if (hret_fake_route_counted(rq->ep)) {
        hret_fake_stats_begin(&srv->stats, rq->ep);
    }
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL && strtoull(cl, NULL, 10) > BODY_MAX) {
        hret_fake_reply_error(&rq->reply, 413, "invalid_request_error", NULL, NULL,
                              "request body exceeds 4 MiB");
        return queue_reply(srv, conn, rq);
    }
    return MHD_YES;
}

static void take_upload(struct request *rq, const char *data, size_t size)
{
    if (!rq->too_large && hret_buf_append(&rq->body, data, size, NULL) != HRET_OK) {
        rq->too_large = true;
        hret_buf_fini(&rq->body);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct server *srv = cls;
    struct request *rq = *con_cls;
    if (rq == NULL) {
        return first_call(srv, conn, method, url, con_cls);
    }
    if (rq->suspended) {
        rq->suspended = false;
        if (hret_fake_delay_resumed(srv->delay)) {
            hret_fake_reply_shutting_down(&rq->reply);
        }
        return queue_reply(srv, conn, rq);
    }
    if (*upload_data_size > 0) {
        take_upload(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    long delay_ms = 0;
    if (hret_fake_route_model_call(rq->ep)) {
        delay_ms = model_call(srv, conn, rq);
    } else {
        control_reply(srv, rq);
    }
    hret_log_debug(COMP, NULL, "%s %s -> %u after %ld ms", method, url, rq->reply.status, delay_ms);
    if (delay_ms > 0 && hret_fake_delay_suspend(srv->delay, conn, delay_ms)) {
        rq->suspended = true;
        return MHD_YES;
    }
    return queue_reply(srv, conn, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct server *srv = cls;
    struct request *rq = *con_cls;
    if (rq == NULL) {
        return;
    }
    if (rq->suspended) {
        (void)hret_fake_delay_resumed(srv->delay);
    }
    if (hret_fake_route_counted(rq->ep)) {
        hret_fake_stats_end(&srv->stats);
    }
    hret_buf_fini(&rq->body);
    hret_fake_reply_fini(&rq->reply);
    free(rq);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    hret_log_warn(COMP, NULL, "libmicrohttpd: %s", msg);
}

/* Raises the soft RLIMIT_NOFILE to the hard limit; returns the resulting soft limit. */
static long raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 1024;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            hret_log_warn(COMP, NULL, "cannot raise RLIMIT_NOFILE: %s", strerror(errno));
            getrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000 ? 1000000 : (long)rl.rlim_cur;
}

static bool make_addr(const char *host, long port, struct sockaddr_storage *ss, bool *v6)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (strcmp(host, "localhost") == 0) {
        host = "127.0.0.1";
    }
    *v6 = false;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return true;
    }
    return false;
}

static struct MHD_Daemon *start_daemon(struct server *srv, long nofile, struct hret_err *err)
{
    const struct hret_fake_config *cfg = srv->cfg;
    struct sockaddr_storage ss;
    bool v6;
    if (!make_addr(cfg->host, cfg->port, &ss, &v6)) {
        hret_err_set(err, HRET_E_CONFIG, "--host: '%s' is not an IP address", cfg->host);
        return NULL;
    }
    long limit =
        cfg->max_connections < nofile - FD_RESERVE ? cfg->max_connections : nofile - FD_RESERVE;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    /* A pool of one is refused with a warning: one thread is simply no pool. */
    struct MHD_OptionItem pool[] = {
        {cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, cfg->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    /* The logger goes first so that MHD reports option errors through it. */
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_ARRAY, pool,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(limit > 16 ? limit : 16),
        MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        LISTEN_BACKLOG, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_END);
    if (d == NULL) {
        hret_err_set(err, HRET_E_UNAVAILABLE, "cannot listen on %s:%ld", cfg->host, cfg->port);
    }
    return d;
}

static enum hret_result announce(const struct hret_fake_config *cfg, unsigned port,
                                 struct hret_err *err)
{
    bool v6 = strchr(cfg->host, ':') != NULL;
    printf(v6 ? "listening on [%s]:%u\n" : "listening on %s:%u\n", cfg->host, port);
    fflush(stdout);
    if (cfg->port_file == NULL) {
        return HRET_OK;
    }
    FILE *f = fopen(cfg->port_file, "w");
    if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0) {
        return hret_err_set(err, HRET_E_CONFIG, "--port-file: cannot write '%s'", cfg->port_file);
    }
    return HRET_OK;
}

/* Gives the answers queued by the drain a moment to reach their clients. */
static void wait_idle(struct server *srv, long timeout_ms)
{
    const struct timespec tick = {0, 10 * 1000000L};
    for (long waited = 0; waited < timeout_ms; waited += 10) {
        if (atomic_load(&srv->stats.in_flight) <= 0) {
            return;
        }
        nanosleep(&tick, NULL);
    }
}

/* Serves until SIGTERM or SIGINT (blocked by the caller before any thread started). */
static enum hret_result serve(struct server *srv, const sigset_t *stop, struct hret_err *err)
{
    long nofile = raise_nofile();
    struct MHD_Daemon *d = start_daemon(srv, nofile, err);
    if (d == NULL) {
        return err->code;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info != NULL ? info->port : 0;
    enum hret_result r = announce(srv->cfg, port, err);
    if (r == HRET_OK) {
        hret_log_info(COMP, NULL, "listening on %s:%u, %ld threads, %zu answers in the key",
                      srv->cfg->host, port, srv->cfg->threads, hret_fake_key_size(srv->key));
        int sig = 0;
        sigwait(stop, &sig);
        hret_log_info(COMP, NULL, "signal %d: stopping", sig);
    }
    MHD_socket listener = MHD_quiesce_daemon(d);
    if (!hret_fake_delay_drain(srv->delay, DRAIN_TIMEOUT_MS)) {
        hret_log_warn(COMP, NULL, "suspended connections left after the drain");
    }
    wait_idle(srv, DRAIN_TIMEOUT_MS);
    MHD_stop_daemon(d);
    if (listener != MHD_INVALID_SOCKET) {
        close(listener);
    }
    return r;
}

static int run(const struct hret_fake_config *cfg)
{
    struct hret_err err = HRET_ERR_INIT;
    struct server srv = {.cfg = cfg};
    hret_fake_stats_init(&srv.stats);
    atomic_init(&srv.next_request, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    srv.id_salt = hret_fake_mix64((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec);
    struct hret_fake_key *key = NULL;
    if (cfg->answer_key != NULL) {
        key = hret_fake_key_load(cfg->answer_key, &err);
        if (key == NULL) {
            hret_log_error(COMP, NULL, "%s", err.msg);
            return 1;
        }
    }
    srv.key = key;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ignore, NULL);
    srv.delay = hret_fake_delay_new();
    enum hret_result r = serve(&srv, &stop, &err);
    if (r != HRET_OK) {
        hret_log_error(COMP, NULL, "%s", err.msg);
    }
    hret_fake_delay_destroy(srv.delay);
    hret_fake_key_destroy(key);
    return r == HRET_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct hret_fake_config cfg;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_fake_config_parse(&cfg, argc, argv, &err) != HRET_OK) {
        fprintf(stderr, "fake-llm: %s\n", err.msg);
        return 2;
    }
    if (cfg.help) {
        hret_fake_config_usage(stdout);
        return 0;
    }
    enum hret_log_level level;
    if (!hret_log_level_parse(cfg.log_level, &level)) {
        fprintf(stderr, "fake-llm: --log-level: unknown level '%s'\n", cfg.log_level);
        return 2;
    }
    hret_log_setup(level, HRET_LOG_LOGFMT);
    cJSON_Hooks hooks = {hret_xmalloc, free};
    cJSON_InitHooks(&hooks);
    return run(&cfg);
}
