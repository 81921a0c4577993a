/* hret monitor, the alert channels of monitor.channels: a Slack-compatible incoming webhook
 * ({"text": ...}), a generic JSON webhook (the alert event's data, HMAC-SHA256 signed like the
 * bridge's webhooks) and the PagerDuty Events API v2 (trigger / resolve with the dedupe key as
 * dedup_key). Endpoints come only from the config; secrets (signing secret, routing key) only
 * from environment variables named there, read when a notice is sent and never logged. Each call
 * is bounded by the channel's timeout and hret_call's body cap; quick retries happen inside the
 * call, longer backoff in the role loop. */
#ifndef HRET_MONITOR_CHANNEL_H
#define HRET_MONITOR_CHANNEL_H

#include <cjson/cJSON.h>

#include "hret_config.h"
#include "hret_err.h"
#include "hret_monitor_record.h"

/* The body a channel of kind (enum hret_monitor_channel_kind) gets for a notice: action
 * "trigger" or "resolve", payload the alert (or resolve) event data, routing_key the PagerDuty
 * key (nullable otherwise). All borrowed; caller owns the result. Pure. */
char *hret_monitor_channel_body(int kind, const char *action, const cJSON *payload,
                                const char *routing_key);

struct hret_monitor_channels;

/* Opens one HTTP client per configured channel of cfg (borrowed; must outlive the result).
 * HRET_E_CONFIG when a channel's secret variable is not set. */
enum hret_result hret_monitor_channels_open(const struct hret_config *cfg,
                                            struct hret_monitor_channels **out,
                                            struct hret_err *err);
void hret_monitor_channels_destroy(struct hret_monitor_channels *c);

/* Sends notice n (borrowed) to its channel. HRET_OK when the channel accepted it; otherwise the
 * class (hret_call_retriable tells whether to try again later). A notice for a channel no longer
 * configured is HRET_E_CONFIG (permanent). */
enum hret_result hret_monitor_channels_send(struct hret_monitor_channels *c,
                                            const struct hret_monitor_notice *n,
                                            struct hret_err *err);

#endif
