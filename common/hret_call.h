/* One blocking HTTP call at a time, for the roles that talk to a service request by request
 * (bridges, alert channels). Built on the endpoint engine (hret_http), so timeouts from send,
 * the body cap, retries with full-jitter backoff and Retry-After, and secrets by reference behave
 * exactly as they do for model endpoints. */
#ifndef HRET_CALL_H
#define HRET_CALL_H

#include <stddef.h>

#include "hret_err.h"

struct hret_http;

enum hret_call_auth {
    HRET_CALL_AUTH_NONE,
    HRET_CALL_AUTH_BEARER, /* Authorization: Bearer <secret> */
    HRET_CALL_AUTH_BASIC,  /* Authorization: Basic base64(<basic_user>:<secret>) (W&B: "api") */
};

struct hret_call_limits { /* all borrowed for hret_call_open; copied */
    const char *name;     /* for logs and errors: "mlflow", "webhook:ops" */
    long timeout_ms;      /* per attempt, from send */
    long connect_timeout_ms;
    int max_retries; /* quick retries inside one call; the caller's loop backs off further */
    size_t max_response_bytes;
    enum hret_call_auth auth;
    const char *basic_user;
    const char *secret_env;  /* secret reference: environment variable name, or NULL */
    const char *secret_file; /* secret reference: file path, or NULL */
};

struct hret_call {
    struct hret_http *http;
    int pool;
    char *name; /* owned copy of limits->name, for errors */
};

struct hret_call_request { /* borrowed */
    const char *method;    /* "GET", "POST", "PUT" */
    const char *url;
    const char *content_type; /* NULL: application/json when there is a body */
    const char *body;         /* NULL for none */
    size_t body_len;
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated, nullable */
};

struct hret_call_response {
    long status; /* HTTP status of the last attempt, 0 when none came */
    char *body;  /* NUL-terminated, owned; "" when none */
    size_t body_len;
    int attempts;
};

enum hret_result hret_call_open(struct hret_call *c, const struct hret_call_limits *limits,
                                struct hret_err *err);
void hret_call_close(struct hret_call *c);

/* Sends req and waits for the outcome (retries included). HRET_OK on a 2xx; otherwise err says
 * why, never with the secret, and the result is the class: HRET_E_TIMEOUT / HRET_E_UNAVAILABLE
 * (retriable: 408, 409, 429, 5xx, connection; the engine's classes) or a permanent one
 * (HRET_E_INVAL for other 4xx, HRET_E_PROTO over the body cap, HRET_E_CONFIG for a missing
 * secret). out is filled either way; release it with hret_call_response_fini. */
enum hret_result hret_call_do(struct hret_call *c, const struct hret_call_request *req,
                              struct hret_call_response *out, struct hret_err *err);
void hret_call_response_fini(struct hret_call_response *out);

/* True for the classes worth trying again later (the role loop's HRET_ROLE_RETRY). */
int hret_call_retriable(enum hret_result code);

#endif
