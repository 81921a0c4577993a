/* Anthropic's Messages API: POST {base_url}/v1/messages with x-api-key and anthropic-version;
 * max_tokens always sent, the system prompt top-level, text content blocks joined. The API
 * rejects fields it does not know, so only its own are sent (no n, seed or logprobs: hret's
 * self-consistency tops up with single requests). */
#include "hret_backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"

#define ANTHROPIC_DEFAULT_MAX_TOKENS 1024

static const char *const anthropic_headers[] = {"anthropic-version: 2023-06-01", NULL};

static enum hret_result messages_prepare(const struct hret_model_config *model,
                                         const struct hret_gen_params *p, const char *prompt,
                                         struct hret_buf *url, struct hret_buf *out,
                                         struct hret_err *err)
{
    if (p->echo) {
        return hret_err_set(err, HRET_E_INVAL,
                            "models.%s: echo needs the completions API (backend: "
                            "openai_completions)",
                            model->name);
    }
    if (p->logprobs) {
        return hret_err_set(err, HRET_E_INVAL,
                            "models.%s: the anthropic backend has no log-probabilities",
                            model->name);
    }
    enum hret_result r = hret_backend_url(model, "/v1/messages", url, err);
    if (r != HRET_OK) {
        return r;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", model->model);
    long max_tokens = p->max_tokens > 0       ? p->max_tokens
                      : model->max_tokens > 0 ? (long)model->max_tokens
                                              : ANTHROPIC_DEFAULT_MAX_TOKENS;
    cJSON_AddNumberToObject(body, "max_tokens", (double)max_tokens);
    if (model->system_message != NULL) {
        cJSON_AddStringToObject(body, "system", model->system_message);
    }
    cJSON *messages = cJSON_AddArrayToObject(body, "messages");
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON_AddStringToObject(msg, "content", prompt);
    cJSON_AddItemToArray(messages, msg);
    double temperature = isnan(p->temperature) ? model->temperature : p->temperature;
    cJSON_AddNumberToObject(body, "temperature", temperature);
    if (!isnan(p->top_p)) {
        cJSON_AddNumberToObject(body, "top_p", p->top_p);
    }
    if (p->stop != NULL && p->stop->count > 0) {
        cJSON_AddItemToObject(
            body, "stop_sequences",
            cJSON_CreateStringArray((const char *const *)p->stop->items, (int)p->stop->count));
    }
    hret_backend_put_extra(body, model, p);
    return hret_backend_finish(body, out, err);
}

static long usage_field(const cJSON *usage, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(usage, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15 ? (long)v->valuedouble
                                                                             : 0;
}

static char *dup_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? hret_xstrdup(v->valuestring) : NULL;
}

/* The text blocks of content joined into text; HRET_E_PROTO for a text block without text. */
static enum hret_result join_text(const cJSON *content, struct hret_buf *text, struct hret_err *err)
{
    const cJSON *block;
    cJSON_ArrayForEach(block, content)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(block, "type");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") != 0) {
            continue; /* thinking, tool_use, ...: not the answer */
        }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(block, "text");
        if (!cJSON_IsString(t)) {
            return hret_err_set(err, HRET_E_PROTO, "malformed response: text block without text");
        }
        if (hret_buf_append(text, t->valuestring, strlen(t->valuestring), err) != HRET_OK) {
            return hret_err_set(err, HRET_E_PROTO, "malformed response: text too long");
        }
    }
    return HRET_OK;
}

static enum hret_result messages_parse(const char *body, size_t len,
                                       struct hret_backend_output *out, struct hret_err *err)
{
    cJSON *root = hret_json_parse(body, len, len + 1, err);
    if (root == NULL) {
        hret_err_prefix(err, "malformed response");
        return HRET_E_PROTO;
    }
    enum hret_result r = HRET_OK;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(root, "content");
    struct hret_buf text;
    hret_buf_init(&text, len + 1);
    if (!cJSON_IsArray(content)) {
        char detail[256];
        hret_backend_error_message(body, len, detail, sizeof detail);
        r = hret_err_set(err, HRET_E_PROTO, "malformed response: no content%s%s",
                         *detail ? ": " : "", detail);
    } else if ((r = join_text(content, &text, err)) == HRET_OK) {
        out->content = hret_xstrdup(hret_buf_str(&text));
        hret_strlist_push(&out->choices, hret_xstrdup(out->content));
        out->finish_reason = dup_string(root, "stop_reason");
        if (cJSON_GetArraySize(content) == 0) { /* a refusal: no text, an error */
            out->no_text = hret_backend_no_text("content empty", out->finish_reason);
        }
        out->model = dup_string(root, "model");
        const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
        out->prompt_tokens = usage_field(usage, "input_tokens");
        out->completion_tokens = usage_field(usage, "output_tokens");
    }
    hret_buf_fini(&text);
    cJSON_Delete(root);
    return r;
}

const struct hret_backend_ops hret_backend_anthropic = {"anthropic", "x-api-key", anthropic_headers,
                                                        messages_prepare, messages_parse};
