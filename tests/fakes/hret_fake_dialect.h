/* The provider dialects fake-llm speaks besides OpenAI's: Anthropic's Messages API
 * (POST /v1/messages) and Azure OpenAI's deployment route
 * (POST /openai/deployments/{deployment}/chat/completions?api-version=...). Each checks what the
 * real service insists on (its auth header, anthropic-version, api-version, the fields Anthropic
 * accepts), turns the request into a chat completions request that hret_fake_answer_chat
 * answers, and turns the reply (answers and errors) back into the dialect's shape. Pure
 * functions over parsed data; the server reads the headers. */
#ifndef HRET_FAKE_DIALECT_H
#define HRET_FAKE_DIALECT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "hret_fake_reply.h"

enum hret_fake_dialect {
    HRET_FAKE_DIALECT_OPENAI,
    HRET_FAKE_DIALECT_ANTHROPIC,
    HRET_FAKE_DIALECT_AZURE,
};

/* What the server read from one request's headers and query; all borrowed, NULL when absent. */
struct hret_fake_call {
    enum hret_fake_dialect dialect;
    const char *authorization; /* Authorization */
    const char *x_api_key;     /* x-api-key (Anthropic) */
    const char *api_key;       /* api-key (Azure) */
    const char *version;       /* anthropic-version header, or the api-version query argument */
    const char *deployment;    /* Azure: the path segment; NUL-terminated copy owned by caller */
    const char *expected_key;  /* --api-key: the key every call must carry, NULL = any */
};

/* The deployment of an Azure chat path into out (cap bytes); false when path is not one. */
bool hret_fake_dialect_azure_path(const char *path, char *out, size_t cap);

/* Checks the call's headers; false with the dialect's error reply (401/400/404) set. */
bool hret_fake_dialect_check(const struct hret_fake_call *call, struct hret_fake_reply *r);

/* The chat completions request for a dialect's request (req borrowed; caller owns result), or
 * NULL with a 400 in the dialect's shape set. OpenAI requests are duplicated as they are. */
cJSON *hret_fake_dialect_request(const struct hret_fake_call *call, const cJSON *req,
                                 struct hret_fake_reply *r);

/* Rewrites a chat completions reply (200 or a JSON error) into the dialect's shape; non-JSON
 * bodies (a proxy's HTML page) are left as they are. */
void hret_fake_dialect_reply(enum hret_fake_dialect dialect, struct hret_fake_reply *r);

#endif
