/* hret monitor, writing alerts (see hret_monitor_record.h). */
#include "hret_monitor_record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cloudevents.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_outbox.h"

#define MAX_PAYLOAD_BYTES (1 << 20)

static const char state_insert_sql[] =
    "INSERT INTO monitor_state (dedupe_key, rule, model_name, dataset_name)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

static const char state_lock_sql[] =
    "SELECT open_alert_id, COALESCE(extract(epoch FROM last_raised_at), 0)"
    " FROM monitor_state WHERE dedupe_key = $1 FOR UPDATE";

static const char evaluated_sql[] =
    "INSERT INTO monitor_evaluations (dedupe_key, run_id, outcome) VALUES ($1, $2, $3)"
    " ON CONFLICT DO NOTHING";

static const char alert_sql[] =
    "INSERT INTO alerts (alert_id, rule, run_id, baseline_run_id, model_name, dataset_name,"
    " metric, value, threshold, baseline_value, severity, message, details, dedupe_key)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::float8, $9::float8, $10::float8, $11, $12,"
    " $13::jsonb, $14) ON CONFLICT DO NOTHING";

static const char raised_sql[] =
    "UPDATE monitor_state SET open_alert_id = $2, last_raised_at = to_timestamp($3::float8),"
    " updated_at = now() WHERE dedupe_key = $1";

static const char suppressed_sql[] =
    "UPDATE monitor_state SET suppressed = suppressed + 1, updated_at = now()"
    " WHERE dedupe_key = $1";

static const char open_alert_sql[] = "SELECT details::text FROM alerts WHERE alert_id = $1";

static const char resolve_alerts_sql[] =
    "UPDATE alerts SET resolved_at = now(), resolved_by_run = $2"
    " WHERE dedupe_key = $1 AND resolved_at IS NULL";

static const char resolved_sql[] =
    "UPDATE monitor_state SET open_alert_id = NULL, updated_at = now() WHERE dedupe_key = $1";

static const char notice_sql[] =
    "INSERT INTO alert_deliveries (notice_id, channel, alert_id, action, payload)"
    " VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT DO NOTHING";

static const char pending_sql[] =
    "SELECT notice_id, channel, action, payload::text, attempts FROM alert_deliveries"
    " WHERE delivered_at IS NULL AND gave_up_at IS NULL ORDER BY created_at, notice_id, channel"
    " LIMIT $1::integer";

static const char delivered_sql[] =
    "UPDATE alert_deliveries SET delivered_at = now(), attempts = attempts + 1, last_error = NULL"
    " WHERE notice_id = $1 AND channel = $2";

static const char failed_sql[] =
    "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = $3,"
    " gave_up_at = CASE WHEN $4::boolean THEN now() END WHERE notice_id = $1 AND channel = $2";

static const char notified_sql[] =
    "UPDATE alerts SET notified_at = now() WHERE alert_id = (SELECT alert_id FROM"
    " alert_deliveries WHERE notice_id = $1 AND channel = $2) AND notified_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM alert_deliveries WHERE notice_id = $1"
    " AND delivered_at IS NULL AND gave_up_at IS NULL)";

static const char *num(double v, char *buf, size_t cap)
{
    if (!isfinite(v)) {
        return NULL;
    }
    snprintf(buf, cap, "%.17g", v);
    return buf;
}

static int severity_rank(const char *name)
{
    for (int i = 0; hret_monitor_severity_names[i] != NULL; i++) {
        if (name != NULL && strcmp(name, hret_monitor_severity_names[i]) == 0) {
            return i;
        }
    }
    return HRET_MONITOR_WARNING;
}

/* One pending notice per channel that takes the alert's severity. */
static enum hret_result add_notices(struct hret_pg *pg, const struct hret_config *cfg,
                                    const char *notice_id, const char *alert_id, const char *action,
                                    const cJSON *payload, struct hret_err *err)
{
    const cJSON *sev = cJSON_GetObjectItemCaseSensitive(payload, "severity");
    int rank = severity_rank(cJSON_GetStringValue(sev));
    char *text = hret_json_print(payload);
    enum hret_result r = HRET_OK;
    for (size_t i = 0; i < cfg->monitor.channels.count && r == HRET_OK; i++) {
        const struct hret_monitor_channel_config *ch =
            (const struct hret_monitor_channel_config *)cfg->monitor.channels.items + i;
        if (rank < ch->min_severity) {
            continue;
        }
        const char *params[] = {notice_id, ch->name, alert_id, action, text};
        r = hret_pg_query(pg, "alert notice", notice_sql, 5, params, false, NULL, err);
    }
    free(text);
    return r;
}

static enum hret_result raise_alert(struct hret_pg *pg, struct hret_monitor_record *rec,
                                    const struct hret_monitor_eval *e,
                                    const struct hret_monitor_finding *f, const char *key,
                                    struct hret_err *err)
{
    char alert_id[33], at[40];
    hret_monitor_id(key, rec->run->run_id, alert_id);
    hret_cloudevent_now(at);
    cJSON *data = hret_monitor_alert_json(e->rule, rec->run, f, alert_id, key, at);
    char *details = hret_json_print(data);
    char v[32], t[32], b[32], now[32];
    const char *metric = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "metric"));
    const char *params[] = {alert_id,
                            e->rule->name,
                            rec->run->run_id,
                            f->baseline_run[0] ? f->baseline_run : NULL,
                            rec->run->model,
                            rec->run->dataset,
                            metric,
                            num(f->value, v, sizeof v),
                            num(f->threshold, t, sizeof t),
                            num(f->baseline_value, b, sizeof b),
                            hret_monitor_severity_names[e->rule->severity],
                            f->message,
                            details,
                            key};
    struct hret_outbox_event ev = {alert_id, rec->cfg->kafka.alerts_topic, key,
                                   HRET_MONITOR_RAISED_TYPE, data};
    const char *state[] = {key, alert_id, num(rec->now, now, sizeof now)};
    enum hret_result r = hret_pg_query(pg, "alert", alert_sql, 14, params, false, NULL, err);
    if (r == HRET_OK) {
        r = hret_outbox_add(pg, &ev, err);
    }
    if (r == HRET_OK) {
        r = add_notices(pg, rec->cfg, alert_id, alert_id, "trigger", data, err);
    }
    if (r == HRET_OK) {
        r = hret_pg_query(pg, "alert state", raised_sql, 3, state, false, NULL, err);
    }
    free(details);
    cJSON_Delete(data);
    rec->raised += r == HRET_OK;
    return r;
}

/* The raised event data of the open alert open_id; caller owns result (NULL when unreadable). */
static enum hret_result open_alert(struct hret_pg *pg, const char *open_id, cJSON **out,
                                   struct hret_err *err)
{
    const char *p[] = {open_id};
    PGresult *res = NULL;
    *out = NULL;
    if (hret_pg_query(pg, "open alert", open_alert_sql, 1, p, false, &res, err) != HRET_OK) {
        return err->code;
    }
    if (PQntuples(res) == 1) {
        *out = hret_json_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
                               MAX_PAYLOAD_BYTES, NULL);
    }
    PQclear(res);
    return HRET_OK;
}

static enum hret_result resolve_alert(struct hret_pg *pg, struct hret_monitor_record *rec,
                                      const struct hret_monitor_eval *e, const char *key,
                                      const char *open_id, const cJSON *raised,
                                      struct hret_err *err)
{
    cJSON *alert = raised ? cJSON_Duplicate(raised, 1) : NULL;
    if (alert == NULL) {
        alert = cJSON_CreateObject();
        cJSON_AddStringToObject(alert, "alert_id", open_id);
        cJSON_AddStringToObject(alert, "dedupe_key", key);
        cJSON_AddStringToObject(alert, "rule", e->rule->name);
    }
    char at[40], notice_id[64];
    hret_cloudevent_now(at);
    snprintf(notice_id, sizeof notice_id, "%s:resolved", open_id);
    cJSON *data = hret_monitor_resolved_json(alert, rec->run, e->finding, at);
    struct hret_outbox_event ev = {notice_id, rec->cfg->kafka.alerts_topic, key,
                                   HRET_MONITOR_RESOLVED_TYPE, data};
    const char *upd[] = {key, rec->run->run_id};
    enum hret_result r = hret_outbox_add(pg, &ev, err);
    if (r == HRET_OK) {
        r = add_notices(pg, rec->cfg, notice_id, open_id, "resolve", data, err);
    }
    if (r == HRET_OK) {
        r = hret_pg_query(pg, "resolve alerts", resolve_alerts_sql, 2, upd, false, NULL, err);
    }
    if (r == HRET_OK) {
        r = hret_pg_query(pg, "alert state", resolved_sql, 1, upd, false, NULL, err);
    }
    cJSON_Delete(data);
    cJSON_Delete(alert);
    rec->resolved += r == HRET_OK;
    return r;
}

/* What monitor_evaluations records for a (key, run). */
static const char *outcome(enum hret_monitor_action a, enum hret_monitor_verdict v)
{
    switch (a) {
    case HRET_MONITOR_RAISE:
        return "raised";
    case HRET_MONITOR_SUPPRESS:
        return "suppressed";
    case HRET_MONITOR_RESOLVE:
        return "resolved";
    default:
        return v == HRET_MONITOR_OK ? "ok" : v == HRET_MONITOR_FIRING ? "firing" : "unknown";
    }
}

static enum hret_result one(struct hret_pg *pg, struct hret_monitor_record *rec,
                            struct hret_monitor_eval *e, struct hret_err *err)
{
    const struct hret_monitor_run *run = rec->run;
    char key[512];
    hret_monitor_dedupe_key(e->rule->name, run->model, run->dataset, key, sizeof key);
    const char *ins[] = {key, e->rule->name, run->model, run->dataset};
    PGresult *res = NULL;
    if (hret_pg_query(pg, "alert state", state_insert_sql, 4, ins, false, NULL, err) != HRET_OK ||
        hret_pg_query(pg, "alert state", state_lock_sql, 1, ins, false, &res, err) != HRET_OK) {
        return err->code;
    }
    struct hret_monitor_key_state st = {
        .open = !PQgetisnull(res, 0, 0),
        .last_raised_at = strtod(PQgetvalue(res, 0, 1), NULL),
    };
    char open_id[64] = "";
    snprintf(open_id, sizeof open_id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    /* An open alert is judged against what it was raised for: a regression resolves only back
     * within max_drop of the alert's baseline value. f is this transaction's copy. */
    struct hret_monitor_finding f = *e->finding;
    f.details = NULL;
    cJSON *raised = NULL;
    if (st.open && open_alert(pg, open_id, &raised, err) != HRET_OK) {
        return err->code;
    }
    hret_monitor_hold_open(e->rule, raised, &f);
    const struct hret_monitor_finding *use = f.verdict == e->finding->verdict ? e->finding : &f;
    enum hret_monitor_action a =
        hret_monitor_decide(&st, use->verdict, rec->now, (double)rec->cfg->monitor.cooldown_s);
    const char *ev[] = {key, run->run_id, outcome(a, use->verdict)};
    enum hret_result r = hret_pg_query(pg, "evaluation", evaluated_sql, 3, ev, false, &res, err);
    bool first = r == HRET_OK && strcmp(PQcmdTuples(res), "0") != 0;
    PQclear(res);
    if (first) { /* else decided when the event came the first time */
        e->action = a;
        switch (a) {
        case HRET_MONITOR_RAISE:
            r = raise_alert(pg, rec, e, use, key, err);
            break;
        case HRET_MONITOR_RESOLVE:
            r = resolve_alert(pg, rec, e, key, open_id, raised, err);
            break;
        case HRET_MONITOR_SUPPRESS:
            rec->suppressed++;
            r = hret_pg_query(pg, "alert state", suppressed_sql, 1, ins, false, NULL, err);
            break;
        default:
            break;
        }
    }
    cJSON_Delete(raised);
    return r;
}

static enum hret_result apply_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct hret_monitor_record *rec = user;
    rec->raised = rec->resolved = rec->suppressed = 0; /* a retried transaction starts over */
    for (size_t i = 0; i < rec->count; i++) {
        rec->evals[i].action = HRET_MONITOR_NOTHING;
    }
    for (size_t i = 0; i < rec->count; i++) {
        if (one(pg, rec, &rec->evals[i], err) != HRET_OK) {
            return err->code;
        }
    }
    return HRET_OK;
}

enum hret_result hret_monitor_record_apply(struct hret_pg *pg, struct hret_monitor_record *rec,
                                           struct hret_err *err)
{
    return hret_pg_transaction(pg, "record alerts", apply_txn, rec, err);
}

enum hret_result hret_monitor_record_pending(struct hret_pg *pg, size_t max,
                                             struct hret_monitor_notice **out, size_t *count,
                                             struct hret_err *err)
{
    *out = NULL;
    *count = 0;
    char lim[32];
    snprintf(lim, sizeof lim, "%zu", max);
    const char *params[] = {lim};
    PGresult *res = NULL;
    if (hret_pg_query(pg, "pending notices", pending_sql, 1, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    int n = PQntuples(res);
    *out = n > 0 ? hret_xcalloc((size_t)n, sizeof **out) : NULL;
    for (int i = 0; i < n; i++) {
        struct hret_monitor_notice *x = &(*out)[i];
        x->notice_id = hret_xstrdup(PQgetvalue(res, i, 0));
        x->channel = hret_xstrdup(PQgetvalue(res, i, 1));
        x->action = hret_xstrdup(PQgetvalue(res, i, 2));
        x->payload = hret_json_parse(PQgetvalue(res, i, 3), (size_t)PQgetlength(res, i, 3),
                                     MAX_PAYLOAD_BYTES, NULL);
        if (x->payload == NULL) {
            x->payload = cJSON_CreateObject();
        }
        x->attempts = atoi(PQgetvalue(res, i, 4));
    }
    *count = (size_t)n;
    PQclear(res);
    return HRET_OK;
}

void hret_monitor_notices_free(struct hret_monitor_notice *n, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(n[i].notice_id);
        free(n[i].channel);
        free(n[i].action);
        cJSON_Delete(n[i].payload);
    }
    free(n);
}

enum hret_result hret_monitor_record_mark(struct hret_pg *pg, const struct hret_monitor_notice *n,
                                          bool delivered, bool give_up, const char *error,
                                          struct hret_err *err)
{
    if (delivered) {
        const char *params[] = {n->notice_id, n->channel};
        if (hret_pg_query(pg, "notice delivered", delivered_sql, 2, params, false, NULL, err) !=
            HRET_OK) {
            return err->code;
        }
        return hret_pg_query(pg, "alert notified", notified_sql, 2, params, false, NULL, err);
    }
    const char *params[] = {n->notice_id, n->channel, error ? error : "", give_up ? "t" : "f"};
    return hret_pg_query(pg, "notice failed", failed_sql, 4, params, false, NULL, err);
}
