#include "hret_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_http.h"
#include "hret_mem.h"

/* A Retry-After longer than this falls back to the engine's backoff: a call blocks its role, and
 * the role's own loop backs off further between deliveries. */
#define RETRY_AFTER_CAP_MS 30000
/* How long one hret_http_run waits for progress; the engine's timeouts bound the call. */
#define RUN_SLICE_MS 1000

struct outcome {
    int done;
    enum hret_result code;
    long status;
    char *body;
    size_t body_len;
    int attempts;
    char error[512];
};

static enum hret_result on_done(void *user, const struct hret_http_result *r)
{
    struct outcome *o = user;
    o->done = 1;
    o->code = r->code;
    o->status = r->status;
    o->body = hret_xstrndup(r->body, r->body_len);
    o->body_len = r->body_len;
    o->attempts = r->attempts;
    snprintf(o->error, sizeof o->error, "%s", r->error);
    return HRET_OK;
}

enum hret_result hret_call_open(struct hret_call *c, const struct hret_call_limits *limits,
                                struct hret_err *err)
{
    c->http = NULL;
    c->pool = -1;
    c->name = NULL;
    const char *name = limits->name ? limits->name : "call";
    int has_secret = limits->secret_env != NULL || limits->secret_file != NULL;
    if (limits->auth != HRET_CALL_AUTH_NONE && !has_secret) {
        return hret_err_set(err, HRET_E_CONFIG,
                            "%s: authentication needs a secret reference (an environment "
                            "variable or a file name)",
                            name);
    }
    if (limits->auth == HRET_CALL_AUTH_BASIC && limits->basic_user == NULL) {
        return hret_err_set(err, HRET_E_CONFIG, "%s: basic authentication needs a user", name);
    }
    struct hret_http_limits hl = {
        .name = name,
        .max_inflight = 1,
        .timeout_ms = limits->timeout_ms,
        .connect_timeout_ms = limits->connect_timeout_ms,
        .max_retries = limits->max_retries,
        .retry_after_cap_ms = RETRY_AFTER_CAP_MS,
        .max_response_bytes = limits->max_response_bytes,
    };
    if (limits->auth != HRET_CALL_AUTH_NONE) {
        hl.api_key_env = limits->secret_env;
        hl.api_key_file = limits->secret_env ? NULL : limits->secret_file;
        hl.api_key_user = limits->auth == HRET_CALL_AUTH_BASIC ? limits->basic_user : NULL;
    }
    c->name = hret_xstrdup(name);
    c->http = hret_http_new(err);
    if (c->http == NULL) {
        return err ? err->code : HRET_E_FATAL;
    }
    c->pool = hret_http_add_pool(c->http, &hl, err);
    if (c->pool < 0) {
        hret_call_close(c);
        return err ? err->code : HRET_E_CONFIG;
    }
    return HRET_OK;
}

void hret_call_close(struct hret_call *c)
{
    hret_http_destroy(c->http);
    free(c->name);
    c->http = NULL;
    c->pool = -1;
    c->name = NULL;
}

enum hret_result hret_call_do(struct hret_call *c, const struct hret_call_request *req,
                              struct hret_call_response *out, struct hret_err *err)
{
    memset(out, 0, sizeof *out);
    const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
    if (strcmp(method, "GET") == 0 && req->body != NULL) {
        out->body = hret_xstrdup("");
        return hret_err_set(err, HRET_E_INVAL, "%s: a GET request cannot carry a body", c->name);
    }
    /* The engine sends a body as POST and no body as GET; other methods are named. */
    struct hret_http_request hr = {
        .url = req->url,
        .body = req->body,
        .body_len = req->body_len,
        .headers = req->headers,
        .method = strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0 ? NULL : method,
        .content_type = req->content_type,
    };
    if (hr.body == NULL && strcmp(method, "GET") != 0) {
        hr.body = ""; /* POST/PUT with an empty body, not a GET */
    }
    struct outcome o = {0};
    enum hret_result r = hret_http_submit(c->http, c->pool, &hr, on_done, &o, err);
    if (r != HRET_OK) {
        out->body = hret_xstrdup("");
        return r;
    }
    while (hret_http_run(c->http, RUN_SLICE_MS) > 0) {
    }
    out->status = o.status;
    out->body = o.body ? o.body : hret_xstrdup("");
    out->body_len = o.body ? o.body_len : 0;
    out->attempts = o.attempts;
    if (!o.done) { /* cannot happen: the engine completes every submitted request */
        return hret_err_set(err, HRET_E_FATAL, "%s: %s ended without an outcome", c->name, method);
    }
    if (o.code != HRET_OK) {
        /* The URL is left out: webhook URLs can carry secrets in their path. */
        return hret_err_set(err, o.code, "%s: %s request failed: %s", c->name, method, o.error);
    }
    return HRET_OK;
}

void hret_call_response_fini(struct hret_call_response *out)
{
    free(out->body);
    out->body = NULL;
    out->body_len = 0;
}

int hret_call_retriable(enum hret_result code)
{
    return code == HRET_E_TIMEOUT || code == HRET_E_UNAVAILABLE;
}
