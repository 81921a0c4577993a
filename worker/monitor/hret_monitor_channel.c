/* hret monitor, alert channels (see hret_monitor_channel.h). */
#include "hret_monitor_channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_call.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_webhook.h"

#define MAX_RESPONSE_BYTES 65536
#define CONNECT_TIMEOUT_MS 5000
#define PD_SUMMARY_MAX 1024 /* the Events API refuses longer summaries */

static const char *str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

static char *slack_body(const char *action, const cJSON *p)
{
    char *text = strcmp(action, "resolve") == 0
                     ? hret_xasprintf(":white_check_mark: hret alert resolved: %s: %s (model %s, "
                                      "dataset %s, run %s)",
                                      str(p, "rule"), str(p, "message"), str(p, "model"),
                                      str(p, "dataset"), str(p, "run_id"))
                     : hret_xasprintf(":rotating_light: hret alert [%s] %s: %s (model %s, "
                                      "dataset %s, run %s)",
                                      str(p, "severity"), str(p, "rule"), str(p, "message"),
                                      str(p, "model"), str(p, "dataset"), str(p, "run_id"));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "text", text);
    free(text);
    char *body = hret_json_print(o);
    cJSON_Delete(o);
    return body;
}

static char *pagerduty_body(const char *action, const cJSON *p, const char *routing_key)
{
    bool resolve = strcmp(action, "resolve") == 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "routing_key", routing_key ? routing_key : "");
    cJSON_AddStringToObject(o, "event_action", resolve ? "resolve" : "trigger");
    cJSON_AddStringToObject(o, "dedup_key", str(p, "dedupe_key"));
    if (!resolve) {
        cJSON *pl = cJSON_AddObjectToObject(o, "payload");
        char summary[PD_SUMMARY_MAX];
        snprintf(summary, sizeof summary, "%s: %s", str(p, "rule"), str(p, "message"));
        cJSON_AddStringToObject(pl, "summary", summary);
        cJSON_AddStringToObject(pl, "source", "hret monitor");
        cJSON_AddStringToObject(pl, "severity", str(p, "severity"));
        cJSON_AddStringToObject(pl, "component", str(p, "model"));
        cJSON_AddStringToObject(pl, "group", str(p, "dataset"));
        cJSON_AddStringToObject(pl, "class", str(p, "rule"));
        cJSON_AddItemToObject(pl, "custom_details", cJSON_Duplicate(p, 1));
    }
    char *body = hret_json_print(o);
    cJSON_Delete(o);
    return body;
}

char *hret_monitor_channel_body(int kind, const char *action, const cJSON *payload,
                                const char *routing_key)
{
    switch (kind) {
    case HRET_CHANNEL_SLACK:
        return slack_body(action, payload);
    case HRET_CHANNEL_PAGERDUTY:
        return pagerduty_body(action, payload, routing_key);
    default:
        return hret_json_print(payload);
    }
}

struct hret_monitor_channels {
    const struct hret_config *cfg;
    struct hret_call *calls; /* one per channel, in config order */
    size_t count;
};

static const char *env_secret(const char *name)
{
    const char *v = name ? getenv(name) : NULL;
    return v != NULL && *v != '\0' ? v : NULL;
}

enum hret_result hret_monitor_channels_open(const struct hret_config *cfg,
                                            struct hret_monitor_channels **out,
                                            struct hret_err *err)
{
    struct hret_monitor_channels *c = hret_xcalloc(1, sizeof *c);
    c->cfg = cfg;
    size_t n = cfg->monitor.channels.count;
    c->calls = n > 0 ? hret_xcalloc(n, sizeof *c->calls) : NULL;
    *out = c;
    for (size_t i = 0; i < n; i++) {
        const struct hret_monitor_channel_config *ch =
            (const struct hret_monitor_channel_config *)cfg->monitor.channels.items + i;
        c->calls[i].pool = -1;
        const char *need = ch->kind == HRET_CHANNEL_PAGERDUTY ? ch->routing_key_env
                           : ch->kind == HRET_CHANNEL_WEBHOOK ? ch->secret_env
                                                              : NULL;
        if (ch->kind == HRET_CHANNEL_PAGERDUTY && need == NULL) {
            return hret_err_set(err, HRET_E_CONFIG,
                                "monitor.channels.%s: a pagerduty channel needs routing_key_env "
                                "(the variable holding the integration's routing key)",
                                ch->name);
        }
        if (need != NULL && env_secret(need) == NULL) {
            return hret_err_set(err, HRET_E_CONFIG,
                                "monitor.channels.%s: the environment variable %s is not set; "
                                "export it (the %s) before starting the monitor",
                                ch->name, need,
                                ch->kind == HRET_CHANNEL_PAGERDUTY ? "routing key"
                                                                   : "signing secret");
        }
        char name[160];
        snprintf(name, sizeof name, "channel:%s", ch->name);
        struct hret_call_limits lim = {
            .name = name,
            .timeout_ms = ch->timeout_ms,
            .connect_timeout_ms = CONNECT_TIMEOUT_MS,
            .max_retries = (int)ch->max_retries,
            .max_response_bytes = MAX_RESPONSE_BYTES,
        };
        if (hret_call_open(&c->calls[i], &lim, err) != HRET_OK) {
            return err->code;
        }
        c->count = i + 1;
    }
    return HRET_OK;
}

void hret_monitor_channels_destroy(struct hret_monitor_channels *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->count; i++) {
        hret_call_close(&c->calls[i]);
    }
    free(c->calls);
    free(c);
}

enum hret_result hret_monitor_channels_send(struct hret_monitor_channels *c,
                                            const struct hret_monitor_notice *n,
                                            struct hret_err *err)
{
    const struct hret_monitor_channel_config *ch = NULL;
    size_t idx = 0;
    for (; idx < c->count; idx++) {
        ch = (const struct hret_monitor_channel_config *)c->cfg->monitor.channels.items + idx;
        if (strcmp(ch->name, n->channel) == 0) {
            break;
        }
    }
    if (idx == c->count) {
        return hret_err_set(err, HRET_E_CONFIG,
                            "channel %s is no longer configured; the notice is dropped",
                            n->channel);
    }
    const char *routing_key = env_secret(ch->routing_key_env);
    char *body = hret_monitor_channel_body(ch->kind, n->action, n->payload, routing_key);
    struct hret_webhook_sig sig;
    char delivery[200] = "", event[80] = "";
    const char *headers[5] = {NULL};
    if (ch->kind == HRET_CHANNEL_WEBHOOK) {
        snprintf(delivery, sizeof delivery, "%s: %s", HRET_WEBHOOK_DELIVERY, n->notice_id);
        snprintf(event, sizeof event, "%s: %s", HRET_WEBHOOK_EVENT,
                 strcmp(n->action, "resolve") == 0 ? HRET_MONITOR_RESOLVED_TYPE
                                                   : HRET_MONITOR_RAISED_TYPE);
        headers[0] = delivery;
        headers[1] = event;
        const char *secret = env_secret(ch->secret_env); /* the one convention: hret_webhook.h */
        hret_webhook_sign(secret, secret ? strlen(secret) : 0, (long long)time(NULL), n->notice_id,
                          body, strlen(body), &sig);
        headers[2] = sig.timestamp;
        headers[3] = secret != NULL ? sig.signature : NULL;
    }
    struct hret_call_request req = {
        .method = "POST",
        .url = ch->url,
        .body = body,
        .body_len = strlen(body),
        .headers = headers,
    };
    struct hret_call_response resp = {0};
    enum hret_result r = hret_call_do(&c->calls[idx], &req, &resp, err);
    hret_call_response_fini(&resp);
    free(body);
    return r;
}
