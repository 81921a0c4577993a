#include "hret_sink_local.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cloudevents.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_role.h"
#include "hret_sink.h"

#define WHO "track"
#define ATTEMPTS 5
#define BACKOFF_FIRST_MS 500

static bool listed(const struct hret_strlist *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->items[i], name) == 0) {
            return true;
        }
    }
    return false;
}

enum hret_result hret_sink_local_select(const struct hret_config *cfg, const char *spec,
                                        struct hret_strlist *out, struct hret_err *err)
{
    *out = (struct hret_strlist){0};
    if (spec == NULL) {
        static const char *const defaults[] = {"mlflow", "wandb", "tensorboard"};
        const bool on[] = {cfg->mlflow_tracking, cfg->wandb_tracking, cfg->tensorboard_tracking};
        for (size_t i = 0; i < 3; i++) {
            if (on[i]) {
                hret_strlist_push(out, hret_xstrdup(defaults[i]));
            }
        }
        return HRET_OK;
    }
    if (strcmp(spec, "none") == 0) {
        return HRET_OK;
    }
    struct hret_strlist given = {0};
    hret_strlist_split(&given, spec);
    enum hret_result r = HRET_OK;
    for (size_t i = 0; i < given.count && r == HRET_OK; i++) {
        if (hret_sink_find(given.items[i]) == NULL) {
            r = hret_err_set(err, HRET_E_INVAL, "--track: no sink '%s' (known: %s, or none)",
                             given.items[i], hret_sink_names());
        } else if (!listed(out, given.items[i])) {
            hret_strlist_push(out, hret_xstrdup(given.items[i]));
        }
    }
    hret_strlist_fini(&given);
    if (r == HRET_OK && out->count == 0) {
        r = hret_err_set(err, HRET_E_INVAL, "--track: name a sink (%s) or none", hret_sink_names());
    }
    if (r != HRET_OK) {
        hret_strlist_fini(out);
    }
    return r;
}

/* ---- the event ---- */

static const cJSON *member(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void copy_member(cJSON *to, const char *as, const cJSON *from, const char *key)
{
    const cJSON *v = member(from, key);
    if (v != NULL && !cJSON_IsNull(v)) {
        cJSON_AddItemToObject(to, as, cJSON_Duplicate(v, true));
    }
}

static double number_or_zero(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* metrics split into the run's own and "SUBSET/NAME" ones, as the worker's event has them. */
static void add_metrics(cJSON *o, const cJSON *metrics)
{
    cJSON *flat = cJSON_AddObjectToObject(o, "metrics");
    cJSON *subsets = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, metrics)
    {
        if (!cJSON_IsNumber(it)) {
            continue;
        }
        const char *slash = strrchr(it->string, '/');
        if (slash == NULL) {
            cJSON_AddNumberToObject(flat, it->string, it->valuedouble);
            continue;
        }
        if (subsets == NULL) {
            subsets = cJSON_AddObjectToObject(o, "subset_metrics");
        }
        char *subset = hret_xstrndup(it->string, (size_t)(slash - it->string));
        cJSON *m = cJSON_GetObjectItemCaseSensitive(subsets, subset);
        if (m == NULL) {
            m = cJSON_AddObjectToObject(subsets, subset);
        }
        cJSON_AddNumberToObject(m, slash + 1, it->valuedouble);
        free(subset);
    }
}

cJSON *hret_sink_local_event(const cJSON *md, const cJSON *metrics,
                             const struct hret_strlist *sinks)
{
    const cJSON *cfg = member(md, "config");
    cJSON *o = cJSON_CreateObject();
    copy_member(o, "request_id", md, "run_id"); /* a local run is its own request */
    copy_member(o, "run_id", md, "run_id");
    copy_member(o, "run_name", md, "run_name");
    cJSON_AddStringToObject(o, "status", "completed");
    cJSON *model = cJSON_AddObjectToObject(o, "model");
    copy_member(model, "name", md, "model");
    cJSON *ds = cJSON_AddObjectToObject(o, "dataset");
    copy_member(ds, "name", md, "dataset");
    copy_member(ds, "split", cfg, "split");
    copy_member(ds, "subsets", cfg, "subset");
    cJSON *ev = cJSON_AddObjectToObject(o, "evaluation");
    copy_member(ev, "method", cfg, "evaluation_method_name");
    copy_member(ev, "params", cfg, "evaluator_params");
    copy_member(o, "num_few_shot", cfg, "num_few_shot");
    add_metrics(o, metrics);
    cJSON *c = cJSON_AddObjectToObject(o, "counts");
    cJSON_AddNumberToObject(c, "samples", number_or_zero(metrics, "total"));
    cJSON_AddNumberToObject(c, "errors", number_or_zero(metrics, "errors"));
    cJSON_AddNumberToObject(c, "parse_failures", number_or_zero(metrics, "parse_failures"));
    cJSON *t = cJSON_AddObjectToObject(o, "tokens");
    cJSON_AddNumberToObject(t, "input", number_or_zero(metrics, "tokens_in"));
    cJSON_AddNumberToObject(t, "output", number_or_zero(metrics, "tokens_out"));
    cJSON_AddNumberToObject(o, "cost_usd", number_or_zero(metrics, "cost"));
    cJSON_AddBoolToObject(o, "partial", cJSON_IsTrue(member(md, "partial")));
    copy_member(o, "started_at", md, "start_time");
    copy_member(o, "finished_at", md, "end_time");
    copy_member(o, "duration_s", md, "duration");
    copy_member(o, "metadata", md, "metadata");
    cJSON *tracking = cJSON_AddObjectToObject(o, "tracking");
    for (size_t i = 0; i < sinks->count; i++) {
        cJSON_AddBoolToObject(tracking, sinks->items[i], true);
    }
    return o;
}

/* ---- delivery ---- */

static enum hret_result deliver_one(struct hret_role *role, const struct hret_sink *sink,
                                    const struct hret_role_event *ev, struct hret_err *err)
{
    void *state = NULL;
    enum hret_result r = sink->open(role, &state, err);
    if (r != HRET_OK) {
        return r;
    }
    long backoff = BACKOFF_FIRST_MS;
    enum hret_role_verdict v = HRET_ROLE_RETRY;
    for (int attempt = 1; attempt <= ATTEMPTS && v == HRET_ROLE_RETRY; attempt++) {
        if (attempt > 1) {
            hret_log_warn(WHO, ev->ce.id, "%s: will retry in %ld ms: %s", sink->name, backoff,
                          err->msg);
            hret_role_sleep_ms(backoff);
            backoff *= 2;
            hret_err_clear(err);
        }
        v = sink->deliver(state, ev, err);
    }
    sink->close(state);
    if (v == HRET_ROLE_DONE) {
        return HRET_OK;
    }
    return err->code != HRET_OK ? err->code : hret_err_set(err, HRET_E_UNAVAILABLE, "refused");
}

enum hret_result hret_sink_local_deliver(const struct hret_config *cfg, struct hret_store *store,
                                         const struct hret_strlist *sinks,
                                         const cJSON *run_metadata, const cJSON *metrics,
                                         struct hret_err *err)
{
    cJSON *data = hret_sink_local_event(run_metadata, metrics, sinks);
    char *body = hret_json_print(data);
    const cJSON *run_id = member(data, "run_id");
    struct hret_role_event ev = {.body = body, .body_len = strlen(body), .topic = "", .data = data};
    snprintf(ev.ce.id, sizeof ev.ce.id, "%s:completed",
             cJSON_IsString(run_id) ? run_id->valuestring : "run");
    snprintf(ev.ce.source, sizeof ev.ce.source, "/hret/run");
    snprintf(ev.ce.type, sizeof ev.ce.type, "hret.run.completed.v1");
    hret_cloudevent_now(ev.ce.time);
    snprintf(ev.key, sizeof ev.key, "%s", cJSON_IsString(run_id) ? run_id->valuestring : "");
    /* The sinks read the configuration through a role: a shallow copy, never closed. */
    struct hret_role role = {.name = "run", .cfg = *cfg, .store = store};
    enum hret_result first = HRET_OK;
    for (size_t i = 0; i < sinks->count; i++) {
        struct hret_err one = HRET_ERR_INIT;
        if (deliver_one(&role, hret_sink_find(sinks->items[i]), &ev, &one) == HRET_OK) {
            hret_log_info(WHO, ev.key, "run delivered to %s", sinks->items[i]);
        } else if (first == HRET_OK) {
            first = hret_err_set(err, one.code, "%s: %s", sinks->items[i], one.msg);
        }
    }
    free(body);
    cJSON_Delete(data);
    return first;
}
