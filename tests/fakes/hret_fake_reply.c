#include "hret_fake_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"

#define JSON_TYPE "application/json"

static const char proxy_503_html[] =
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

void hret_fake_reply_init(struct hret_fake_reply *r)
{
    *r = (struct hret_fake_reply){0, NULL, 0, JSON_TYPE, -1, false};
}

void hret_fake_reply_fini(struct hret_fake_reply *r)
{
    free(r->body);
    hret_fake_reply_init(r);
}

static void set_body(struct hret_fake_reply *r, unsigned status, char *body, const char *type)
{
    free(r->body);
    r->status = status;
    r->body = body;
    r->len = strlen(body);
    r->content_type = type;
    r->retry_after_s = -1;
}

void hret_fake_reply_json(struct hret_fake_reply *r, unsigned status, cJSON *doc)
{
    set_body(r, status, hret_json_print(doc), JSON_TYPE);
    cJSON_Delete(doc);
}

static void add_nullable(cJSON *obj, const char *key, const char *value)
{
    if (value != NULL) {
        cJSON_AddStringToObject(obj, key, value);
    } else {
        cJSON_AddNullToObject(obj, key);
    }
}

void hret_fake_reply_error(struct hret_fake_reply *r, unsigned status, const char *type,
                           const char *param, const char *code, const char *message)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(doc, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "type", type);
    add_nullable(e, "param", param);
    add_nullable(e, "code", code);
    hret_fake_reply_json(r, status, doc);
}

void hret_fake_reply_rate_limited(struct hret_fake_reply *r, bool quota, long retry_after_s)
{
    if (quota) {
        hret_fake_reply_error(r, 429, "insufficient_quota", NULL, "insufficient_quota",
                              "You exceeded your current quota, please check your plan and "
                              "billing details.");
        return;
    }
    hret_fake_reply_error(r, 429, "requests", NULL, "rate_limit_exceeded",
                          "Rate limit reached for requests (fake-llm)");
    r->retry_after_s = retry_after_s;
}

static const char *error_type(unsigned status)
{
    switch (status) {
    case 400:
    case 404:
    case 413:
    case 422:
        return status == 404 ? "not_found_error" : "invalid_request_error";
    case 401:
        return "authentication_error";
    case 403:
        return "permission_error";
    default:
        return status >= 500 ? "server_error" : "fake_error";
    }
}

void hret_fake_reply_forced(struct hret_fake_reply *r, unsigned status, long retry_after_s)
{
    if (status == 429) {
        hret_fake_reply_rate_limited(r, false, retry_after_s);
        return;
    }
    char msg[96];
    snprintf(msg, sizeof msg, "forced status %u (x-fake-status)", status);
    hret_fake_reply_error(r, status, error_type(status), NULL, NULL, msg);
}

void hret_fake_reply_vllm_500(struct hret_fake_reply *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "object", "error");
    cJSON_AddStringToObject(doc, "message", "Internal server error (fake-llm)");
    cJSON_AddStringToObject(doc, "type", "InternalServerError");
    cJSON_AddNullToObject(doc, "param");
    cJSON_AddNumberToObject(doc, "code", 500);
    hret_fake_reply_json(r, 500, doc);
}

void hret_fake_reply_proxy_503(struct hret_fake_reply *r)
{
    set_body(r, 503, hret_xstrdup(proxy_503_html), "text/html");
}

void hret_fake_reply_shutting_down(struct hret_fake_reply *r)
{
    hret_fake_reply_error(r, 503, "server_error", NULL, NULL, "the server is shutting down");
    r->close = true;
}

void hret_fake_reply_malform(struct hret_fake_reply *r)
{
    set_body(r, r->status,
             hret_xstrdup("{\"id\": \"chatcmpl-fake\", \"choices\": [{\"index\": 0,, "
                          "<this is not JSON>"),
             JSON_TYPE);
}

void hret_fake_reply_truncate(struct hret_fake_reply *r)
{
    if (r->body != NULL) {
        r->len /= 2;
        r->body[r->len] = '\0';
    }
}

void hret_fake_reply_pad(struct hret_fake_reply *r, size_t bytes)
{
    static const char member[] = ",\"padding\":\"";
    size_t overhead = sizeof member - 1 + 2; /* the member, the closing quote and brace */
    if (r->body == NULL || r->len < 3 || r->body[r->len - 1] != '}' || bytes <= r->len + overhead) {
        return;
    }
    size_t pad = bytes - r->len - overhead;
    size_t len = r->len - 1 + sizeof member - 1 + pad + 2;
    char *body = hret_xmalloc(len + 1);
    char *p = body;
    memcpy(p, r->body, r->len - 1);
    p += r->len - 1;
    memcpy(p, member, sizeof member - 1);
    p += sizeof member - 1;
    memset(p, 'x', pad);
    p += pad;
    memcpy(p, "\"}", 3);
    free(r->body);
    r->body = body;
    r->len = len;
}
