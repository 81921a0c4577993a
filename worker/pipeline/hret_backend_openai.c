/* OpenAI-compatible chat completions and (legacy) completions: vLLM, TGI, llama.cpp, Ollama,
 * OpenAI, Azure. Facts: shared/reference/infra.md §7. */
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
    free(out->finish_reason);
    free(out->model);
    free(out->fingerprint);
    hret_strlist_fini(&out->choices);
    cJSON_Delete(out->logprobs);
    memset(out, 0, sizeof *out);
}

const struct hret_backend_ops *hret_backend_for(const struct hret_model_config *model)
{
    return model->backend == HRET_BACKEND_OPENAI_COMPLETIONS ? &hret_backend_openai_completions
                                                             : &hret_backend_openai_chat;
}

long hret_backend_estimate_tokens(const char *prompt, long max_tokens)
{
    /* About one token per 3 bytes of UTF-8 Korean/English mix, plus the completion budget. */
    return (long)(strlen(prompt) / 3) + 1 + (max_tokens > 0 ? max_tokens : 256);
}

static enum hret_result make_url(const struct hret_model_config *model, const char *path,
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

static void put(cJSON *body, const char *key, cJSON *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(body, key);
    cJSON_AddItemToObject(body, key, value);
}

/* Fields common to both endpoints, then the model's and the request's extra_body. */
static void add_common(cJSON *body, const struct hret_model_config *model,
                       const struct hret_gen_params *p)
{
    long max_tokens = p->max_tokens > 0 ? p->max_tokens : model->max_tokens;
    if (max_tokens > 0 || p->echo) {
        put(body, "max_tokens", cJSON_CreateNumber((double)max_tokens));
    }
    double temperature = isnan(p->temperature) ? model->temperature : p->temperature;
    put(body, "temperature", cJSON_CreateNumber(temperature));
    if (!isnan(p->top_p)) {
        put(body, "top_p", cJSON_CreateNumber(p->top_p));
    }
    if (p->has_seed) {
        put(body, "seed", cJSON_CreateNumber((double)p->seed));
    }
    if (p->n > 1) {
        put(body, "n", cJSON_CreateNumber((double)p->n));
    }
    if (p->stop != NULL && p->stop->count > 0) {
        put(body, "stop",
            cJSON_CreateStringArray((const char *const *)p->stop->items, (int)p->stop->count));
    }
    for (size_t i = 0; i < model->extra_body.count; i++) {
        put(body, model->extra_body.keys[i], config_value(model->extra_body.values[i]));
    }
    for (const cJSON *it = p->extra_body ? p->extra_body->child : NULL; it; it = it->next) {
        put(body, it->string, cJSON_Duplicate(it, true));
    }
}

static enum hret_result finish_body(cJSON *body, struct hret_buf *out, struct hret_err *err)
{
    char *text = hret_json_print(body);
    cJSON_Delete(body);
    hret_buf_reset(out);
    enum hret_result r = hret_buf_append(out, text, strlen(text), err);
    free(text);
    return r;
}

static enum hret_result chat_prepare(const struct hret_model_config *model,
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
    enum hret_result r = make_url(model, "/chat/completions", url, err);
    if (r != HRET_OK) {
        return r;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", model->model);
    cJSON *messages = cJSON_AddArrayToObject(body, "messages");
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
    return finish_body(body, out, err);
}

static enum hret_result completions_prepare(const struct hret_model_config *model,
                                            const struct hret_gen_params *p, const char *prompt,
                                            struct hret_buf *url, struct hret_buf *out,
                                            struct hret_err *err)
{
    enum hret_result r = make_url(model, "/completions", url, err);
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
    return finish_body(body, out, err);
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

/* text_of returns choice i's text (borrowed) or NULL when the shape is wrong. */
static enum hret_result parse_common(const char *body, size_t len,
                                     const char *(*text_of)(const cJSON *choice, bool *ok),
                                     struct hret_backend_output *out, struct hret_err *err)
{
    cJSON *root = hret_json_parse(body, len, len + 1, err);
    if (root == NULL) {
        hret_err_prefix(err, "malformed response");
        return HRET_E_PROTO;
    }
    enum hret_result r = HRET_OK;
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    if (!cJSON_IsArray(choices) || cJSON_GetArraySize(choices) < 1) {
        char detail[256];
        hret_backend_error_message(body, len, detail, sizeof detail);
        r = hret_err_set(err, HRET_E_PROTO, "malformed response: no choices%s%s",
                         *detail ? ": " : "", detail);
        goto cleanup;
    }
    size_t n = (size_t)cJSON_GetArraySize(choices);
    const cJSON **ordered = hret_xcalloc(n, sizeof *ordered);
    order_choices(choices, ordered, n);
    for (size_t i = 0; i < n; i++) {
        bool ok = true;
        const char *text = text_of(ordered[i], &ok);
        if (!ok) {
            free(ordered);
            r = hret_err_set(err, HRET_E_PROTO, "malformed response: choice without text");
            goto cleanup;
        }
        hret_strlist_push(&out->choices, hret_xstrdup(text ? text : ""));
    }
    const cJSON *first = ordered[0];
    free(ordered);
    out->content = hret_xstrdup(out->choices.items[0]);
    out->finish_reason = dup_string(first, "finish_reason");
    out->model = dup_string(root, "model");
    out->fingerprint = dup_string(root, "system_fingerprint");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    out->prompt_tokens = usage_field(usage, "prompt_tokens");
    out->completion_tokens = usage_field(usage, "completion_tokens");
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(first, "logprobs");
    if (cJSON_IsObject(lp)) {
        out->logprobs = cJSON_Duplicate(lp, true);
    }
cleanup:
    cJSON_Delete(root);
    return r;
}

static const char *chat_text(const cJSON *choice, bool *ok)
{
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    *ok = cJSON_IsObject(msg) && (cJSON_IsString(content) || cJSON_IsNull(content) || !content);
    return cJSON_IsString(content) ? content->valuestring : NULL;
}

static const char *completion_text(const cJSON *choice, bool *ok)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(choice, "text");
    *ok = cJSON_IsString(text);
    return *ok ? text->valuestring : NULL;
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
    if (cJSON_IsString(msg)) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(holder, "code");
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

const struct hret_backend_ops hret_backend_openai_chat = {"openai_chat", chat_prepare, chat_parse};
const struct hret_backend_ops hret_backend_openai_completions = {
    "openai_completions", completions_prepare, completions_parse};
