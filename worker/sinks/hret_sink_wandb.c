/* `hret bridge wandb`: each run event becomes a W&B run through the SDK's own wire protocol
 * (hret_wandb.h builds the requests). Progress lives in bridge_state (subject = run id):
 *
 *   no row            upsertBucket, then row {external_id "entity/project/name", state open}
 *   offsets summary 0 file_stream history line 0 + summary, then offsets {history 1, summary 1}
 *   state open        file_stream complete/exitcode, then state finished (or failed)
 *   finished, failed  nothing: a redelivered or replayed event changes nothing outside
 *
 * Each step is recorded only after W&B accepted it, so a crash in between repeats that step
 * with the same bytes: the same run name (an update, never a second run) and the same offsets
 * (a retransmission, never a line at a new offset). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_call.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_sink.h"
#include "hret_wandb.h"

#define WHO "bridge wandb"
#define SINK "wandb"
#define TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_MS 10000
#define QUICK_RETRIES 2
#define MAX_RESPONSE_BYTES ((size_t)1 << 20)

struct wandb {
    struct hret_role *r; /* borrowed */
    struct hret_call call;
    char *base; /* base_url without a trailing '/' */
};

static enum hret_result wandb_open(struct hret_role *r, void **state, struct hret_err *err)
{
    const struct hret_wandb_config *cfg = &r->cfg.wandb;
    const char *key = getenv(cfg->api_key_env);
    if (key == NULL || *key == '\0') {
        return hret_err_set(err, HRET_E_CONFIG,
                            "wandb: the API key is missing: set the environment variable %s "
                            "(wandb.api_key_env) to a W&B API key",
                            cfg->api_key_env);
    }
    struct hret_call_limits limits = {
        .name = SINK,
        .timeout_ms = TIMEOUT_MS,
        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
        .max_retries = QUICK_RETRIES,
        .max_response_bytes = MAX_RESPONSE_BYTES,
        .auth = HRET_CALL_AUTH_BASIC, /* infra.md §2.1: user "api", password the key */
        .basic_user = "api",
        .secret_env = cfg->api_key_env,
    };
    struct wandb *w = hret_xcalloc(1, sizeof *w);
    w->r = r;
    if (hret_call_open(&w->call, &limits, err) != HRET_OK) {
        free(w);
        return err->code;
    }
    size_t n = strlen(cfg->base_url);
    w->base = hret_xstrndup(cfg->base_url, n > 0 && cfg->base_url[n - 1] == '/' ? n - 1 : n);
    *state = w;
    return HRET_OK;
}

static void wandb_close(void *state)
{
    struct wandb *w = state;
    if (w == NULL) {
        return;
    }
    hret_call_close(&w->call);
    free(w->base);
    free(w);
}

/* Retriable failures (connection, timeout, 408/429/5xx and, for upsertBucket, 409 Conflict:
 * retry_policy.go) come back later; anything else is the event's fault or W&B's answer. */
static enum hret_role_verdict verdict(enum hret_result code, long status, bool upsert)
{
    if (hret_call_retriable(code) || (upsert && status == 409)) {
        return HRET_ROLE_RETRY;
    }
    return HRET_ROLE_REJECT;
}

/* POSTs body to url; on failure err ends with (at most) 200 bytes of W&B's answer. */
static enum hret_result post(struct wandb *w, const char *url, const char *body,
                             struct hret_call_response *resp, struct hret_err *err)
{
    struct hret_call_request req = {"POST", url, "application/json", body, strlen(body), NULL};
    enum hret_result r = hret_call_do(&w->call, &req, resp, err);
    if (r != HRET_OK && resp->body_len > 0 && err != NULL) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (W&B said: %.200s)", resp->body);
    }
    return r;
}

static void target(const struct wandb *w, const cJSON *event, const char **entity,
                   const char **project)
{
    const cJSON *block = NULL;
    (void)hret_sink_wanted(&w->r->cfg, SINK, event, &block);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(block, "entity");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(block, "project");
    *entity = cJSON_IsString(e) ? e->valuestring : w->r->cfg.wandb.entity;
    *project = cJSON_IsString(p) ? p->valuestring : w->r->cfg.wandb.project;
}

static enum hret_role_verdict upsert(struct wandb *w, const cJSON *event, const char *run_id,
                                     struct hret_bridge_state *st, struct hret_err *err)
{
    char name[65];
    hret_wandb_run_name(run_id, name);
    const char *entity = NULL, *project = NULL;
    target(w, event, &entity, &project);
    char *url = hret_xasprintf("%s/graphql", w->base);
    char *body = hret_wandb_upsert_body(event, name, entity, project);
    struct hret_call_response resp;
    struct hret_wandb_bucket bucket;
    enum hret_role_verdict v = HRET_ROLE_DONE;
    enum hret_result r = post(w, url, body, &resp, err);
    if (r != HRET_OK) {
        v = verdict(r, resp.status, true);
    } else if (hret_wandb_upsert_parse(resp.body, resp.body_len, &bucket, err) != HRET_OK) {
        v = HRET_ROLE_REJECT;
    } else {
        free(st->external_id);
        st->external_id = hret_xasprintf("%s/%s/%s", bucket.entity, bucket.project, bucket.name);
        free(st->state);
        st->state = hret_xstrdup("open");
        hret_log_info(WHO, run_id, "W&B run %s upserted", st->external_id);
    }
    hret_call_response_fini(&resp);
    free(body);
    free(url);
    return v;
}

/* Sends one file_stream body for the run at path "entity/project/name". */
static enum hret_role_verdict stream(struct wandb *w, const char *path, const char *body,
                                     struct hret_err *err)
{
    char *entity = hret_xstrdup(path);
    char *project = strchr(entity, '/');
    char *name = project ? strchr(project + 1, '/') : NULL;
    if (name == NULL) {
        free(entity);
        hret_err_set(err, HRET_E_INVAL, "bridge_state holds '%s', not entity/project/run", path);
        return HRET_ROLE_REJECT;
    }
    *project++ = '\0';
    *name++ = '\0';
    char *url = hret_wandb_stream_url(w->base, entity, project, name);
    struct hret_call_response resp;
    enum hret_result r = post(w, url, body, &resp, err);
    hret_call_response_fini(&resp);
    free(url);
    free(entity);
    return r == HRET_OK ? HRET_ROLE_DONE : verdict(r, resp.status, false);
}

static long long offset_of(const cJSON *offsets, const char *file)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(offsets, file);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

static void set_offset(cJSON *offsets, const char *file, long long n)
{
    cJSON_DeleteItemFromObjectCaseSensitive(offsets, file);
    cJSON_AddNumberToObject(offsets, file, (double)n);
}

/* History line 0 and the summary. A run with no metric (a failure before scoring) sends only the
 * summary; its history stays empty. */
static enum hret_role_verdict send_data(struct wandb *w, const struct hret_role_event *ev,
                                        struct hret_bridge_state *st, struct hret_err *err)
{
    cJSON *row = hret_wandb_row(ev->data);
    bool with_history = hret_wandb_row_has_metrics(row);
    long long line = offset_of(st->offsets, HRET_WANDB_HISTORY);
    char *body = hret_wandb_stream_body(row, with_history && line == 0, line);
    enum hret_role_verdict v = stream(w, st->external_id, body, err);
    if (v == HRET_ROLE_DONE) {
        set_offset(st->offsets, HRET_WANDB_HISTORY, with_history ? 1 : line);
        set_offset(st->offsets, HRET_WANDB_SUMMARY, 1);
    }
    free(body);
    cJSON_Delete(row);
    return v;
}

static enum hret_role_verdict put(struct wandb *w, const char *run_id,
                                  const struct hret_bridge_state *st, struct hret_err *err)
{
    struct hret_pg *pg = hret_store_pg(w->r->store);
    if (hret_bridge_state_put(pg, SINK, run_id, st, err) != HRET_OK) {
        return HRET_ROLE_RETRY; /* the database is away: W&B sees the same bytes again */
    }
    return HRET_ROLE_DONE;
}

static enum hret_role_verdict deliver_run(struct wandb *w, const struct hret_role_event *ev,
                                          const char *run_id, bool failed, struct hret_err *err)
{
    struct hret_bridge_state st;
    bool found = false;
    if (hret_bridge_state_get(hret_store_pg(w->r->store), SINK, run_id, &st, &found, err) !=
        HRET_OK) {
        hret_bridge_state_fini(&st);
        return HRET_ROLE_RETRY;
    }
    enum hret_role_verdict v = HRET_ROLE_DONE;
    if (found && st.state != NULL && strcmp(st.state, "open") != 0) {
        /* completed before: a redelivery or a replay */
        hret_log_debug(WHO, run_id, "W&B run %s already %s: nothing to send", st.external_id,
                       st.state);
        goto cleanup;
    }
    if (st.external_id == NULL) {
        if ((v = upsert(w, ev->data, run_id, &st, err)) != HRET_ROLE_DONE ||
            (v = put(w, run_id, &st, err)) != HRET_ROLE_DONE) {
            goto cleanup;
        }
    }
    if (offset_of(st.offsets, HRET_WANDB_SUMMARY) == 0) {
        if ((v = send_data(w, ev, &st, err)) != HRET_ROLE_DONE ||
            (v = put(w, run_id, &st, err)) != HRET_ROLE_DONE) {
            goto cleanup;
        }
    }
    char *body = hret_wandb_complete_body(failed ? 1 : 0);
    v = stream(w, st.external_id, body, err);
    free(body);
    if (v != HRET_ROLE_DONE) {
        goto cleanup;
    }
    free(st.state);
    st.state = hret_xstrdup(failed ? "failed" : "finished");
    free(st.last_event_id);
    st.last_event_id = hret_xstrdup(ev->ce.id);
    if ((v = put(w, run_id, &st, err)) == HRET_ROLE_DONE) {
        hret_log_info(WHO, run_id, "W&B run %s %s", st.external_id, st.state);
    }
cleanup:
    if (v != HRET_ROLE_DONE) {
        hret_err_prefix(err, "wandb run %s", run_id);
    }
    hret_bridge_state_fini(&st);
    return v;
}

static enum hret_role_verdict wandb_deliver(void *state, const struct hret_role_event *ev,
                                            struct hret_err *err)
{
    /* wandb_events: only run.completed and run.failed reach here. */
    bool failed = strcmp(ev->ce.type, "hret.run.failed.v1") == 0;
    const cJSON *run_id = cJSON_GetObjectItemCaseSensitive(ev->data, "run_id");
    if (!cJSON_IsString(run_id) || run_id->valuestring[0] == '\0') {
        /* A request that failed before any run was planned: nothing to show in W&B. */
        hret_log_debug(WHO, ev->key, "%s without run_id skipped", ev->ce.type);
        return HRET_ROLE_DONE;
    }
    return deliver_run(state, ev, run_id->valuestring, failed, err);
}

static const char *const wandb_events[] = {"hret.run.completed.v1", "hret.run.failed.v1", NULL};

const struct hret_sink hret_sink_wandb = {
    .name = SINK,
    .events = wandb_events,
    .open = wandb_open,
    .deliver = wandb_deliver,
    .close = wandb_close,
};
