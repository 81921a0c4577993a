/* hret monitor: follows the results topic (group "hret-monitor"), judges every finished or failed
 * run with the config's rules and its request's alerts block (hret_monitor.h), records alerts and
 * resolves in one transaction with their outbox events and channel notices
 * (hret_monitor_record.h), relays the outbox to the alerts topic and delivers the notices
 * (hret_monitor_channel.h). An event's offset is stored only once its notices are delivered (or
 * refused for good), so a restart loses no notification, and the (dedupe key, run) ledger makes
 * a redelivered event repeat none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_call.h"
#include "hret_cli.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_monitor.h"
#include "hret_monitor_channel.h"
#include "hret_monitor_record.h"
#include "hret_monitor_store.h"
#include "hret_ops.h"
#include "hret_outbox.h"
#include "hret_role.h"

#define WHO "monitor"
#define NOTICE_BATCH 32
#define MAX_RULES 256
#define DRAIN_RELAY_MS 5000 /* at shutdown: what is still in flight then is left to others */

struct monitor {
    struct hret_role *r;
    struct hret_monitor_channels *channels;
    struct hret_outbox_relay *relay;
};

/* One turn of the relay: never waits for Kafka for long (hret_outbox.h). */
static void relay(struct monitor *m)
{
    struct hret_err err = HRET_ERR_INIT;
    if (hret_outbox_relay_step(m->relay, hret_store_pg(m->r->store), NULL, &err) != HRET_OK) {
        hret_log_warn("outbox", NULL, "relay: %s", err.msg);
    }
}

/* Sends every pending notice once. false (err set) when one failed in a way worth retrying:
 * the caller retries later; permanent refusals are recorded and logged, not retried. */
static bool deliver(struct monitor *m, struct hret_err *err)
{
    struct hret_pg *pg = hret_store_pg(m->r->store);
    bool ok = true;
    for (;;) {
        struct hret_monitor_notice *n = NULL;
        size_t count = 0;
        if (hret_monitor_record_pending(pg, NOTICE_BATCH, &n, &count, err) != HRET_OK) {
            return false;
        }
        size_t settled = 0;
        for (size_t i = 0; i < count && !hret_role_stop; i++) {
            struct hret_err e = HRET_ERR_INIT;
            enum hret_result r = hret_monitor_channels_send(m->channels, &n[i], &e);
            bool retry = r != HRET_OK && hret_call_retriable(r);
            hret_ops_bridge_delivered(n[i].channel, r == HRET_OK);
            if (r == HRET_OK) {
                hret_log_info(WHO, n[i].notice_id, "%s sent to channel %s", n[i].action,
                              n[i].channel);
            } else if (retry) {
                hret_log_warn(WHO, n[i].notice_id, "channel %s: %s (will retry)", n[i].channel,
                              e.msg);
                hret_err_set(err, r, "channel %s: %s", n[i].channel, e.msg);
                ok = false;
            } else {
                hret_log_error(WHO, n[i].notice_id, "channel %s refused the %s for good: %s",
                               n[i].channel, n[i].action, e.msg);
            }
            struct hret_err me = HRET_ERR_INIT;
            if (hret_monitor_record_mark(pg, &n[i], r == HRET_OK, !retry && r != HRET_OK, e.msg,
                                         &me) != HRET_OK) {
                hret_log_warn(WHO, n[i].notice_id, "record delivery: %s", me.msg);
                hret_err_set(err, me.code, "%s", me.msg);
                ok = false;
            }
            settled += r == HRET_OK || !retry;
        }
        hret_monitor_notices_free(n, count);
        /* Another batch only when this one was full and fully settled: a failing channel is
         * retried by the caller's backoff, not in a tight loop. */
        if (!ok || count < NOTICE_BATCH || settled < count || hret_role_stop) {
            return ok;
        }
    }
}

static void tick(void *user)
{
    struct monitor *m = user;
    relay(m);
    struct hret_err err = HRET_ERR_INIT;
    deliver(m, &err);
}

/* Completes the event's facts from the runs row (model and dataset of failed runs, the served
 * model id and fingerprint, which only the runs row has). */
static void complete(struct hret_monitor_run *run, const struct hret_monitor_facts *f)
{
    if (!f->found) {
        return;
    }
    run->model = run->model ? run->model : f->model;
    run->dataset = run->dataset ? run->dataset : f->dataset;
    run->run_name = run->run_name ? run->run_name : f->run_name;
    run->request_id = run->request_id ? run->request_id : f->request_id;
    run->served_model = f->served_model;
    run->fingerprint = f->fingerprint;
}

struct judged {
    struct hret_monitor_finding findings[MAX_RULES];
    struct hret_monitor_eval evals[MAX_RULES];
    size_t count;
};

/* Evaluates every rule that applies to run into j. */
static enum hret_result judge(struct monitor *m, const struct hret_monitor_rule_config *rules,
                              size_t n_rules, const struct hret_monitor_run *run, struct judged *j,
                              struct hret_err *err)
{
    struct hret_pg *pg = hret_store_pg(m->r->store);
    for (size_t i = 0; i < n_rules && j->count < MAX_RULES; i++) {
        const struct hret_monitor_rule_config *rule = &rules[i];
        if (!hret_monitor_rule_matches(rule, run)) {
            continue;
        }
        struct hret_monitor_fetched base;
        if (hret_monitor_store_baseline(pg, rule, run, &base, err) != HRET_OK) {
            hret_monitor_fetched_fini(&base);
            return err->code;
        }
        struct hret_monitor_finding *f = &j->findings[j->count];
        hret_monitor_evaluate(rule, run, &base.b, m->r->cfg.monitor.alpha, f);
        hret_monitor_fetched_fini(&base);
        hret_log_debug(WHO, run->run_id, "rule %s: %s", rule->name, f->message);
        j->evals[j->count++] = (struct hret_monitor_eval){.rule = rule, .finding = f};
    }
    return HRET_OK;
}

static enum hret_role_verdict handle(void *user, const struct hret_role_event *ev,
                                     struct hret_err *err)
{
    struct monitor *m = user;
    struct hret_monitor_run run;
    if ((strcmp(ev->ce.type, "hret.run.completed.v1") != 0 &&
         strcmp(ev->ce.type, "hret.run.failed.v1") != 0) ||
        !hret_monitor_run_from_event(ev->ce.type, ev->data, &run)) {
        return HRET_ROLE_DONE; /* comparisons, rejected requests: nothing to watch */
    }
    struct hret_pg *pg = hret_store_pg(m->r->store);
    struct hret_monitor_facts facts;
    struct hret_monitor_rule_config req_rules[2];
    size_t n_req = hret_monitor_request_rules(run.alerts, req_rules);
    struct judged *j = hret_xcalloc(1, sizeof *j);
    enum hret_result r = hret_monitor_store_facts(pg, run.run_id, &facts, err);
    if (r == HRET_OK) {
        complete(&run, &facts);
        const struct hret_cfg_array *cfg_rules = &m->r->cfg.monitor.rules;
        r = judge(m, cfg_rules->items, cfg_rules->count, &run, j, err);
    }
    if (r == HRET_OK) {
        r = judge(m, req_rules, n_req, &run, j, err);
    }
    struct hret_monitor_record rec = {
        .cfg = &m->r->cfg,
        .run = &run,
        .evals = j->evals,
        .count = j->count,
        .now = (double)time(NULL),
    };
    if (r == HRET_OK && j->count > 0) {
        r = hret_monitor_record_apply(pg, &rec, err);
    }
    for (size_t i = 0; r == HRET_OK && i < j->count; i++) {
        if (j->evals[i].action == HRET_MONITOR_RAISE) {
            hret_ops_alert_raised(j->evals[i].rule->name);
        }
    }
    if (r == HRET_OK) {
        hret_log_info(WHO, run.run_id,
                      "%s on %s: %zu rules, %zu raised, %zu resolved, %zu "
                      "suppressed by the cooldown",
                      run.model ? run.model : "?", run.dataset ? run.dataset : "?", j->count,
                      rec.raised, rec.resolved, rec.suppressed);
    }
    for (size_t i = 0; i < j->count; i++) {
        hret_monitor_finding_fini(&j->findings[i]);
    }
    free(j);
    for (size_t i = 0; i < n_req; i++) {
        hret_monitor_rule_fini(&req_rules[i]);
    }
    hret_monitor_facts_fini(&facts);
    if (r != HRET_OK) {
        return hret_result_is_retriable(r) ? HRET_ROLE_RETRY : HRET_ROLE_REJECT;
    }
    relay(m);
    return deliver(m, err) ? HRET_ROLE_DONE : HRET_ROLE_RETRY;
}

int hret_cmd_monitor(int argc, char **argv)
{
    struct hret_role r;
    int rc = hret_role_open(&r, "monitor", "monitor", NULL, argc, argv);
    struct monitor m = {&r, NULL, NULL};
    struct hret_err err = HRET_ERR_INIT;
    if (rc == HRET_EXIT_OK && r.cfg.monitor.rules.count + 2 > MAX_RULES) {
        fprintf(stderr,
                "hret monitor: %zu rules, at most %d fit; merge some (model and dataset are "
                "globs)\n",
                r.cfg.monitor.rules.count, MAX_RULES - 2);
        rc = HRET_EXIT_USAGE;
    }
    if (rc == HRET_EXIT_OK && hret_monitor_channels_open(&r.cfg, &m.channels, &err) != HRET_OK) {
        fprintf(stderr, "hret monitor: %s\n", err.msg);
        rc = HRET_EXIT_USAGE;
    }
    if (rc == HRET_EXIT_OK) {
        const char *topics[] = {r.cfg.kafka.results_topic};
        struct hret_role_loop loop = {
            .group_id = "hret-monitor",
            .topics = topics,
            .topic_count = 1,
            .dlq_topic = "hret.monitor.dlq",
            .handle = handle,
            .user = &m,
            .tick = tick,
        };
        hret_log_info(WHO, r.id, "%zu rules, %zu channels, cooldown %llds",
                      r.cfg.monitor.rules.count, r.cfg.monitor.channels.count,
                      r.cfg.monitor.cooldown_s);
        m.relay = hret_outbox_relay_new(r.producer);
        rc = hret_role_follow(&r, &loop);
        hret_outbox_drain(m.relay, hret_store_pg(r.store), DRAIN_RELAY_MS);
        hret_outbox_relay_destroy(m.relay, hret_store_pg(r.store));
    }
    hret_monitor_channels_destroy(m.channels);
    hret_role_close(&r);
    return rc;
}
