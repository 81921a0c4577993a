#include "hret_http.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "hret_buf.h"
#include "hret_bucket.h"
#include "hret_cfg.h"
#include "hret_clock.h"
#include "hret_h1.h"
#include "hret_http_mux.h"
#include "hret_log.h"
#include "hret_mem.h"

#define IDLE_EASY_MAX 4096
/* libcurl's receive buffer, one per handle for as long as the handle lives (16 KB by default):
 * a model's reply is mostly a few hundred bytes to a few KB, and at 10,000 in flight the default
 * alone would be 160 MB. A longer reply takes more reads, not more memory. */
#define RECV_BUFFER_BYTES 4096L
#define BACKOFF_BASE_MS 500.0
#define BACKOFF_MAX_MS 30000.0
#define SECRET_MAX_BYTES 8192
#define BASIC_USER_MAX_BYTES 256
#define HEAD_MAX_BYTES (1 << 20) /* a request's line and headers */

struct job {
    struct job *next, *prev; /* ready queue (next only) or the in-flight list */
    struct hret_http *h;     /* for the guarded socket callbacks */
    int pool;
    char *url;
    char *body;
    size_t body_len;
    char *method;              /* NULL: POST with a body, GET without */
    char *content_type_header; /* NULL: application/json */
    long est_tokens;
    struct hret_strlist extra_headers;
    hret_http_done_fn *done;
    void *user;
    int attempts;
    int lane; /* of the mux, while sent through libcurl */
    double submit_ms, sent_ms, due_ms;
    double ttfb_ms;               /* of the last attempt */
    bool own;                     /* sent through hret_h1 (target set), else libcurl (easy) */
    struct hret_h1_target target; /* where an own request goes */
    CURL *easy;
    struct curl_slist *headers;
    struct hret_buf head; /* header lines (and for hret_h1 the request line): may hold a secret */
    struct hret_buf resp;
    double retry_after_ms; /* from retry-after-ms, < 0 when absent */
    const char *refused;   /* a guarded pool refused an address of this class (static) */
    bool refused_private;  /* ... which allow_private_networks would allow */
    char *errbuf;          /* libcurl's words (CURL_ERROR_SIZE), for a job it carries; else NULL */
};

struct pool {
    struct hret_http_limits lim; /* its strings point to the owned copies below */
    char *name, *api_key_env, *api_key_file, *api_key_user, *api_key_header;
    struct hret_strlist lines;                     /* fixed and plain headers, "Name: value" */
    struct hret_strlist secret_names, secret_envs; /* headers_env */
    struct job *head, *tail;
    double limit;       /* effective in-flight limit, lowered after 429s */
    double pause_until; /* no new sends before this (after a 429) */
    struct hret_bucket rpm, tpm;
    struct hret_http_gate gate; /* acquire NULL: none */
    struct hret_http_stats stats;
};

struct hret_http {
    struct hret_mux *mux;
    struct hret_h1 *h1;
    bool h1_ok; /* no proxy in the environment: plain http to an IP address goes through h1 */
    struct pool *pools;
    size_t npools;
    struct job **heap; /* retries waiting for their due time, min-heap on due_ms */
    size_t heap_len, heap_cap;
    size_t pending;
    struct job *active; /* sent and not finished */
    CURL **idle;
    size_t nidle;
    uint64_t rng;
};

static double rand01(struct hret_http *h)
{
    h->rng ^= h->rng << 13;
    h->rng ^= h->rng >> 7;
    h->rng ^= h->rng << 17;
    return (double)(h->rng >> 11) / 9007199254740992.0;
}

/* ---- retry heap ------------------------------------------------------------------------------ */

static void heap_swap(struct hret_http *h, size_t a, size_t b)
{
    struct job *t = h->heap[a];
    h->heap[a] = h->heap[b];
    h->heap[b] = t;
}

static void heap_push(struct hret_http *h, struct job *j)
{
    if (h->heap_len == h->heap_cap) {
        h->heap_cap = h->heap_cap ? h->heap_cap * 2 : 64;
        h->heap = hret_xrealloc(h->heap, h->heap_cap * sizeof *h->heap);
    }
    size_t i = h->heap_len++;
    h->heap[i] = j;
    while (i > 0 && h->heap[(i - 1) / 2]->due_ms > h->heap[i]->due_ms) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct job *heap_pop(struct hret_http *h)
{
    struct job *top = h->heap[0];
    h->heap[0] = h->heap[--h->heap_len];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->heap_len && h->heap[l]->due_ms < h->heap[m]->due_ms) {
            m = l;
        }
        if (r < h->heap_len && h->heap[r]->due_ms < h->heap[m]->due_ms) {
            m = r;
        }
        if (m == i) {
            break;
        }
        heap_swap(h, i, m);
        i = m;
    }
    return top;
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

/* Guarded pools (net_policy set, inline endpoints): the address about to be connected to, after
 * resolution and without resolving again, must be allowed. */
static bool guard_refuses(struct job *j, enum hret_net_class c, const char *what)
{
    if (hret_net_allowed(j->h->pools[j->pool].lim.net_policy, c)) {
        return false;
    }
    j->refused = what;
    j->refused_private = c == HRET_NET_CLASS_PRIVATE;
    return true;
}

static curl_socket_t on_open_socket_guarded(void *userp, curlsocktype purpose,
                                            struct curl_sockaddr *addr)
{
    struct job *j = userp;
    const char *what = NULL;
    enum hret_net_class c = hret_net_classify(&addr->addr, &what);
    if (guard_refuses(j, c, what)) {
        return CURL_SOCKET_BAD;
    }
    return hret_mux_open_socket(j->h->mux, purpose, addr);
}

/* A reused connection opens no socket: its peer is checked before the request is sent. */
static int on_prereq_guarded(void *userp, char *primary_ip, char *local_ip, int primary_port,
                             int local_port)
{
    (void)local_ip, (void)primary_port, (void)local_port;
    enum hret_net_class c = HRET_NET_CLASS_FORBIDDEN;
    const char *what = "not an IP address";
    (void)hret_net_classify_text(primary_ip, &c, &what);
    return guard_refuses(userp, c, what) ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

static void on_done(void *user, CURL *e, CURLcode c);
static void on_h1_done(void *user, const struct hret_h1_result *r);

/* libcurl sends plain http through a proxy named in the environment; hret_h1 never does. */
static bool proxy_in_env(void)
{
    static const char *const names[] = {"http_proxy", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && *v != '\0') {
            return true;
        }
    }
    return false;
}

struct hret_http *hret_http_new(struct hret_err *err)
{
    struct hret_http *h = hret_xcalloc(1, sizeof *h);
    h->mux = hret_mux_new(on_done, h, err);
    h->h1 = h->mux != NULL ? hret_h1_new(on_h1_done, err) : NULL;
    if (h->h1 == NULL) {
        hret_mux_destroy(h->mux);
        free(h);
        return NULL;
    }
    hret_mux_wake_on(h->mux, hret_h1_fd(h->h1));
    h->h1_ok = !proxy_in_env();
    h->rng = (uint64_t)(hret_clock_now_ms() * 1000.0) | 1u;
    return h;
}

static void free_job(struct job *j)
{
    free(j->url);
    free(j->body);
    free(j->method);
    free(j->content_type_header);
    hret_strlist_fini(&j->extra_headers);
    hret_buf_fini(&j->head);
    hret_buf_fini(&j->resp);
    free(j->errbuf);
    free(j);
}

/* An attempt sent under the gate is over (busy_until_ms: see hret_http_gate). */
static void gate_release(struct pool *p, double busy_until_ms)
{
    if (p->gate.release != NULL) {
        p->gate.release(p->gate.user, busy_until_ms);
    }
}

/* Zeroes and frees the request headers (one of them may carry the API key). */
static void free_headers(struct job *j)
{
    for (struct curl_slist *s = j->headers; s != NULL; s = s->next) {
        memset(s->data, 0, strlen(s->data));
    }
    curl_slist_free_all(j->headers);
    j->headers = NULL;
    if (j->head.data != NULL) {
        memset(j->head.data, 0, j->head.len);
    }
    hret_buf_reset(&j->head);
}

void hret_http_destroy(struct hret_http *h)
{
    if (h == NULL) {
        return;
    }
    for (struct job *j = h->active, *next; j != NULL; j = next) {
        next = j->next;
        /* abandoned: the server may answer it until its timeout, and the budget says so */
        gate_release(&h->pools[j->pool], j->sent_ms + (double)h->pools[j->pool].lim.timeout_ms);
        if (!j->own) {
            hret_mux_remove(h->mux, j->lane, j->easy);
            curl_easy_cleanup(j->easy);
        }
        free_headers(j);
        free_job(j);
    }
    for (size_t i = 0; i < h->heap_len; i++) {
        free_job(h->heap[i]);
    }
    for (size_t p = 0; p < h->npools; p++) {
        struct pool *pl = &h->pools[p];
        for (struct job *j = pl->head, *next; j != NULL; j = next) {
            next = j->next;
            free_job(j);
        }
        free(pl->name);
        free(pl->api_key_env);
        free(pl->api_key_file);
        free(pl->api_key_user);
        free(pl->api_key_header);
        hret_strlist_fini(&pl->lines);
        hret_strlist_fini(&pl->secret_names);
        hret_strlist_fini(&pl->secret_envs);
    }
    for (size_t i = 0; i < h->nidle; i++) {
        curl_easy_cleanup(h->idle[i]);
    }
    free(h->idle);
    free(h->heap);
    free(h->pools);
    hret_h1_destroy(h->h1);
    hret_mux_destroy(h->mux);
    free(h);
}

/* The pool's own copies of the header lists; the limits' pointers to them are cleared. */
static void copy_headers(struct pool *p, const struct hret_http_limits *limits)
{
    for (const char *const *l = limits->fixed_headers; l != NULL && *l != NULL; l++) {
        hret_strlist_push(&p->lines, hret_xstrdup(*l));
    }
    for (size_t i = 0; limits->headers != NULL && i < limits->headers->count; i++) {
        hret_strlist_push(&p->lines, hret_xasprintf("%s: %s", limits->headers->keys[i],
                                                    limits->headers->values[i]));
    }
    for (size_t i = 0; limits->headers_env != NULL && i < limits->headers_env->count; i++) {
        hret_strlist_push(&p->secret_names, hret_xstrdup(limits->headers_env->keys[i]));
        hret_strlist_push(&p->secret_envs, hret_xstrdup(limits->headers_env->values[i]));
    }
    p->lim.fixed_headers = NULL;
    p->lim.headers = p->lim.headers_env = NULL;
}

int hret_http_add_pool(struct hret_http *h, const struct hret_http_limits *limits,
                       struct hret_err *err)
{
    if (limits->max_inflight < 1 || limits->timeout_ms < 1 || limits->max_response_bytes < 1) {
        hret_err_set(err, HRET_E_CONFIG,
                     "%s: max_inflight, timeout_ms and max_response_bytes "
                     "must be positive",
                     limits->name);
        return -1;
    }
    if (limits->api_key_user != NULL && strlen(limits->api_key_user) > BASIC_USER_MAX_BYTES) {
        hret_err_set(err, HRET_E_CONFIG, "%s: the basic-auth user is longer than %d bytes",
                     limits->name, BASIC_USER_MAX_BYTES);
        return -1;
    }
    h->pools = hret_xrealloc(h->pools, (h->npools + 1) * sizeof *h->pools);
    struct pool *p = &h->pools[h->npools];
    memset(p, 0, sizeof *p);
    p->lim = *limits;
    p->lim.name = p->name = hret_xstrdup(limits->name ? limits->name : "endpoint");
    p->lim.api_key_env = p->api_key_env = hret_xstrdup(limits->api_key_env);
    p->lim.api_key_file = p->api_key_file = hret_xstrdup(limits->api_key_file);
    p->lim.api_key_user = p->api_key_user = hret_xstrdup(limits->api_key_user);
    p->lim.api_key_header = p->api_key_header = hret_xstrdup(limits->api_key_header);
    copy_headers(p, limits);
    p->limit = (double)limits->max_inflight;
    double now = hret_clock_now_ms();
    hret_bucket_init(&p->rpm, (double)limits->rpm, (double)limits->rpm, true, now);
    hret_bucket_init(&p->tpm, (double)limits->tpm, (double)limits->tpm, true, now);
    if (limits->gate != NULL) {
        p->gate = *limits->gate;
    }
    p->lim.gate = NULL;
    return (int)h->npools++;
}

enum hret_result hret_http_submit(struct hret_http *h, int pool,
                                  const struct hret_http_request *req, hret_http_done_fn *done,
                                  void *user, struct hret_err *err)
{
    if (pool < 0 || (size_t)pool >= h->npools) {
        return hret_err_set(err, HRET_E_INVAL, "no such endpoint pool %d", pool);
    }
    struct pool *p = &h->pools[pool];
    struct job *j = hret_xcalloc(1, sizeof *j);
    j->h = h;
    j->pool = pool;
    j->url = hret_xstrdup(req->url);
    if (req->body != NULL) {
        j->body = hret_xstrndup(req->body, req->body_len);
        j->body_len = req->body_len;
    }
    j->method = hret_xstrdup(req->method);
    if (req->content_type != NULL) {
        j->content_type_header = hret_xasprintf("Content-Type: %s", req->content_type);
    }
    j->est_tokens = req->est_tokens;
    for (const char *const *hd = req->headers; hd != NULL && *hd != NULL; hd++) {
        hret_strlist_push(&j->extra_headers, hret_xstrdup(*hd));
    }
    j->done = done;
    j->user = user;
    j->submit_ms = hret_clock_now_ms();
    j->own = h->h1_ok && hret_h1_target(j->url, &j->target);
    hret_buf_init(&j->head, HEAD_MAX_BYTES);
    hret_buf_init(&j->resp, p->lim.max_response_bytes);
    if (p->tail != NULL) {
        p->tail->next = j;
    } else {
        p->head = j;
    }
    p->tail = j;
    h->pending++;
    return HRET_OK;
}

void hret_http_adjust_tokens(struct hret_http *h, int pool, long delta)
{
    struct pool *p = &h->pools[pool];
    hret_bucket_take(&p->tpm, (double)delta);
    if (p->gate.adjust != NULL) {
        p->gate.adjust(p->gate.user, delta);
    }
}

void hret_http_stats(const struct hret_http *h, int pool, struct hret_http_stats *out)
{
    *out = h->pools[pool].stats;
    out->limit = (long)h->pools[pool].limit;
}

/* ---- sending --------------------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    struct job *j = userp;
    return hret_buf_append(&j->resp, data, size * n, NULL) == HRET_OK ? size * n : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    struct job *j = userp;
    size_t len = size * n;
    static const char name[] = "retry-after-ms:";
    if (len > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
        char value[32];
        size_t vlen =
            len - (sizeof name - 1) < sizeof value - 1 ? len - (sizeof name - 1) : sizeof value - 1;
        memcpy(value, data + sizeof name - 1, vlen);
        value[vlen] = '\0';
        char *end = NULL;
        double ms = strtod(value, &end);
        if (end != value && isfinite(ms) && ms >= 0) {
            j->retry_after_ms = ms;
        }
    }
    return len;
}

/* Appends the header line "name: value" (value len bytes) to the request's head. */
static enum hret_result append_header(struct hret_buf *head, const char *name, const char *value,
                                      size_t len, struct hret_err *err)
{
    enum hret_result r = hret_buf_append(head, name, strlen(name), err);
    r = r == HRET_OK ? hret_buf_append(head, ": ", 2, err) : r;
    r = r == HRET_OK ? hret_buf_append(head, value, len, err) : r;
    return r == HRET_OK ? hret_buf_append(head, "\r\n", 2, err) : r;
}

/* Appends a "Name: value" line as it is. */
static enum hret_result append_line(struct hret_buf *head, const char *line, struct hret_err *err)
{
    enum hret_result r = hret_buf_append(head, line, strlen(line), err);
    return r == HRET_OK ? hret_buf_append(head, "\r\n", 2, err) : r;
}

/* The key header (Authorization, or the provider's) from the secret reference, or an error
 * naming the reference (never the value). */
static enum hret_result auth_header(const struct pool *p, struct hret_buf *head,
                                    struct hret_err *err)
{
    char secret[SECRET_MAX_BYTES];
    size_t len = 0;
    if (p->lim.api_key_env != NULL) {
        const char *v = getenv(p->lim.api_key_env);
        if (v == NULL || *v == '\0') {
            return hret_err_set(err, HRET_E_CONFIG,
                                "%s: environment variable %s (api_key_env) is not set", p->lim.name,
                                p->lim.api_key_env);
        }
        len = strlen(v) < sizeof secret - 1 ? strlen(v) : sizeof secret - 1;
        memcpy(secret, v, len);
    } else if (p->lim.api_key_file != NULL) {
        FILE *f = fopen(p->lim.api_key_file, "rb");
        if (f == NULL) {
            return hret_err_set(err, HRET_E_CONFIG, "%s: cannot read api_key_file %s", p->lim.name,
                                p->lim.api_key_file);
        }
        len = fread(secret, 1, sizeof secret - 1, f);
        fclose(f);
    } else {
        return HRET_OK;
    }
    while (len > 0 &&
           (secret[len - 1] == '\n' || secret[len - 1] == '\r' || secret[len - 1] == ' ')) {
        len--;
    }
    static const char bearer[] = "Bearer ";
    static const char basic[] = "Basic ";
    char value[sizeof basic + 4 * ((BASIC_USER_MAX_BYTES + SECRET_MAX_BYTES + 2) / 3) + 1];
    enum hret_result r;
    if (p->lim.api_key_header != NULL) {
        r = append_header(head, p->lim.api_key_header, secret, len, err);
    } else if (p->lim.api_key_user == NULL) {
        memcpy(value, bearer, sizeof bearer - 1);
        memcpy(value + sizeof bearer - 1, secret, len);
        r = append_header(head, "Authorization", value, sizeof bearer - 1 + len, err);
    } else { /* base64(user:key), as curl's CURLAUTH_BASIC would send it */
        char plain[BASIC_USER_MAX_BYTES + 1 + SECRET_MAX_BYTES];
        int n = snprintf(plain, BASIC_USER_MAX_BYTES + 2, "%s:", p->lim.api_key_user);
        n = n < BASIC_USER_MAX_BYTES + 1 ? n : BASIC_USER_MAX_BYTES + 1;
        memcpy(plain + n, secret, len);
        memcpy(value, basic, sizeof basic - 1);
        int enc = EVP_EncodeBlock((unsigned char *)value + sizeof basic - 1, (unsigned char *)plain,
                                  n + (int)len);
        memset(plain, 0, sizeof plain);
        r = append_header(head, "Authorization", value, sizeof basic - 1 + (size_t)enc, err);
    }
    memset(secret, 0, sizeof secret);
    memset(value, 0, sizeof value);
    return r;
}

/* The headers_env headers, or an error naming the variable (never a value). */
static enum hret_result secret_headers(const struct pool *p, struct hret_buf *head,
                                       struct hret_err *err)
{
    for (size_t i = 0; i < p->secret_names.count; i++) {
        const char *v = getenv(p->secret_envs.items[i]);
        if (v == NULL || *v == '\0') {
            return hret_err_set(err, HRET_E_CONFIG,
                                "%s: environment variable %s (headers_env.%s) is not set",
                                p->lim.name, p->secret_envs.items[i], p->secret_names.items[i]);
        }
        size_t len = strlen(v) < SECRET_MAX_BYTES ? strlen(v) : SECRET_MAX_BYTES;
        if (append_header(head, p->secret_names.items[i], v, len, err) != HRET_OK) {
            return err->code;
        }
    }
    return HRET_OK;
}

/* The header lines every attempt sends, "Name: value\r\n" each, the secret ones last. */
static enum hret_result header_lines(const struct pool *p, const struct job *j,
                                     struct hret_buf *head, struct hret_err *err)
{
    enum hret_result r = append_line(
        head, j->content_type_header ? j->content_type_header : "Content-Type: application/json",
        err);
    for (size_t i = 0; i < p->lines.count && r == HRET_OK; i++) {
        r = append_line(head, p->lines.items[i], err);
    }
    for (size_t i = 0; i < j->extra_headers.count && r == HRET_OK; i++) {
        r = append_line(head, j->extra_headers.items[i], err);
    }
    r = r == HRET_OK ? auth_header(p, head, err) : r;
    return r == HRET_OK ? secret_headers(p, head, err) : r;
}

static enum hret_result deliver(struct job *j, enum hret_result code, long status,
                                const char *error)
{
    struct hret_http_result r = {
        .code = code,
        .status = status,
        .body = hret_buf_str(&j->resp),
        .body_len = j->resp.len,
        .error = error ? error : "",
        .attempts = j->attempts,
    };
    if (j->sent_ms > 0) {
        r.timing.queued_ms = j->sent_ms - j->submit_ms;
        r.timing.total_ms = hret_clock_now_ms() - j->sent_ms;
    }
    r.timing.ttfb_ms = j->ttfb_ms;
    return j->done(j->user, &r);
}

static void release_easy(struct hret_http *h, struct job *j)
{
    if (j->easy == NULL) {
        return;
    }
    if (h->nidle < IDLE_EASY_MAX) {
        if (h->idle == NULL) {
            h->idle = hret_xmalloc(IDLE_EASY_MAX * sizeof *h->idle);
        }
        h->idle[h->nidle++] = j->easy; /* send_job sets every option it relies on */
    } else {
        curl_easy_cleanup(j->easy);
    }
    j->easy = NULL;
}

/* The request is over: count it and free it. */
static void finish(struct hret_http *h, struct job *j)
{
    h->pools[j->pool].stats.completed++;
    h->pending--;
    release_easy(h, j);
    free_job(j);
}

/* The request line and every header of an attempt, for hret_h1. */
static enum hret_result own_head(const struct pool *p, struct job *j, struct hret_err *err)
{
    const char *method = j->method ? j->method : j->body ? "POST" : "GET";
    enum hret_result r = hret_buf_appendf(&j->head, err, "%s %s HTTP/1.1\r\nHost: %s\r\n", method,
                                          j->target.path, j->target.authority);
    if (r == HRET_OK && j->body != NULL) {
        r = hret_buf_appendf(&j->head, err, "Content-Length: %zu\r\n", j->body_len);
    }
    r = r == HRET_OK ? header_lines(p, j, &j->head, err) : r;
    return r == HRET_OK ? hret_buf_append(&j->head, "\r\n", 2, err) : r;
}

/* The header lines of an attempt as libcurl takes them (the head is emptied). */
static enum hret_result curl_headers(const struct pool *p, struct job *j, struct hret_err *err)
{
    if (header_lines(p, j, &j->head, err) != HRET_OK) {
        return err->code;
    }
    j->headers = curl_slist_append(NULL, "Expect:");
    for (char *line = j->head.data, *end; j->headers != NULL && line != NULL && *line != '\0';
         line = end + 2) {
        end = strstr(line, "\r\n");
        *end = '\0';
        j->headers = curl_slist_append(j->headers, line);
    }
    hret_buf_reset(&j->head);
    return j->headers != NULL ? HRET_OK : hret_err_set(err, HRET_E_FATAL, "out of memory");
}

/* The attempt through libcurl (its handle e). */
static void curl_send(struct hret_http *h, struct pool *p, struct job *j, CURL *e)
{
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)j);
    if (j->errbuf == NULL) {
        j->errbuf = hret_xmalloc(CURL_ERROR_SIZE);
    }
    j->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, p->lim.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p->lim.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUFFER_BYTES);
    bool guarded = p->lim.net_policy != HRET_NET_ANY; /* only inline endpoints pay for it */
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
                     guarded ? on_open_socket_guarded : hret_mux_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, guarded ? (void *)j : (void *)h->mux);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, guarded ? on_prereq_guarded : NULL);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, j);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, hret_mux_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, h->mux);
    if (j->body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, j->method); /* NULL resets a reused handle */
    j->lane = hret_mux_add(h->mux, e);
}

/* Sends one attempt of j. On a local failure (no handle, missing secret) completes it. */
static void send_job(struct hret_http *h, struct job *j)
{
    struct pool *p = &h->pools[j->pool];
    struct hret_err err = HRET_ERR_INIT;
    CURL *e = j->own ? NULL : h->nidle > 0 ? h->idle[--h->nidle] : curl_easy_init();
    j->easy = e;
    if ((!j->own && e == NULL) ||
        (j->own ? own_head(p, j, &err) : curl_headers(p, j, &err)) != HRET_OK) {
        free_headers(j);
        gate_release(p, 0);
        deliver(j, err.code ? err.code : HRET_E_FATAL, 0, err.code ? err.msg : "no handle");
        finish(h, j); /* the handle goes back to the idle list */
        return;
    }
    j->attempts++;
    j->retry_after_ms = -1;
    j->ttfb_ms = 0;
    j->refused = NULL;
    hret_buf_reset(&j->resp);
    j->sent_ms = hret_clock_now_ms();
    p->stats.requests++;
    p->stats.inflight++;
    j->prev = NULL;
    j->next = h->active;
    if (h->active != NULL) {
        h->active->prev = j;
    }
    h->active = j;
    if (!j->own) {
        curl_send(h, p, j, e);
        return;
    }
    hret_h1_send(h->h1, &(struct hret_h1_request){.target = &j->target,
                                                  .head = j->head.data,
                                                  .head_len = j->head.len,
                                                  .body = j->body,
                                                  .body_len = j->body_len,
                                                  .head_only = j->method != NULL &&
                                                               strcmp(j->method, "HEAD") == 0,
                                                  .resp = &j->resp,
                                                  .timeout_ms = p->lim.timeout_ms,
                                                  .connect_timeout_ms = p->lim.connect_timeout_ms,
                                                  .policy = p->lim.net_policy,
                                                  .user = j});
}

/* Starts what each pool's limits allow. Returns the earliest time a blocked pool could go on
 * (INFINITY when none is blocked by time). */
static double start_ready(struct hret_http *h, double now)
{
    double wake = INFINITY;
    for (size_t i = 0; i < h->npools; i++) {
        struct pool *p = &h->pools[i];
        hret_bucket_refill(&p->rpm, now);
        hret_bucket_refill(&p->tpm, now);
        while (p->head != NULL && (double)p->stats.inflight < p->limit) {
            if (now < p->pause_until) {
                wake = fmin(wake, p->pause_until);
                break;
            }
            struct job *j = p->head;
            double wait = fmax(hret_bucket_wait(&p->rpm, 1),
                               hret_bucket_wait(&p->tpm, (double)j->est_tokens));
            if (wait <= 0 && p->gate.acquire != NULL) {
                wait = p->gate.acquire(p->gate.user, j->est_tokens);
            }
            if (wait > 0) {
                wake = fmin(wake, now + wait);
                break;
            }
            hret_bucket_take(&p->rpm, 1);
            hret_bucket_take(&p->tpm, (double)j->est_tokens);
            p->head = j->next;
            if (p->head == NULL) {
                p->tail = NULL;
            }
            j->next = NULL;
            send_job(h, j);
        }
    }
    return wake;
}

/* ---- completion and retries ------------------------------------------------------------------ */

/* How one attempt ended, whichever transport carried it. */
enum attempt_end { A_OK, A_TIMEOUT, A_CONNECTION, A_TOO_BIG, A_REFUSED, A_FAILED };

struct attempt {
    enum attempt_end end;
    long status;        /* A_OK: the HTTP status */
    const char *detail; /* A_CONNECTION and A_FAILED: the transport's words */
};

struct outcome {
    enum hret_result code;
    bool retriable;
    char msg[CURL_ERROR_SIZE + 128];
};

/* Classifies one attempt. */
static struct outcome classify(const struct pool *p, const struct job *j, const struct attempt *a)
{
    struct outcome o = {HRET_OK, false, ""};
    long status = a->status;
    if (a->end == A_REFUSED) {
        o.code = HRET_E_INVAL;
        snprintf(o.msg, sizeof o.msg,
                 "connection refused by the endpoint policy: the address is %s (%s)", j->refused,
                 j->refused_private ? "set endpoints.allow_private_networks to allow it"
                                    : "never allowed for inline endpoints");
    } else if (a->end == A_TOO_BIG) {
        o.code = HRET_E_PROTO;
        snprintf(o.msg, sizeof o.msg, "response body exceeds the %zu-byte cap (max_response_bytes)",
                 j->resp.max);
    } else if (a->end == A_TIMEOUT) {
        o = (struct outcome){HRET_E_TIMEOUT, true, ""};
        snprintf(o.msg, sizeof o.msg, "timed out after %ld ms (timeout_ms)", p->lim.timeout_ms);
    } else if (a->end == A_CONNECTION) {
        o = (struct outcome){HRET_E_UNAVAILABLE, true, ""};
        snprintf(o.msg, sizeof o.msg, "connection error: %s", a->detail);
    } else if (a->end == A_FAILED) {
        o.code = HRET_E_PROTO;
        snprintf(o.msg, sizeof o.msg, "transfer failed: %s", a->detail);
    } else if (status >= 200 && status < 300) {
        return o;
    } else if (status == 429 && strstr(hret_buf_str(&j->resp), "insufficient_quota") != NULL) {
        o.code = HRET_E_INVAL;
        snprintf(o.msg, sizeof o.msg, "HTTP 429 insufficient_quota (not retried)");
    } else if (status == 408 || status == 409 || status == 429 || status >= 500) {
        o = (struct outcome){status == 408 ? HRET_E_TIMEOUT : HRET_E_UNAVAILABLE, true, ""};
        snprintf(o.msg, sizeof o.msg, "HTTP %ld", status);
    } else {
        o.code = HRET_E_INVAL;
        snprintf(o.msg, sizeof o.msg, "HTTP %ld (not retried)", status);
    }
    return o;
}

static void count_status(struct pool *p, const struct attempt *a)
{
    long status = a->status;
    if (a->end == A_TIMEOUT) {
        p->stats.timeouts++;
    } else if (a->end != A_OK) {
        p->stats.conn_errors++;
    } else if (status == 429) {
        p->stats.status_429++;
        p->stats.status_4xx++;
    } else if (status >= 500) {
        p->stats.status_5xx++;
    } else if (status >= 400) {
        p->stats.status_4xx++;
    } else if (status >= 200 && status < 300) {
        p->stats.status_2xx++;
    }
}

/* Delay before the next attempt: the server's Retry-After when given and within the cap,
 * else exponential backoff with full jitter. */
static double retry_delay(struct hret_http *h, const struct pool *p, const struct job *j)
{
    double ra = j->retry_after_ms;
    if (ra > 0 && ra <= (double)p->lim.retry_after_cap_ms) {
        return ra;
    }
    double ceiling = fmin(BACKOFF_MAX_MS, BACKOFF_BASE_MS * pow(2.0, j->attempts - 1));
    return rand01(h) * ceiling;
}

/* An attempt of j is over (it left the transport): deliver it, retry it or give up. */
static void attempt_over(struct hret_http *h, struct job *j, const struct attempt *a)
{
    free_headers(j);
    if (j->prev != NULL) {
        j->prev->next = j->next;
    } else {
        h->active = j->next;
    }
    if (j->next != NULL) {
        j->next->prev = j->prev;
    }
    j->next = j->prev = NULL;
    struct pool *p = &h->pools[j->pool];
    p->stats.inflight--;
    gate_release(p, 0);
    count_status(p, a);
    struct outcome o = classify(p, j, a);
    long status = a->status;
    if (o.code == HRET_OK) {
        if (deliver(j, HRET_OK, status, "") != HRET_AGAIN) {
            if (p->limit < (double)p->lim.max_inflight) {
                p->limit = fmin((double)p->lim.max_inflight, p->limit + 1);
            }
            finish(h, j);
            return;
        }
        o = (struct outcome){HRET_E_PROTO, true, "malformed response body"};
    }
    double now = hret_clock_now_ms();
    if (o.retriable && j->attempts <= p->lim.max_retries) {
        double delay = retry_delay(h, p, j);
        if (status == 429) { /* slow the whole model, once per pause window */
            if (now >= p->pause_until) {
                p->limit = fmax(1.0, floor(p->limit / 2));
            }
            p->pause_until = fmax(p->pause_until, now + delay);
        }
        hret_log_debug("http", p->lim.name, "attempt %d failed (%s), retrying in %.0f ms",
                       j->attempts, o.msg, delay);
        p->stats.retries++;
        release_easy(h, j);
        j->due_ms = now + delay;
        heap_push(h, j);
        return;
    }
    if (o.retriable) {
        size_t n = strlen(o.msg);
        snprintf(o.msg + n, sizeof o.msg - n, " (gave up after %d attempts)", j->attempts);
    }
    deliver(j, o.code, status, o.msg);
    finish(h, j);
}

static bool is_connection_error(CURLcode c)
{
    return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_SEND_ERROR ||
           c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE ||
           c == CURLE_HTTP2 || c == CURLE_HTTP2_STREAM || c == CURLE_SSL_CONNECT_ERROR;
}

/* A libcurl transfer finished (the mux took it out of its lane): libcurl's codes are mapped
 * here and nowhere else. */
static void on_done(void *user, CURL *e, CURLcode c)
{
    struct job *j = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&j);
    struct attempt a = {A_OK, 0, j->errbuf[0] ? j->errbuf : curl_easy_strerror(c)};
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a.status);
    curl_off_t ttfb = 0, secs = -1;
    curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
    j->ttfb_ms = (double)ttfb / 1000.0;
    if (j->retry_after_ms < 0 && curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &secs) == CURLE_OK &&
        secs > 0) {
        j->retry_after_ms = (double)secs * 1000.0;
    }
    if (c != CURLE_OK && j->refused != NULL) {
        a.end = A_REFUSED;
    } else if (c == CURLE_WRITE_ERROR && j->resp.len + CURL_MAX_WRITE_SIZE > j->resp.max) {
        a.end = A_TOO_BIG;
    } else if (c == CURLE_OPERATION_TIMEDOUT) {
        a.end = A_TIMEOUT;
    } else if (is_connection_error(c)) {
        a.end = A_CONNECTION;
    } else if (c != CURLE_OK) {
        a.end = A_FAILED;
    }
    attempt_over(user, j, &a);
}

/* An hret_h1 request finished. */
static void on_h1_done(void *user, const struct hret_h1_result *r)
{
    static const enum attempt_end ends[] = {
        [HRET_H1_OK] = A_OK,
        [HRET_H1_E_TIMEOUT] = A_TIMEOUT,
        [HRET_H1_E_CONNECT] = A_CONNECTION,
        [HRET_H1_E_CLOSED] = A_CONNECTION,
        [HRET_H1_E_TOO_BIG] = A_TOO_BIG,
        [HRET_H1_E_PROTO] = A_FAILED,
        [HRET_H1_E_REFUSED] = A_REFUSED,
    };
    struct job *j = user;
    j->ttfb_ms = r->ttfb_ms;
    j->retry_after_ms = r->retry_after_ms;
    j->refused = r->refused;
    j->refused_private = r->refused_private;
    attempt_over(j->h, j, &(struct attempt){ends[r->outcome], r->status, r->error});
}

/* Moves retries whose time has come to the front of their pool's queue. */
static double promote_due(struct hret_http *h, double now)
{
    while (h->heap_len > 0 && h->heap[0]->due_ms <= now) {
        struct job *j = heap_pop(h);
        struct pool *p = &h->pools[j->pool];
        j->next = p->head;
        p->head = j;
        if (p->tail == NULL) {
            p->tail = j;
        }
    }
    return h->heap_len > 0 ? h->heap[0]->due_ms : INFINITY;
}

size_t hret_http_run(struct hret_http *h, int timeout_ms)
{
    double now = hret_clock_now_ms();
    double wake = fmin(promote_due(h, now), start_ready(h, now));
    hret_mux_drive(h->mux); /* new transfers start on curl's zero timeout */
    if (now >= hret_h1_next_ms(h->h1)) {
        hret_h1_drive(h->h1); /* what failed before it was sent, and due timeouts */
    }
    if (h->pending == 0) {
        return 0;
    }
    now = hret_clock_now_ms();
    wake = fmin(wake, fmin(promote_due(h, now), start_ready(h, now)));
    wake = fmin(wake, hret_h1_next_ms(h->h1));
    if (hret_mux_wait(h->mux, fmin((double)timeout_ms, fmax(0.0, wake - now))) ||
        hret_clock_now_ms() >= hret_h1_next_ms(h->h1)) {
        hret_h1_drive(h->h1);
    }
    return h->pending;
}
