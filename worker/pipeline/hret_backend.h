/* Model backends: const vtables with pure `prepare` (prompt -> HTTP request) and `parse`
 * (HTTP response -> model output). They never do I/O; the endpoint engine owns curl. */
#ifndef HRET_BACKEND_H
#define HRET_BACKEND_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "hret_buf.h"
#include "hret_config.h"
#include "hret_err.h"
#include "hret_http.h"

/* Generation parameters of one request; values <= 0 / NAN / NULL mean "not sent". */
struct hret_gen_params {
    long max_tokens;
    double temperature; /* NAN = the model's configured temperature */
    double top_p;       /* NAN = not sent */
    long long seed;
    bool has_seed;
    long n;                          /* choices; 0 or 1 = one */
    const struct hret_strlist *stop; /* borrowed, may be NULL */
    bool logprobs;
    int top_logprobs; /* chat: top_logprobs; completions: logprobs = this (>= 1 when logprobs) */
    bool echo;        /* completions only */
    const cJSON *extra_body; /* borrowed JSON object merged into the body, may be NULL */
};

struct hret_backend_output {
    char *content; /* choice 0; "" when the endpoint returned no text (then no_text is set) */
    /* What came back instead of text in choice 0 ("content null, finish_reason
     * content_filter", "choices empty"), from hret_backend_no_text; NULL when there is text.
     * The run records it as the sample's error, never as an answer. */
    char *no_text;
    char *finish_reason;
    char *model;       /* served model id as reported, NULL when absent */
    char *fingerprint; /* system_fingerprint, NULL when absent */
    long prompt_tokens, completion_tokens;
    struct hret_strlist choices; /* every choice's text, in index order (n >= 1) */
    cJSON *logprobs;             /* choice 0's logprobs object, NULL when absent */
};

void hret_backend_output_fini(struct hret_backend_output *out);

struct hret_backend_ops {
    const char *name; /* config `backend:` value */
    /* The header the API key goes in as is ("x-api-key", "api-key"); NULL: Authorization:
     * Bearer <key>. */
    const char *key_header;
    const char *const *headers; /* "Name: value" lines every request carries; NULL-terminated */
    /* Builds the URL and JSON body for one prompt (borrowed). Fills url and body. */
    enum hret_result (*prepare)(const struct hret_model_config *model,
                                const struct hret_gen_params *params, const char *prompt,
                                struct hret_buf *url, struct hret_buf *body, struct hret_err *err);
    /* Parses a 2xx body; HRET_E_PROTO when it is not a valid response (the run layer then
     * answers HRET_AGAIN so the engine retries it as a malformed body). */
    enum hret_result (*parse)(const char *body, size_t len, struct hret_backend_output *out,
                              struct hret_err *err);
};

extern const struct hret_backend_ops hret_backend_openai_chat;
extern const struct hret_backend_ops hret_backend_openai_completions;
extern const struct hret_backend_ops hret_backend_anthropic;
extern const struct hret_backend_ops hret_backend_azure_openai;

/* The backend for a model's `backend:` setting. */
const struct hret_backend_ops *hret_backend_for(const struct hret_model_config *model);

/* The message of an error body in any of the shapes OpenAI, vLLM, llama.cpp and Anthropic send
 * ({"error":{"message","code"}}, {"object":"error","message"}, {"message"},
 * {"type":"error","error":{"type","message"}}), with a string code or Anthropic's error type in
 * brackets; writes "" when the body is not JSON (an HTML page from a proxy). */
void hret_backend_error_message(const char *body, size_t len, char *out, size_t cap);

/* The endpoint engine's limits of a model, with the backend's key header and fixed headers
 * and the model's headers and headers_env (everything borrowed from model and backend). */
void hret_backend_limits(const struct hret_model_config *model,
                         const struct hret_backend_ops *backend, struct hret_http_limits *out);

/* ---- shared by the backends' prepare functions (hret_backend_openai.c) ---- */

/* url = base_url without trailing slashes + path. */
enum hret_result hret_backend_url(const struct hret_model_config *model, const char *path,
                                  struct hret_buf *url, struct hret_err *err);
/* Sets body[key] = value, replacing an earlier value; takes ownership of value. */
void hret_backend_put(cJSON *body, const char *key, cJSON *value);
/* The model's and then the request's extra_body fields into body. */
void hret_backend_put_extra(cJSON *body, const struct hret_model_config *model,
                            const struct hret_gen_params *p);
/* text percent-encoded for a URL path or query (RFC 3986 unreserved kept); caller owns result. */
char *hret_backend_escape(const char *text);
/* Prints body into out and deletes body. */
enum hret_result hret_backend_finish(cJSON *body, struct hret_buf *out, struct hret_err *err);

/* The wording of a reply without text, shared by every backend: "<what>, finish_reason <r>"
 * or just what when finish_reason is NULL (what: "content null", "choices empty", ...). Caller
 * owns result. */
char *hret_backend_no_text(const char *what, const char *finish_reason);

/* A rough count of tokens for rate limiting before the call (corrected from usage after). */
long hret_backend_estimate_tokens(const char *prompt, long max_tokens);

#endif
