#include "hret_fake_dialect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"

#define ANTHROPIC_VERSION "2023-06-01"
#define AZURE_PREFIX "/openai/deployments/"
#define AZURE_SUFFIX "/chat/completions"

/* The top-level fields the Messages API accepts; anything else is a 400 there, which is how an
 * OpenAI-only field (n, seed, logprobs) sent to Anthropic shows up. */
static const char *const anthropic_fields[] = {
    "model", "messages",    "max_tokens",     "system",       "temperature",
    "top_p", "top_k",       "stop_sequences", "metadata",     "stream",
    "tools", "tool_choice", "thinking",       "service_tier", NULL,
};

bool hret_fake_dialect_azure_path(const char *path, char *out, size_t cap)
{
    size_t plen = strlen(AZURE_PREFIX), slen = strlen(AZURE_SUFFIX), len = strlen(path);
    if (len <= plen + slen || strncmp(path, AZURE_PREFIX, plen) != 0 ||
        strcmp(path + len - slen, AZURE_SUFFIX) != 0) {
        return false;
    }
    size_t n = len - plen - slen;
    if (n >= cap || memchr(path + plen, '/', n) != NULL) {
        return false;
    }
    memcpy(out, path + plen, n);
    out[n] = '\0';
    return true;
}

static const char *anthropic_type(unsigned status)
{
    switch (status) {
    case 401:
        return "authentication_error";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 413:
        return "request_too_large";
    case 429:
        return "rate_limit_error";
    case 529:
        return "overloaded_error";
    default:
        return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

static void anthropic_error(struct hret_fake_reply *r, unsigned status, const char *message)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "type", "error");
    cJSON *e = cJSON_AddObjectToObject(doc, "error");
    cJSON_AddStringToObject(e, "type", anthropic_type(status));
    cJSON_AddStringToObject(e, "message", status == 529 ? "Overloaded" : message);
    long retry_after = r->retry_after_s;
    hret_fake_reply_json(r, status, doc);
    r->retry_after_s = retry_after;
}

static void azure_error(struct hret_fake_reply *r, unsigned status, const char *message)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(doc, "error");
    char code[8];
    snprintf(code, sizeof code, "%u", status);
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    hret_fake_reply_json(r, status, doc);
}

static bool key_matches(const char *given, const char *prefix, const char *expected)
{
    size_t n = strlen(prefix);
    return expected == NULL ||
           (given != NULL && strncmp(given, prefix, n) == 0 && strcmp(given + n, expected) == 0);
}

bool hret_fake_dialect_check(const struct hret_fake_call *c, struct hret_fake_reply *r)
{
    switch (c->dialect) {
    case HRET_FAKE_DIALECT_ANTHROPIC:
        if (c->x_api_key == NULL || *c->x_api_key == '\0') {
            anthropic_error(r, 401, "x-api-key header is required");
        } else if (!key_matches(c->x_api_key, "", c->expected_key)) {
            anthropic_error(r, 401, "invalid x-api-key");
        } else if (c->version == NULL) {
            anthropic_error(r, 400, "anthropic-version: header is required");
        } else if (strcmp(c->version, ANTHROPIC_VERSION) != 0) {
            anthropic_error(r, 400, "anthropic-version: unknown version");
        } else {
            return true;
        }
        return false;
    case HRET_FAKE_DIALECT_AZURE:
        if (c->api_key == NULL || !key_matches(c->api_key, "", c->expected_key) ||
            *c->api_key == '\0') {
            azure_error(r, 401,
                        "Access denied due to invalid subscription key or wrong API endpoint.");
        } else if (c->version == NULL || *c->version == '\0') {
            azure_error(r, 404, "Resource not found");
        } else {
            return true;
        }
        return false;
    case HRET_FAKE_DIALECT_OPENAI:
        if (!key_matches(c->authorization, "Bearer ", c->expected_key)) {
            hret_fake_reply_error(r, 401, "invalid_request_error", NULL, "invalid_api_key",
                                  "Incorrect API key provided.");
            return false;
        }
        return true;
    }
    return true;
}

static bool allowed_field(const char *key)
{
    for (size_t i = 0; anthropic_fields[i] != NULL; i++) {
        if (strcmp(anthropic_fields[i], key) == 0) {
            return true;
        }
    }
    return false;
}

/* The Messages request's problem (static or in buf), or NULL. */
static const char *anthropic_problem(const cJSON *req, char *buf, size_t cap)
{
    for (const cJSON *it = req->child; it != NULL; it = it->next) {
        if (!allowed_field(it->string)) {
            snprintf(buf, cap, "%.64s: Extra inputs are not permitted", it->string);
            return buf;
        }
    }
    const cJSON *max_tokens = cJSON_GetObjectItemCaseSensitive(req, "max_tokens");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
    const cJSON *system = cJSON_GetObjectItemCaseSensitive(req, "system");
    const cJSON *temperature = cJSON_GetObjectItemCaseSensitive(req, "temperature");
    if (!cJSON_IsNumber(max_tokens) || max_tokens->valuedouble < 1) {
        return "max_tokens: Field required (an integer >= 1)";
    }
    if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0) {
        return "messages: Field required (a non-empty list)";
    }
    if (system != NULL && !cJSON_IsString(system) && !cJSON_IsArray(system)) {
        return "system: Input should be a valid string or a list of text blocks";
    }
    if (temperature != NULL && (!cJSON_IsNumber(temperature) || temperature->valuedouble < 0 ||
                                temperature->valuedouble > 1)) {
        return "temperature: Input should be less than or equal to 1";
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, messages)
    {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role) || (strcmp(role->valuestring, "user") != 0 &&
                                      strcmp(role->valuestring, "assistant") != 0)) {
            return "messages: Unexpected role. The Messages API accepts a top-level `system` "
                   "parameter, not \"system\" as an input message role.";
        }
    }
    return NULL;
}

static void copy_item(cJSON *to, const char *to_key, const cJSON *from, const char *from_key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, from_key);
    if (v != NULL) {
        cJSON_AddItemToObject(to, to_key, cJSON_Duplicate(v, true));
    }
}

static cJSON *anthropic_request(const cJSON *req, struct hret_fake_reply *r)
{
    char buf[160];
    const char *problem = anthropic_problem(req, buf, sizeof buf);
    if (problem != NULL) {
        anthropic_error(r, 400, problem);
        return NULL;
    }
    cJSON *chat = cJSON_CreateObject();
    copy_item(chat, "model", req, "model");
    cJSON *messages = cJSON_AddArrayToObject(chat, "messages");
    const cJSON *system = cJSON_GetObjectItemCaseSensitive(req, "system");
    if (system != NULL) {
        cJSON *sys = cJSON_CreateObject();
        cJSON_AddStringToObject(sys, "role", "system");
        cJSON_AddItemToObject(sys, "content", cJSON_Duplicate(system, true));
        cJSON_AddItemToArray(messages, sys);
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(req, "messages"))
    {
        cJSON_AddItemToArray(messages, cJSON_Duplicate(m, true));
    }
    copy_item(chat, "max_tokens", req, "max_tokens");
    copy_item(chat, "temperature", req, "temperature");
    copy_item(chat, "top_p", req, "top_p");
    return chat;
}

cJSON *hret_fake_dialect_request(const struct hret_fake_call *call, const cJSON *req,
                                 struct hret_fake_reply *r)
{
    if (!cJSON_IsObject(req)) {
        if (call->dialect == HRET_FAKE_DIALECT_ANTHROPIC) {
            anthropic_error(r, 400, "the request body is not a JSON object");
        } else {
            hret_fake_reply_error(r, 400, "invalid_request_error", NULL, NULL,
                                  "the request body is not a JSON object");
        }
        return NULL;
    }
    if (call->dialect == HRET_FAKE_DIALECT_ANTHROPIC) {
        return anthropic_request(req, r);
    }
    cJSON *chat = cJSON_Duplicate(req, true);
    if (call->dialect == HRET_FAKE_DIALECT_AZURE &&
        !cJSON_HasObjectItem(chat, "model")) { /* the deployment names the model */
        cJSON_AddStringToObject(chat, "model", call->deployment);
    }
    return chat;
}

static const char *string_at(const cJSON *obj, const char *key, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

static double number_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* A chat completion as a Messages API response. */
static cJSON *anthropic_message(const cJSON *chat)
{
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(chat, "choices"), 0);
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(chat, "usage");
    const char *finish = string_at(choice, "finish_reason", "stop");
    cJSON *doc = cJSON_CreateObject();
    const char *id = string_at(chat, "id", "chatcmpl-0");
    const char *dash = strchr(id, '-');
    char *msg_id = hret_xasprintf("msg_%s", dash != NULL ? dash + 1 : id);
    cJSON_AddStringToObject(doc, "id", msg_id);
    free(msg_id);
    cJSON_AddStringToObject(doc, "type", "message");
    cJSON_AddStringToObject(doc, "role", "assistant");
    cJSON_AddStringToObject(doc, "model", string_at(chat, "model", ""));
    cJSON *content = cJSON_AddArrayToObject(doc, "content");
    cJSON *block = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", "text");
    cJSON_AddStringToObject(
        block, "text",
        string_at(cJSON_GetObjectItemCaseSensitive(choice, "message"), "content", ""));
    cJSON_AddItemToArray(content, block);
    cJSON_AddStringToObject(doc, "stop_reason",
                            strcmp(finish, "length") == 0 ? "max_tokens" : "end_turn");
    cJSON_AddNullToObject(doc, "stop_sequence");
    cJSON *u = cJSON_AddObjectToObject(doc, "usage");
    cJSON_AddNumberToObject(u, "input_tokens", number_at(usage, "prompt_tokens"));
    cJSON_AddNumberToObject(u, "output_tokens", number_at(usage, "completion_tokens"));
    return doc;
}

void hret_fake_dialect_reply(enum hret_fake_dialect dialect, struct hret_fake_reply *r)
{
    if (dialect != HRET_FAKE_DIALECT_ANTHROPIC || r->body == NULL) {
        return; /* Azure answers in OpenAI's shape */
    }
    cJSON *doc = hret_json_parse(r->body, r->len, r->len + 1, NULL);
    if (doc == NULL) {
        return;
    }
    if (r->status == 200) {
        long retry_after = r->retry_after_s;
        hret_fake_reply_json(r, 200, anthropic_message(doc));
        r->retry_after_s = retry_after;
    } else {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
        const char *msg = string_at(cJSON_IsObject(e) ? e : doc, "message", "error");
        char *copy = hret_xstrdup(msg);
        anthropic_error(r, r->status, copy);
        free(copy);
    }
    cJSON_Delete(doc);
}
