#include "hret_fake_route.h"

#include <stdio.h>
#include <string.h>

static const struct route {
    const char *method;
    const char *path;
    enum hret_fake_endpoint ep;
} routes[] = {
    {"POST", "/v1/chat/completions", HRET_FAKE_EP_CHAT},
    {"POST", "/v1/completions", HRET_FAKE_EP_COMPLETIONS},
    {"POST", "/v1/messages", HRET_FAKE_EP_MESSAGES},
    {"GET", "/v1/models", HRET_FAKE_EP_MODELS},
    {"GET", "/health", HRET_FAKE_EP_HEALTH},
    {"GET", "/fake/stats", HRET_FAKE_EP_STATS},
    {"POST", "/fake/reset", HRET_FAKE_EP_RESET},
};

enum hret_fake_endpoint hret_fake_route(const char *method, const char *url, char *deployment,
                                        size_t cap)
{
    if (hret_fake_dialect_azure_path(url, deployment, cap)) {
        return strcmp(method, "POST") == 0 ? HRET_FAKE_EP_AZURE_CHAT : HRET_FAKE_EP_BAD_METHOD;
    }
    bool path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(url, routes[i].path) == 0) {
            if (strcmp(method, routes[i].method) == 0) {
                return routes[i].ep;
            }
            path_known = true;
        }
    }
    return path_known ? HRET_FAKE_EP_BAD_METHOD : HRET_FAKE_EP_NOT_FOUND;
}

bool hret_fake_route_counted(enum hret_fake_endpoint ep)
{
    return ep < HRET_FAKE_EP_STATS;
}

bool hret_fake_route_model_call(enum hret_fake_endpoint ep)
{
    return ep <= HRET_FAKE_EP_AZURE_CHAT;
}

/* What the dialect checks need from the request's headers and query. */
struct hret_fake_call hret_fake_route_call(struct MHD_Connection *conn, enum hret_fake_endpoint ep,
                                           const char *deployment, const char *expected_key)
{
    enum MHD_ValueKind h = MHD_HEADER_KIND;
    bool azure = ep == HRET_FAKE_EP_AZURE_CHAT, anthropic = ep == HRET_FAKE_EP_MESSAGES;
    return (struct hret_fake_call){
        .dialect = anthropic ? HRET_FAKE_DIALECT_ANTHROPIC
                   : azure   ? HRET_FAKE_DIALECT_AZURE
                             : HRET_FAKE_DIALECT_OPENAI,
        .authorization = MHD_lookup_connection_value(conn, h, "Authorization"),
        .x_api_key = MHD_lookup_connection_value(conn, h, "x-api-key"),
        .api_key = MHD_lookup_connection_value(conn, h, "api-key"),
        .version = azure ? MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "api-version")
                         : MHD_lookup_connection_value(conn, h, "anthropic-version"),
        .deployment = deployment,
        .expected_key = expected_key,
    };
}

/* --require-header: false with a 403 when one is missing or differs. */
bool hret_fake_route_headers(const struct hret_fake_config *cfg, struct MHD_Connection *conn,
                             struct hret_fake_reply *r)
{
    for (size_t i = 0; i < cfg->n_headers; i++) {
        const struct hret_fake_header *want = &cfg->headers[i];
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)want->name_len, want->name);
        const char *got = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
        if (got == NULL || strcmp(got, want->value) != 0) {
            char msg[192];
            snprintf(msg, sizeof msg, "gateway header %s is missing or wrong", name);
            hret_fake_reply_error(r, 403, "permission_error", NULL, NULL, msg);
            return false;
        }
    }
    return true;
}
