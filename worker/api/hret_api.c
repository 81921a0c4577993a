/* `hret api`'s HTTP server (see hret_api.h). */
#include "hret_api.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <microhttpd.h>

#include "hret_api_db.h"
#include "hret_api_events.h"
#include "hret_api_limit.h"
#include "hret_api_routes.h"
#include "hret_api_token.h"
#include "hret_buf.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_ops.h"

#define WHO "api"
#define CONNECTION_MEMORY (64 * 1024)
#define STREAM_BLOCK 4096

static char log_comp[] = WHO; /* libmicrohttpd's messages go to the log under this */

struct hret_api {
    const struct hret_config *cfg;
    struct MHD_Daemon *d;
    unsigned port;
    struct hret_api_db *db;
    struct hret_api_limit *limit;
    struct hret_api_ctx ctx;
    atomic_bool stopping;
    pthread_rwlock_t tokens_lock;
    struct hret_api_tokens tokens; /* under tokens_lock */
    struct stat tokens_stat;       /* of the file last read (st_ino 0: none) */
    double last_check_s;
};

/* One HTTP request in progress. */
struct conn {
    struct hret_buf body;
    bool too_large;
    double started_s;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- tokens -------------------------------------------------------------------------------- */

static void reload_tokens(struct hret_api *api, bool first)
{
    struct stat st = {0};
    bool exists = stat(api->cfg->api.tokens_file, &st) == 0;
    if (!first && st.st_ino == api->tokens_stat.st_ino && st.st_size == api->tokens_stat.st_size &&
        st.st_mtim.tv_sec == api->tokens_stat.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == api->tokens_stat.st_mtim.tv_nsec) {
        return;
    }
    struct hret_api_tokens fresh = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_api_tokens_load(api->cfg->api.tokens_file, &fresh, &err) != HRET_OK) {
        hret_log_error(WHO, NULL, "%s (keeping the tokens read before)", err.msg);
        hret_api_tokens_fini(&fresh);
        api->tokens_stat = st;
        return;
    }
    pthread_rwlock_wrlock(&api->tokens_lock);
    hret_api_tokens_fini(&api->tokens);
    api->tokens = fresh;
    pthread_rwlock_unlock(&api->tokens_lock);
    api->tokens_stat = exists ? st : (struct stat){0};
    hret_log_info(WHO, NULL, "%zu token(s) from %s", fresh.count, api->cfg->api.tokens_file);
}

void hret_api_tick(struct hret_api *api)
{
    double now = now_s();
    if (api != NULL && now - api->last_check_s >= 1.0) {
        api->last_check_s = now;
        reload_tokens(api, false);
    }
}

/* The bearer token's entry (copied into out); false when there is none or it is unknown. */
static bool authenticate(struct hret_api *api, struct MHD_Connection *c, struct hret_api_token *out)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
        return false;
    }
    h += 7;
    h += strspn(h, " ");
    if (strlen(h) > 256) {
        return false;
    }
    pthread_rwlock_rdlock(&api->tokens_lock);
    const struct hret_api_token *t = hret_api_tokens_match(&api->tokens, h);
    if (t != NULL) {
        *out = *t;
    }
    pthread_rwlock_unlock(&api->tokens_lock);
    return t != NULL;
}

/* ---- replies ----------------------------------------------------------------------------- */

static void add_cors(struct hret_api *api, struct MHD_Connection *c, struct MHD_Response *r)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const struct hret_strlist *allowed = &api->cfg->api.cors_origins;
    for (size_t i = 0; origin != NULL && i < allowed->count; i++) {
        if (strcmp(allowed->items[i], "*") == 0 || strcmp(allowed->items[i], origin) == 0) {
            MHD_add_response_header(r, "Access-Control-Allow-Origin", allowed->items[i]);
            MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type, Idempotency-Key, Last-Event-ID");
            MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            MHD_add_response_header(r, "Vary", "Origin");
            return;
        }
    }
}

static struct MHD_Response *make_response(struct hret_api_reply *reply)
{
    struct MHD_Response *r = NULL;
    if (reply->stream != NULL) {
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, hret_api_stream_read,
                                              reply->stream, hret_api_stream_free);
        if (r == NULL) {
            hret_api_stream_free(reply->stream);
        }
        reply->stream = NULL;
        if (r != NULL) {
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
        }
    } else if (reply->raw != NULL) {
        r = MHD_create_response_from_buffer(reply->raw_len, (void *)(uintptr_t)reply->raw,
                                            reply->owned ? MHD_RESPMEM_MUST_COPY
                                                         : MHD_RESPMEM_PERSISTENT);
        if (r != NULL) {
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, reply->raw_type);
        }
    } else {
        char *text = reply->json ? hret_json_print(reply->json) : hret_xstrdup("{}");
        size_t len = strlen(text);
        r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
        if (r == NULL) {
            free(text);
        } else {
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        }
    }
    return r;
}

static enum MHD_Result send_reply(struct hret_api *api, struct MHD_Connection *c, const char *path,
                                  struct hret_api_reply *reply, long retry_after_s)
{
    struct MHD_Response *r = make_response(reply);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (reply->status == 401) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"hret\"");
    } else if (reply->status == 405) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, hret_api_route_allow(path));
    } else if (retry_after_s > 0) {
        char v[32];
        snprintf(v, sizeof v, "%ld", retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (reply->replayed) {
        MHD_add_response_header(r, "Idempotent-Replayed", "true");
    }
    add_cors(api, c, r);
    enum MHD_Result ret = MHD_queue_response(c, reply->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void client_ip(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "-");
    if (info != NULL && info->client_addr != NULL) {
        socklen_t len = info->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                 : sizeof(struct sockaddr_in);
        getnameinfo(info->client_addr, len, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
    }
}

/* The audit line: who (the token's name, never the token), what, the answer. */
static void audit(struct MHD_Connection *c, const char *token_name, const char *method,
                  const char *path, const struct hret_api_reply *reply, double started_s)
{
    char ip[64];
    client_ip(c, ip, sizeof ip);
    char safe_path[160];
    snprintf(safe_path, sizeof safe_path, "%s", path);
    for (char *p = safe_path; *p; p++) {
        *p = (*p < 0x21 || *p > 0x7e || *p == '"') ? '_' : *p;
    }
    hret_log_audit(WHO, NULL, "audit token=%s method=%s path=%s status=%u ms=%.1f ip=%s%s%s",
                   token_name ? token_name : "-", method, safe_path, reply->status,
                   (now_s() - started_s) * 1000.0, ip, *reply->note ? " " : "", reply->note);
}

/* ---- one request ------------------------------------------------------------------------- */

static const char *arg_of(void *conn, const char *key)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

/* Decides the reply: route, authentication, scope, rate, then the route itself. */
static long dispatch(struct hret_api *api, struct MHD_Connection *c, struct conn *cn,
                     struct hret_api_call *call, struct hret_api_reply *reply,
                     struct hret_api_token *who)
{
    unsigned status = 0;
    long retry_after = 0;
    const struct hret_api_route *route =
        hret_api_route_find(call->method, call->path, call, &status);
    unsigned scope = route ? hret_api_route_scope(route) : 0;
    if (route == NULL) {
        hret_api_reply_error(reply, status, status == 404 ? "not_found" : "method_not_allowed",
                             status == 404 ? "no such route (GET /v1/openapi.json lists them)"
                                           : "method not allowed on this route");
    } else if (cn->too_large) {
        hret_api_reply_error(reply, 413, "too_large", "the body is over api.max_body_bytes");
    } else if (scope != 0 && !authenticate(api, c, who)) {
        hret_api_reply_error(reply, 401, "unauthenticated",
                             "a valid bearer token is needed (Authorization: Bearer ...)");
    } else if (scope != 0 && (who->scopes & scope) == 0) {
        hret_api_reply_error(reply, 403, "forbidden",
                             scope == HRET_API_SCOPE_SUBMIT ? "the token lacks the submit scope"
                                                            : "the token lacks the read scope");
    } else if (scope != 0 && !hret_api_limit_take(api->limit, who->name, now_s(), &retry_after)) {
        hret_api_reply_error(reply, 429, "rate_limited",
                             "too many requests for this token (api.rate_per_minute)");
    } else {
        call->token_name = scope != 0 ? who->name : NULL;
        call->body = cn->body.data;
        call->body_len = cn->body.len;
        hret_api_route_run(route, &api->ctx, call, reply);
        retry_after = reply->status == 503 ? 5 : 0;
    }
    return retry_after;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct hret_api *api = cls;
    struct conn *cn = *con_cls;
    if (cn == NULL) {
        cn = hret_xcalloc(1, sizeof *cn);
        hret_buf_init(&cn->body, (size_t)api->cfg->api.max_body_bytes);
        cn->started_s = now_s();
        *con_cls = cn;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!cn->too_large &&
            hret_buf_append(&cn->body, upload_data, *upload_data_size, NULL) != HRET_OK) {
            cn->too_large = true; /* the rest is read and dropped, then 413 */
            hret_buf_fini(&cn->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct hret_api_call call = {
        .method = method,
        .path = url,
        .arg = arg_of,
        .conn = c,
        .idempotency_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key"),
        .last_event_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID"),
    };
    struct hret_api_reply reply = {0};
    struct hret_api_token who = {0};
    long retry_after = 0;
    if (strcmp(method, "OPTIONS") == 0 && api->cfg->api.cors_origins.count > 0) {
        reply.status = 204; /* a CORS preflight */
    } else {
        retry_after = dispatch(api, c, cn, &call, &reply, &who);
    }
    audit(c, who.name[0] ? who.name : NULL, method, url, &reply, cn->started_s);
    enum MHD_Result ret = send_reply(api, c, url, &reply, retry_after);
    cJSON_Delete(reply.json);
    free(reply.owned);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn *cn = *con_cls;
    if (cn != NULL) {
        hret_buf_fini(&cn->body);
        free(cn);
        *con_cls = NULL;
    }
}

/* ---- start and stop ------------------------------------------------------------------------ */

static struct MHD_Daemon *listen_on(struct hret_api *api, const struct addrinfo *ai)
{
    const struct hret_api_config *c = &api->cfg->api;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    /* the threads inherit a mask blocking the shutdown signals, so they reach the main loop */
    sigset_t old;
    hret_ops_block_signals(&old);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, answer, api, MHD_OPTION_EXTERNAL_LOGGER, hret_ops_mhd_log, log_comp,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)c->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        completed, api, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return d;
}

enum hret_result hret_api_start(const struct hret_config *cfg, const char *conninfo,
                                const char *openapi_json, struct hret_api **out,
                                struct hret_err *err)
{
    struct hret_api *api = hret_xcalloc(1, sizeof *api);
    api->cfg = cfg;
    pthread_rwlock_init(&api->tokens_lock, NULL);
    atomic_init(&api->stopping, false);
    reload_tokens(api, true);
    api->limit = hret_api_limit_new(cfg->api.rate_per_minute, cfg->api.rate_burst);
    char host[256];
    struct addrinfo *ai = NULL;
    if (hret_api_db_new(conninfo, cfg->postgres.password_env, (size_t)cfg->api.db_connections,
                        &api->db, err) != HRET_OK ||
        hret_ops_resolve_listen(cfg->api.listen, "api.listen", &ai, host, sizeof host, err) !=
            HRET_OK) {
        hret_api_stop(api);
        return err->code;
    }
    api->ctx =
        (struct hret_api_ctx){cfg, api->db, openapi_json, strlen(openapi_json), &api->stopping};
    api->d = listen_on(api, ai);
    freeaddrinfo(ai);
    if (api->d == NULL) {
        hret_api_stop(api);
        return hret_err_set(err, HRET_E_UNAVAILABLE,
                            "api.listen %s: cannot listen (address in use?)", cfg->api.listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->d, MHD_DAEMON_INFO_BIND_PORT);
    api->port = info ? info->port : 0;
    hret_log_info(WHO, NULL, "serving /v1 on %s%s%s:%u (tokens from %s)",
                  strchr(host, ':') ? "[" : "", *host ? host : "0.0.0.0",
                  strchr(host, ':') ? "]" : "", api->port, cfg->api.tokens_file);
    *out = api;
    return HRET_OK;
}

void hret_api_stop(struct hret_api *api)
{
    if (api == NULL) {
        return;
    }
    atomic_store(&api->stopping, true);
    if (api->d != NULL) {
        MHD_stop_daemon(api->d);
    }
    hret_api_db_destroy(api->db);
    hret_api_limit_destroy(api->limit);
    hret_api_tokens_fini(&api->tokens);
    pthread_rwlock_destroy(&api->tokens_lock);
    free(api);
}

unsigned hret_api_port(const struct hret_api *api)
{
    return api->port;
}
