/* What every backend shares: the registry, request-body helpers, error bodies, the engine
 * limits of a model. */
#include "hret_backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"

void hret_backend_output_fini(struct hret_backend_output *out)
{
    free(out->content);
    free(out->no_text);
    free(out->finish_reason);
    free(out->model);
    free(out->fingerprint);
    hret_strlist_fini(&out->choices);
    cJSON_Delete(out->logprobs);
    memset(out, 0, sizeof *out);
}

const struct hret_backend_ops *hret_backend_for(const struct hret_model_config *model)
{
    switch (model->backend) {
    case HRET_BACKEND_OPENAI_COMPLETIONS:
        return &hret_backend_openai_completions;
    case HRET_BACKEND_ANTHROPIC:
        return &hret_backend_anthropic;
    case HRET_BACKEND_AZURE_OPENAI:
        return &hret_backend_azure_openai;
    default:
        return &hret_backend_openai_chat;
    }
}

char *hret_backend_no_text(const char *what, const char *finish_reason)
{
    return finish_reason ? hret_xasprintf("%s, finish_reason %s", what, finish_reason)
                         : hret_xstrdup(what);
}

long hret_backend_estimate_tokens(const char *prompt, long max_tokens)
{
    /* About one token per 3 bytes of UTF-8 Korean/English mix, plus the completion budget. */
    return (long)(strlen(prompt) / 3) + 1 + (max_tokens > 0 ? max_tokens : 256);
}

enum hret_result hret_backend_url(const struct hret_model_config *model, const char *path,
                                  struct hret_buf *url, struct hret_err *err)
{
    const char *base = model->base_url;
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') {
        n--;
    }
    hret_buf_reset(url);
    enum hret_result r = hret_buf_append(url, base, n, err);
    return r == HRET_OK ? hret_buf_appendf(url, err, "%s", path) : r;
}

/* True when text is a number by JSON's grammar (cJSON alone would also take "007" or "1."). */
static bool is_json_number(const char *p)
{
    p += *p == '-';
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        p += strspn(p, "0123456789");
    } else {
        return false;
    }
    if (*p == '.') {
        size_t digits = strspn(++p, "0123456789");
        if (digits == 0) {
            return false;
        }
        p += digits;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '+' || *p == '-';
        size_t digits = strspn(p, "0123456789");
        if (digits == 0) {
            return false;
        }
        p += digits;
    }
    return *p == '\0';
}

/* A config extra_body value is sent as JSON when it is JSON (20, true, null, [..], {..}, "..")
 * and a finite number when numeric, else as the string itself ("007" stays "007"). */
static cJSON *config_value(const char *text)
{
    const char *t = text + strspn(text, " \t");
    bool structured = (*t != '\0' && strchr("[{\"", *t) != NULL) || strncmp(t, "true", 4) == 0 ||
                      strncmp(t, "false", 5) == 0 || strncmp(t, "null", 4) == 0;
    if (structured || is_json_number(text)) {
        cJSON *v = hret_json_parse(text, strlen(text), 65536, NULL);
        if (v != NULL && !(cJSON_IsNumber(v) && !isfinite(v->valuedouble))) {
            return v;
        }
        cJSON_Delete(v);
    }
    return cJSON_CreateString(text);
}

void hret_backend_put(cJSON *body, const char *key, cJSON *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(body, key);
    cJSON_AddItemToObject(body, key, value);
}

enum hret_result hret_backend_finish(cJSON *body, struct hret_buf *out, struct hret_err *err)
{
    char *text = hret_json_print(body);
    cJSON_Delete(body);
    hret_buf_reset(out);
    enum hret_result r = hret_buf_append(out, text, strlen(text), err);
    free(text);
    return r;
}

char *hret_backend_escape(const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(text);
    char *out = hret_xmalloc(3 * n + 1), *o = out;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            strchr("-._~", *c) != NULL) {
            *o++ = (char)*c;
        } else {
            *o++ = '%';
            *o++ = hex[*c >> 4];
            *o++ = hex[*c & 15];
        }
    }
    *o = '\0';
    return out;
}

void hret_backend_put_extra(cJSON *body, const struct hret_model_config *model,
                            const struct hret_gen_params *p)
{
    for (size_t i = 0; i < model->extra_body.count; i++) {
        hret_backend_put(body, model->extra_body.keys[i],
                         config_value(model->extra_body.values[i]));
    }
    for (const cJSON *it = p->extra_body ? p->extra_body->child : NULL; it; it = it->next) {
        hret_backend_put(body, it->string, cJSON_Duplicate(it, true));
    }
}

void hret_backend_limits(const struct hret_model_config *m, const struct hret_backend_ops *backend,
                         struct hret_http_limits *l)
{
    *l = (struct hret_http_limits){
        .name = m->name,
        .max_inflight = (long)m->max_inflight,
        .rpm = (long)m->rpm,
        .tpm = (long)m->tpm,
        .timeout_ms = (long)m->timeout_ms,
        .connect_timeout_ms = (long)m->connect_timeout_ms,
        .max_retries = (int)m->max_retries,
        .retry_after_cap_ms = (long)m->retry_after_cap_ms,
        .max_response_bytes = (size_t)m->max_response_bytes,
        .api_key_env = m->api_key_env,
        .api_key_file = m->api_key_file,
        .api_key_header = backend->key_header,
        .fixed_headers = backend->headers,
        .headers = &m->headers,
        .headers_env = &m->headers_env,
        .net_policy = m->net_policy,
    };
}

void hret_backend_error_message(const char *body, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    cJSON *root = hret_json_parse(body, len, len + 1, NULL);
    if (root == NULL) {
        return;
    }
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *holder = cJSON_IsObject(error) ? error : root;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(holder, "message");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (cJSON_IsString(msg)) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(holder, "code");
        if (!cJSON_IsString(code) && cJSON_IsString(kind) &&
            strcmp(kind->valuestring, "error") == 0) {
            code = cJSON_GetObjectItemCaseSensitive(holder, "type"); /* Anthropic's error type */
        }
        if (cJSON_IsString(code)) {
            snprintf(out, cap, "%s [%s]", msg->valuestring, code->valuestring);
        } else {
            snprintf(out, cap, "%s", msg->valuestring);
        }
    } else if (cJSON_IsString(error)) {
        snprintf(out, cap, "%s", error->valuestring);
    }
    cJSON_Delete(root);
}
