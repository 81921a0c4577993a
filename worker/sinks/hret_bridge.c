/* What every bridge sink shares (see hret_sink.h): routing by the request's tracking block, the
 * forwarded metric list, the step, and the bridge_state rows. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"
#include "hret_sink.h"

static const char state_get_sql[] =
    "SELECT external_id, state, offsets::text, last_event_id FROM bridge_state"
    " WHERE sink = $1 AND subject = $2";

static const char state_put_sql[] =
    "INSERT INTO bridge_state (sink, subject, external_id, state, offsets, last_event_id)"
    " VALUES ($1, $2, $3, $4, $5::jsonb, $6)"
    " ON CONFLICT (sink, subject) DO UPDATE SET external_id = EXCLUDED.external_id,"
    " state = EXCLUDED.state, offsets = EXCLUDED.offsets, last_event_id = EXCLUDED.last_event_id,"
    " updated_at = now()";

/* The sinks built into this hret, by name. A sink module adds its line here when it links. */
static const struct hret_sink *const sinks[] = {
    &hret_sink_tensorboard,
    &hret_sink_webhook,
    &hret_sink_mlflow,
    &hret_sink_wandb,
};

const struct hret_sink *hret_sink_find(const char *name)
{
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++) {
        if (strcmp(sinks[i]->name, name) == 0) {
            return sinks[i];
        }
    }
    return NULL;
}

const char *hret_sink_names(void)
{
    static char names[128]; /* the CLI's messages only: built on first use */
    if (names[0] == '\0') {
        size_t n = 0;
        for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++) {
            n +=
                (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? " " : "", sinks[i]->name);
        }
    }
    return names;
}

bool hret_sink_wanted(const struct hret_config *cfg, const char *sink, const cJSON *event,
                      const cJSON **block)
{
    if (block != NULL) {
        *block = NULL;
    }
    const cJSON *tracking = cJSON_GetObjectItemCaseSensitive(event, "tracking");
    const cJSON *mine = cJSON_GetObjectItemCaseSensitive(tracking, sink);
    if (cJSON_IsBool(mine)) {
        return cJSON_IsTrue(mine);
    }
    if (cJSON_IsObject(mine)) {
        /* {"enabled": false} turns a sink off while keeping its settings in the request. */
        const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(mine, "enabled");
        if (block != NULL) {
            *block = mine;
        }
        return !cJSON_IsFalse(enabled);
    }
    if (strcmp(sink, "mlflow") == 0) {
        return cfg->mlflow_tracking;
    }
    if (strcmp(sink, "wandb") == 0) {
        return cfg->wandb_tracking;
    }
    if (strcmp(sink, "tensorboard") == 0) {
        return cfg->tensorboard_tracking;
    }
    return true; /* a sink without a config default (webhook) routes by its own filters */
}

bool hret_sink_metric_tracked(const cJSON *event, const char *name)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(event, "track_metrics");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
        return true;
    }
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_IsString(it) &&
            (strcmp(it->valuestring, name) == 0 || strcmp(it->valuestring, base) == 0)) {
            return true;
        }
    }
    return false;
}

/* Adds name = v to out when v is a finite number, the name is new and tracked. */
static void add_metric(cJSON *out, const cJSON *event, const char *name, const cJSON *v)
{
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && !cJSON_HasObjectItem(out, name) &&
        hret_sink_metric_tracked(event, name)) {
        cJSON_AddNumberToObject(out, name, v->valuedouble);
    }
}

cJSON *hret_sink_metrics(const cJSON *event)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(event, "metrics"))
    {
        add_metric(out, event, it->string, it);
    }
    const cJSON *subsets = cJSON_GetObjectItemCaseSensitive(event, "subset_metrics");
    const cJSON *subset = NULL;
    cJSON_ArrayForEach(subset, subsets)
    {
        cJSON_ArrayForEach(it, subset)
        {
            char *name = hret_xasprintf("%s/%s", subset->string, it->string);
            add_metric(out, event, name, it);
            free(name);
        }
    }
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(event, "tokens");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(event, "counts");
    add_metric(out, event, "cost_usd", cJSON_GetObjectItemCaseSensitive(event, "cost_usd"));
    add_metric(out, event, "tokens_input", cJSON_GetObjectItemCaseSensitive(tokens, "input"));
    add_metric(out, event, "tokens_output", cJSON_GetObjectItemCaseSensitive(tokens, "output"));
    add_metric(out, event, "errors", cJSON_GetObjectItemCaseSensitive(counts, "errors"));
    add_metric(out, event, "parse_failures",
               cJSON_GetObjectItemCaseSensitive(counts, "parse_failures"));
    return out;
}

long long hret_sink_step(const cJSON *event)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(event, "metadata");
    static const char *const keys[] = {"epoch", "step"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, keys[i]);
        if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
            fabs(v->valuedouble) < 9e15) {
            return (long long)v->valuedouble;
        }
        if (cJSON_IsString(v) && *v->valuestring != '\0') {
            char *end = NULL;
            errno = 0;
            long long n = strtoll(v->valuestring, &end, 10);
            if (errno == 0 && *end == '\0') {
                return n;
            }
        }
    }
    return 0;
}

/* ---- bridge_state ---------------------------------------------------------------------------- */

void hret_bridge_state_fini(struct hret_bridge_state *st)
{
    free(st->external_id);
    free(st->state);
    cJSON_Delete(st->offsets);
    free(st->last_event_id);
    *st = (struct hret_bridge_state){0};
}

static char *column(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : hret_xstrdup(PQgetvalue(res, 0, col));
}

enum hret_result hret_bridge_state_get(struct hret_pg *pg, const char *sink, const char *subject,
                                       struct hret_bridge_state *out, bool *found,
                                       struct hret_err *err)
{
    *out = (struct hret_bridge_state){0};
    *found = false;
    if (pg == NULL) { /* in process without a database (hret run --track): no state kept */
        out->offsets = cJSON_CreateObject();
        return HRET_OK;
    }
    const char *params[] = {sink, subject};
    PGresult *res = NULL;
    enum hret_result r =
        hret_pg_query(pg, "read bridge_state", state_get_sql, 2, params, false, &res, err);
    if (r == HRET_OK && PQntuples(res) == 1) {
        *found = true;
        out->external_id = column(res, 0);
        out->state = column(res, 1);
        out->offsets = cJSON_Parse(PQgetvalue(res, 0, 2));
        out->last_event_id = column(res, 3);
    }
    PQclear(res);
    if (!cJSON_IsObject(out->offsets)) {
        cJSON_Delete(out->offsets);
        out->offsets = cJSON_CreateObject();
    }
    return r;
}

enum hret_result hret_bridge_state_put(struct hret_pg *pg, const char *sink, const char *subject,
                                       const struct hret_bridge_state *st, struct hret_err *err)
{
    if (pg == NULL) {
        return HRET_OK;
    }
    char *offsets = st->offsets != NULL ? hret_json_print(st->offsets) : NULL;
    const char *params[] = {sink,
                            subject,
                            st->external_id,
                            st->state != NULL ? st->state : "open",
                            offsets != NULL ? offsets : "{}",
                            st->last_event_id};
    enum hret_result r =
        hret_pg_query(pg, "write bridge_state", state_put_sql, 6, params, false, NULL, err);
    free(offsets);
    return r;
}
