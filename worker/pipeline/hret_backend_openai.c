/* OpenAI-compatible chat completions and (legacy) completions: vLLM, TGI, llama.cpp, Ollama,
 * OpenAI, gateways; and Azure OpenAI's deployment route of chat completions. Facts:
 * shared/reference/infra.md §7. */
#include "hret_backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"

/* Fields common to both endpoints, then the model's and the request's extra_body. */
static void add_common(cJSON *body, const struct hret_model_config *model,
                       const struct hret_gen_params *p)
{
    long max_tokens = p->max_tokens > 0 ? p->max_tokens : model->max_tokens;
    if (max_tokens > 0 || p->echo) {
        hret_backend_put(body, "max_tokens", cJSON_CreateNumber((double)max_tokens));
    }
    double temperature = isnan(p->temperature) ? model->temperature : p->temperature;
    hret_backend_put(body, "temperature", cJSON_CreateNumber(temperature));
    if (!isnan(p->top_p)) {
        hret_backend_put(body, "top_p", cJSON_CreateNumber(p->top_p));
    }
    if (p->has_seed) {
        hret_backend_put(body, "seed", cJSON_CreateNumber((double)p->seed));
    }
    if (p->n > 1) {
        hret_backend_put(body, "n", cJSON_CreateNumber((double)p->n));
    }
    if (p->stop != NULL && p->stop->count > 0) {
        hret_backend_put(
            body, "stop",
            cJSON_CreateStringArray((const char *const *)p->stop->items, (int)p->stop->count));
    }
    hret_backend_put_extra(body, model, p);
}

/* The chat body: an optional system message, the prompt as the user message. */
static cJSON *chat_body(const struct hret_model_config *model, const struct hret_gen_params *p,
                        const char *prompt, bool with_model)
{
    cJSON *body = cJSON_CreateObject();
    if (with_model) {
        cJSON_AddStringToObject(body, "model", model->model);
    }
    cJSON *messages = cJSON_AddArrayToObject(body, "messages");
    if (model->system_message != NULL) {
        cJSON *sys = cJSON_CreateObject();
        cJSON_AddStringToObject(sys, "role", "system");
        cJSON_AddStringToObject(sys, "content", model->system_message);
        cJSON_AddItemToArray(messages, sys);
    }
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON_AddStringToObject(msg, "content", prompt);
    cJSON_AddItemToArray(messages, msg);
    if (p->logprobs) {
        cJSON_AddBoolToObject(body, "logprobs", true);
        if (p->top_logprobs > 0) {
            cJSON_AddNumberToObject(body, "top_logprobs", p->top_logprobs);
        }
    }
    add_common(body, model, p);
    return body;
}

static enum hret_result no_echo(const struct hret_model_config *model,
                                const struct hret_gen_params *p, struct hret_err *err)
{
    if (p->echo) {
        return hret_err_set(err, HRET_E_INVAL,
                            "models.%s: echo needs the completions API (backend: "
                            "openai_completions)",
                            model->name);
    }
    return HRET_OK;
}

static enum hret_result chat_prepare(const struct hret_model_config *model,
                                     const struct hret_gen_params *p, const char *prompt,
                                     struct hret_buf *url, struct hret_buf *out,
                                     struct hret_err *err)
{
    enum hret_result r = no_echo(model, p, err);
    if (r == HRET_OK) {
        r = hret_backend_url(model, "/chat/completions", url, err);
    }
    return r == HRET_OK ? hret_backend_finish(chat_body(model, p, prompt, true), out, err) : r;
}

/* Azure: {base_url}/openai/deployments/{model}/chat/completions?api-version={api_version}; the
 * deployment names the model, so the body has none. */
static enum hret_result azure_prepare(const struct hret_model_config *model,
                                      const struct hret_gen_params *p, const char *prompt,
                                      struct hret_buf *url, struct hret_buf *out,
                                      struct hret_err *err)
{
    enum hret_result r = no_echo(model, p, err);
    if (r != HRET_OK) {
        return r;
    }
    if (model->api_version == NULL || *model->api_version == '\0') {
        return hret_err_set(err, HRET_E_INVAL, "models.%s: backend azure_openai needs api_version",
                            model->name);
    }
    char *deployment = hret_backend_escape(model->model);
    char *api_version = hret_backend_escape(model->api_version);
    char *path = hret_xasprintf("/openai/deployments/%s/chat/completions?api-version=%s",
                                deployment, api_version);
    r = hret_backend_url(model, path, url, err);
    free(path);
    free(deployment);
    free(api_version);
    return r == HRET_OK ? hret_backend_finish(chat_body(model, p, prompt, false), out, err) : r;
}

static enum hret_result completions_prepare(const struct hret_model_config *model,
                                            const struct hret_gen_params *p, const char *prompt,
                                            struct hret_buf *url, struct hret_buf *out,
                                            struct hret_err *err)
{
    enum hret_result r = hret_backend_url(model, "/completions", url, err);
    if (r != HRET_OK) {
        return r;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", model->model);
    cJSON_AddStringToObject(body, "prompt", prompt);
    if (p->echo) {
        cJSON_AddBoolToObject(body, "echo", true);
    }
    if (p->logprobs) {
        cJSON_AddNumberToObject(body, "logprobs", p->top_logprobs > 0 ? p->top_logprobs : 1);
    }
    add_common(body, model, p);
    return hret_backend_finish(body, out, err);
}

/* ---- responses ------------------------------------------------------------------------------- */

static char *dup_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? hret_xstrdup(v->valuestring) : NULL;
}

static long usage_field(const cJSON *usage, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(usage, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (long)v->valuedouble : 0;
}

/* Puts the choices in their `index` order; array order when the indices are not a permutation
 * of 0..n-1 (servers send them sorted, but nothing promises it). */
static void order_choices(const cJSON *choices, const cJSON **ordered, size_t n)
{
    size_t i = 0;
    bool permutation = true;
    for (const cJSON *c = choices->child; c != NULL; c = c->next, i++) {
        const cJSON *index = cJSON_GetObjectItemCaseSensitive(c, "index");
        double v = cJSON_IsNumber(index) ? index->valuedouble : -1;
        if (v >= 0 && v < (double)n && v == floor(v) && ordered[(size_t)v] == NULL) {
            ordered[(size_t)v] = c;
        } else {
            permutation = false;
        }
    }
    if (!permutation) {
        i = 0;
        for (const cJSON *c = choices->child; c != NULL; c = c->next) {
            ordered[i++] = c;
        }
    }
}

/* The reply's model, fingerprint and usage. */
static void parse_meta(const cJSON *root, struct hret_backend_output *out)
{
    out->model = dup_string(root, "model");
    out->fingerprint = dup_string(root, "system_fingerprint");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    out->prompt_tokens = usage_field(usage, "prompt_tokens");
    out->completion_tokens = usage_field(usage, "completion_tokens");
}

/* text_of returns a choice's text (borrowed), or NULL with *missing naming what came instead
 * ("content null"); *ok false when the shape is wrong. */
static enum hret_result parse_choices(const cJSON *choices,
                                      const char *(*text_of)(const cJSON *, bool *, const char **),
                                      struct hret_backend_output *out, struct hret_err *err)
{
    size_t n = (size_t)cJSON_GetArraySize(choices);
    const cJSON **ordered = hret_xcalloc(n, sizeof *ordered);
    order_choices(choices, ordered, n);
    for (size_t i = 0; i < n; i++) {
        bool ok = true;
        const char *missing = NULL;
        const char *text = text_of(ordered[i], &ok, &missing);
        if (!ok) {
            free(ordered);
            return hret_err_set(err, HRET_E_PROTO, "malformed response: choice without text");
        }
        if (i == 0) {
            out->finish_reason = dup_string(ordered[0], "finish_reason");
            if (text == NULL) {
                out->no_text = hret_backend_no_text(missing, out->finish_reason);
            }
            const cJSON *lp = cJSON_GetObjectItemCaseSensitive(ordered[0], "logprobs");
            if (cJSON_IsObject(lp)) {
                out->logprobs = cJSON_Duplicate(lp, true);
            }
        }
        hret_strlist_push(&out->choices, hret_xstrdup(text ? text : ""));
    }
    free(ordered);
    out->content = hret_xstrdup(out->choices.items[0]);
    return HRET_OK;
}

static enum hret_result parse_common(const char *body, size_t len,
                                     const char *(*text_of)(const cJSON *, bool *, const char **),
                                     struct hret_backend_output *out, struct hret_err *err)
{
    cJSON *root = hret_json_parse(body, len, len + 1, err);
    if (root == NULL) {
        hret_err_prefix(err, "malformed response");
        return HRET_E_PROTO;
    }
    enum hret_result r = HRET_OK;
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    if (!cJSON_IsArray(choices)) {
        char detail[256];
        hret_backend_error_message(body, len, detail, sizeof detail);
        r = hret_err_set(err, HRET_E_PROTO, "malformed response: no choices%s%s",
                         *detail ? ": " : "", detail);
    } else if (cJSON_GetArraySize(choices) == 0) { /* an answer without text, not malformed */
        out->no_text = hret_backend_no_text("choices empty", NULL);
        out->content = hret_xstrdup("");
    } else {
        r = parse_choices(choices, text_of, out, err);
    }
    if (r == HRET_OK) {
        parse_meta(root, out);
    }
    cJSON_Delete(root);
    return r;
}

static const char *chat_text(const cJSON *choice, bool *ok, const char **missing)
{
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    *ok = cJSON_IsObject(msg) && (cJSON_IsString(content) || cJSON_IsNull(content) || !content);
    *missing = content ? "content null" : "content missing";
    return cJSON_IsString(content) ? content->valuestring : NULL;
}

static const char *completion_text(const cJSON *choice, bool *ok, const char **missing)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(choice, "text");
    *ok = cJSON_IsString(text) || cJSON_IsNull(text); /* no key: another API's shape */
    *missing = "text null";
    return cJSON_IsString(text) ? text->valuestring : NULL;
}

static enum hret_result chat_parse(const char *body, size_t len, struct hret_backend_output *out,
                                   struct hret_err *err)
{
    return parse_common(body, len, chat_text, out, err);
}

static enum hret_result completions_parse(const char *body, size_t len,
                                          struct hret_backend_output *out, struct hret_err *err)
{
    return parse_common(body, len, completion_text, out, err);
}

const struct hret_backend_ops hret_backend_openai_chat = {"openai_chat", NULL, NULL, chat_prepare,
                                                          chat_parse};
const struct hret_backend_ops hret_backend_openai_completions = {
    "openai_completions", NULL, NULL, completions_prepare, completions_parse};
const struct hret_backend_ops hret_backend_azure_openai = {"azure_openai", "api-key", NULL,
                                                           azure_prepare, chat_parse};
