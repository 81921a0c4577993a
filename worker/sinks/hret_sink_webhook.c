/* The webhook sink (the seed's add_mlops_integration): every result event is POSTed, exactly as
 * it travelled on the topic, to each webhooks: entry whose filters match (event types, datasets,
 * models; empty = all). The request is a CloudEvents HTTP binary-mode message (ce-* headers, the
 * data as body) signed the hret way (hret_webhook.h): X-Hret-Signature over the timestamp, the
 * delivery id and the exact body with the secret from secret_env, X-Hret-Timestamp,
 * X-Hret-Delivery stable per (event, receiver), X-Hret-Event.
 *
 * Idempotent per receiver: bridge_state ("webhook:<name or index>", subject) records the last
 * event delivered, where subject is the run id (comparison id, else request id): a redelivered
 * or replayed event is not POSTed again once recorded. At least once remains between a receiver's
 * 2xx and that record (a crash there sends it again, with the same delivery id). Retriable
 * failures retry inside hret_call, then through the loop's backoff (receivers already served are
 * skipped); a permanent refusal (4xx) dead-letters the event once every other receiver had it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_call.h"
#include "hret_hash.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_sink.h"
#include "hret_webhook.h"

#define WHO "bridge webhook"
#define TIMEOUT_MS 10000
#define CONNECT_TIMEOUT_MS 3000
#define QUICK_RETRIES 2
#define MAX_RESPONSE_BYTES (64u << 10)

struct receiver {
    const struct hret_webhook_config *cfg; /* borrowed from the role's config */
    char sink[96];                         /* "webhook:ops" or "webhook:0" */
    char *secret;                          /* from secret_env; NULL: unsigned */
    size_t secret_len;
    struct hret_call call;
};

struct wh {
    struct hret_pg *pg; /* borrowed from the role's store */
    struct receiver *rx;
    size_t n;
};

static void close_wh(void *state)
{
    struct wh *w = state;
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < w->n; i++) {
        hret_call_close(&w->rx[i].call);
        if (w->rx[i].secret != NULL) {
            memset(w->rx[i].secret, 0, w->rx[i].secret_len);
            free(w->rx[i].secret);
        }
    }
    free(w->rx);
    free(w);
}

static enum hret_result open_receiver(struct receiver *x, const struct hret_webhook_config *c,
                                      size_t index, struct hret_err *err)
{
    x->cfg = c;
    if (c->name != NULL && *c->name != '\0') {
        snprintf(x->sink, sizeof x->sink, "webhook:%s", c->name);
    } else {
        snprintf(x->sink, sizeof x->sink, "webhook:%zu", index);
    }
    if (c->secret_env != NULL && *c->secret_env != '\0') {
        const char *v = getenv(c->secret_env);
        if (v == NULL || *v == '\0') {
            return hret_err_set(err, HRET_E_CONFIG,
                                "webhooks[%zu].secret_env names %s, which is not set: export the "
                                "signing secret in it, or remove secret_env to send unsigned",
                                index, c->secret_env);
        }
        x->secret = hret_xstrdup(v);
        x->secret_len = strlen(v);
    }
    struct hret_call_limits lim = {
        .name = x->sink,
        .timeout_ms = TIMEOUT_MS,
        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
        .max_retries = QUICK_RETRIES,
        .max_response_bytes = MAX_RESPONSE_BYTES,
    };
    return hret_call_open(&x->call, &lim, err);
}

static enum hret_result open_wh(struct hret_role *r, void **state, struct hret_err *err)
{
    const struct hret_cfg_array *list = &r->cfg.webhooks;
    if (list->count == 0) {
        return hret_err_set(err, HRET_E_CONFIG,
                            "no webhooks configured: add entries under webhooks: (url, "
                            "secret_env, filters) to the config");
    }
    struct wh *w = hret_xcalloc(1, sizeof *w);
    w->pg = hret_store_pg(r->store);
    w->rx = hret_xcalloc(list->count, sizeof *w->rx);
    const struct hret_webhook_config *cfgs = list->items;
    enum hret_result res = HRET_OK;
    for (size_t i = 0; i < list->count && res == HRET_OK; i++, w->n++) {
        res = open_receiver(&w->rx[i], &cfgs[i], i, err);
        for (size_t j = 0; j < i && res == HRET_OK; j++) {
            if (strcmp(w->rx[j].sink, w->rx[i].sink) == 0) {
                res = hret_err_set(err, HRET_E_CONFIG,
                                   "webhooks[%zu] and webhooks[%zu] are both named %s: names "
                                   "must be unique",
                                   j, i, w->rx[i].sink + 8);
            }
        }
    }
    if (res != HRET_OK) {
        close_wh(w);
        return res;
    }
    for (size_t i = 0; i < w->n; i++) { /* never the URL: it can carry a token in its path */
        hret_log_info(WHO, NULL, "receiver %s: %s", w->rx[i].sink,
                      w->rx[i].secret ? "signed" : "unsigned (no secret_env)");
    }
    *state = w;
    return HRET_OK;
}

static bool listed(const struct hret_strlist *l, const char *v)
{
    if (l->count == 0) {
        return true;
    }
    for (size_t i = 0; v != NULL && i < l->count; i++) {
        if (strcmp(l->items[i], v) == 0) {
            return true;
        }
    }
    return false;
}

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);
    if (b != NULL) {
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    }
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Whether the receiver's filters take the event: a comparison matches a model filter through
 * either of its two models. */
static bool matches(const struct receiver *x, const struct hret_role_event *ev)
{
    const cJSON *d = ev->data;
    if (!listed(&x->cfg->events, ev->ce.type) ||
        !listed(&x->cfg->datasets, str_at(d, "dataset", "name"))) {
        return false;
    }
    return listed(&x->cfg->models, str_at(d, "model", "name")) ||
           (x->cfg->models.count > 0 && (listed(&x->cfg->models, str_at(d, "baseline", "model")) ||
                                         listed(&x->cfg->models, str_at(d, "candidate", "model"))));
}

/* The delivery id: 32 hex digits of SHA-256 over "<ce_id>\n<sink>", the same on every retry. */
static void delivery_id(const char *ce_id, const char *sink, char out[33])
{
    char *text = hret_xasprintf("%s\n%s", ce_id, sink);
    char hex[65];
    hret_hash_sha256_hex(text, strlen(text), hex);
    free(text);
    memcpy(out, hex, 32);
    out[32] = '\0';
}

/* POSTs the event to one receiver. */
static enum hret_result post(struct receiver *x, const struct hret_role_event *ev,
                             const char *delivery, struct hret_err *err)
{
    const char *body = ev->body;
    size_t len = ev->body_len;
    struct hret_webhook_sig sig;
    char h_delivery[96], h_event[192], h_id[96], h_source[300], h_type[160], h_time[64];
    snprintf(h_delivery, sizeof h_delivery, "%s: %s", HRET_WEBHOOK_DELIVERY, delivery);
    snprintf(h_event, sizeof h_event, "%s: %s", HRET_WEBHOOK_EVENT, ev->ce.type);
    snprintf(h_id, sizeof h_id, "ce-id: %s", ev->ce.id);
    snprintf(h_source, sizeof h_source, "ce-source: %s", ev->ce.source);
    snprintf(h_type, sizeof h_type, "ce-type: %s", ev->ce.type);
    snprintf(h_time, sizeof h_time, "ce-time: %s", ev->ce.time);
    hret_webhook_sign(x->secret, x->secret_len, (long long)time(NULL), delivery, body, len, &sig);
    const char *headers[10] = {h_delivery, h_event, "ce-specversion: 1.0", h_id, h_source,
                               h_type,     h_time,  sig.timestamp};
    if (x->secret != NULL) {
        headers[8] = sig.signature;
    }
    struct hret_call_request req = {
        .method = "POST",
        .url = x->cfg->url,
        .content_type = "application/json",
        .body = body,
        .body_len = len,
        .headers = headers,
    };
    struct hret_call_response resp;
    enum hret_result r = hret_call_do(&x->call, &req, &resp, err); /* err names the status */
    hret_call_response_fini(&resp);
    return r;
}

static const char *subject_of(const cJSON *d)
{
    const char *s = str_at(d, "run_id", NULL);
    if (s == NULL) {
        s = str_at(d, "comparison_id", NULL);
    }
    return s != NULL ? s : str_at(d, "request_id", NULL);
}

/* One receiver: skipped when bridge_state says it had this event, else POSTed and recorded. */
static enum hret_result deliver_one(struct wh *w, struct receiver *x,
                                    const struct hret_role_event *ev, const char *subject,
                                    struct hret_err *err)
{
    struct hret_bridge_state st;
    bool found = false;
    enum hret_result r = hret_bridge_state_get(w->pg, x->sink, subject, &st, &found, err);
    bool had = r == HRET_OK && found && st.last_event_id != NULL &&
               strcmp(st.last_event_id, ev->ce.id) == 0;
    hret_bridge_state_fini(&st);
    if (r != HRET_OK) {
        err->code = HRET_E_UNAVAILABLE; /* our database: wait for it, never drop the event */
        return err->code;
    }
    if (had) {
        hret_log_debug(WHO, ev->ce.id, "%s already had it (bridge_state)", x->sink);
        return HRET_OK;
    }
    char delivery[33];
    delivery_id(ev->ce.id, x->sink, delivery);
    if (post(x, ev, delivery, err) != HRET_OK) {
        return err->code;
    }
    struct hret_bridge_state put = {
        .external_id = hret_xstrdup(delivery),
        .state = hret_xstrdup("finished"),
        .last_event_id = hret_xstrdup(ev->ce.id),
    };
    r = hret_bridge_state_put(w->pg, x->sink, subject, &put, err);
    hret_bridge_state_fini(&put);
    if (r != HRET_OK) {
        err->code = HRET_E_UNAVAILABLE; /* posted but not recorded: sent again, same delivery id */
        return err->code;
    }
    hret_log_info(WHO, subject, "%s: delivered %s (delivery %s)", x->sink, ev->ce.type, delivery);
    return HRET_OK;
}

static enum hret_role_verdict deliver_wh(void *state, const struct hret_role_event *ev,
                                         struct hret_err *err)
{
    struct wh *w = state;
    const char *subject = subject_of(ev->data);
    if (subject == NULL) {
        hret_err_set(err, HRET_E_PROTO, "%s without run_id, comparison_id or request_id",
                     ev->ce.type);
        return HRET_ROLE_REJECT;
    }
    struct hret_err refused = HRET_ERR_INIT; /* the first permanent refusal */
    for (size_t i = 0; i < w->n; i++) {
        struct receiver *x = &w->rx[i];
        if (!matches(x, ev)) {
            continue;
        }
        struct hret_err e = HRET_ERR_INIT;
        enum hret_result r = deliver_one(w, x, ev, subject, &e);
        if (r == HRET_OK) {
            continue;
        }
        if (hret_call_retriable(r)) {
            hret_err_set(err, r, "%s", e.msg);
            return HRET_ROLE_RETRY; /* the receivers served so far are skipped next time */
        }
        hret_log_warn(WHO, subject, "%s refused %s for good: %s", x->sink, ev->ce.id, e.msg);
        hret_err_set(&refused, r, "%s", e.msg);
    }
    if (refused.code != HRET_OK) {
        hret_err_set(err, refused.code, "%s", refused.msg);
        return HRET_ROLE_REJECT;
    }
    return HRET_ROLE_DONE;
}

const struct hret_sink hret_sink_webhook = {
    .name = "webhook",
    .events = NULL, /* every result event; each receiver filters by its own events: */
    .own_routing = true,
    .open = open_wh,
    .deliver = deliver_wh,
    .close = close_wh,
};
