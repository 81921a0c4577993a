/* hret bridge SINK: follows the results topic as group hret-bridge-<sink> and hands each event
 * the sink takes, and the run asked for, to the sink (see hret_sink.h). The role loop
 * (hret_role_follow) owns retries with backoff, the dead-letter topic and the offsets; this file
 * owns the routing and the counters. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hret_cli.h"
#include "hret_log.h"
#include "hret_ops.h"
#include "hret_role.h"
#include "hret_sink.h"

struct bridge {
    struct hret_role *role;
    const struct hret_sink *sink;
    void *state;
    char who[32]; /* "bridge tensorboard": the log component */
    unsigned long long delivered, skipped, retried, rejected;
    unsigned long long logged; /* the sum at the last stats line: quiet while nothing happens */
    time_t last_stats;
};

static bool takes(const struct hret_sink *s, const char *type)
{
    if (s->events == NULL) {
        return true;
    }
    for (const char *const *t = s->events; *t != NULL; t++) {
        if (strcmp(*t, type) == 0) {
            return true;
        }
    }
    return false;
}

static enum hret_role_verdict handle(void *user, const struct hret_role_event *ev,
                                     struct hret_err *err)
{
    struct bridge *b = user;
    if (!takes(b->sink, ev->ce.type) ||
        (!b->sink->own_routing &&
         !hret_sink_wanted(&b->role->cfg, b->sink->name, ev->data, NULL))) {
        hret_log_debug(b->who, ev->ce.id, "skipped %s (not for this sink)", ev->ce.type);
        b->skipped++;
        return HRET_ROLE_DONE;
    }
    enum hret_role_verdict v = b->sink->deliver(b->state, ev, err);
    hret_ops_bridge_delivered(b->sink->name, v == HRET_ROLE_DONE);
    if (v == HRET_ROLE_DONE) {
        b->delivered++;
    } else if (v == HRET_ROLE_RETRY) {
        b->retried++;
    } else {
        b->rejected++;
    }
    return v;
}

static void stats(struct bridge *b, bool force)
{
    unsigned long long sum = b->delivered + b->skipped + b->retried + b->rejected;
    if (!force && sum == b->logged) {
        return;
    }
    b->logged = sum;
    hret_log_info(b->who, b->role->id,
                  "stats: delivered=%llu skipped=%llu retried=%llu dead_lettered=%llu",
                  b->delivered, b->skipped, b->retried, b->rejected);
}

/* The bridge's own line beside the role's (hret_ops): what the routing did with the events, at
 * the same interval (http.stats_interval_s; 0 = none), and once more on the way out. */
static void tick(void *user)
{
    struct bridge *b = user;
    time_t now = time(NULL);
    long long every = b->role->cfg.http.stats_interval_s;
    if (every > 0 && now - b->last_stats >= every) {
        b->last_stats = now;
        stats(b, false);
    }
}

static void list_sinks(FILE *out)
{
    fprintf(out, "sinks built into this hret: %s\n", hret_sink_names());
}

/* The positional argument before anything connects: a mistyped sink is a usage error at once,
 * not after the database and broker answered. NULL when there is none (hret_role_open says). */
static const char *sink_arg(int argc, char **argv)
{
    static const char *const valued[] = {"--config", "-c", "--kafka", "--db", "--group"};
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            return argv[i];
        }
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
            i += strcmp(argv[i], valued[k]) == 0;
        }
    }
    return NULL;
}

int hret_cmd_bridge(int argc, char **argv)
{
    const char *name = sink_arg(argc, argv);
    if (name != NULL && hret_sink_find(name) == NULL) {
        fprintf(stderr, "hret bridge: unknown sink '%s'; ", name);
        list_sinks(stderr);
        return HRET_EXIT_USAGE;
    }
    struct hret_role r;
    struct bridge b = {.role = &r, .last_stats = time(NULL)};
    int rc = hret_role_open(&r, "bridge", "bridge", "sink", argc, argv);
    if (rc != HRET_EXIT_OK) {
        hret_role_close(&r);
        return rc;
    }
    b.sink = hret_sink_find(r.extra);
    if (b.sink == NULL) { /* the scan and getopt disagree (e.g. "--"): say it all the same */
        fprintf(stderr, "hret bridge: unknown sink '%s'; ", r.extra);
        list_sinks(stderr);
        hret_role_close(&r);
        return HRET_EXIT_USAGE;
    }
    snprintf(b.who, sizeof b.who, "bridge %s", b.sink->name);
    r.name = b.who;
    struct hret_err err = HRET_ERR_INIT;
    if (b.sink->open(&r, &b.state, &err) != HRET_OK) {
        fprintf(stderr, "hret bridge %s: %s\n", b.sink->name, err.msg);
        hret_role_close(&r);
        return err.code == HRET_E_CONFIG || err.code == HRET_E_INVAL ? HRET_EXIT_USAGE
                                                                     : HRET_EXIT_FAILURE;
    }
    char group[96], dlq[96];
    snprintf(group, sizeof group, "hret-bridge-%s", b.sink->name);
    snprintf(dlq, sizeof dlq, "hret.bridge.%s.dlq", b.sink->name);
    const char *topics[] = {r.cfg.kafka.results_topic};
    struct hret_role_loop loop = {
        .group_id = group,
        .topics = topics,
        .topic_count = 1,
        .dlq_topic = dlq,
        .handle = handle,
        .user = &b,
        .tick = tick,
    };
    rc = hret_role_follow(&r, &loop);
    stats(&b, true);
    b.sink->close(b.state);
    hret_role_close(&r);
    return rc;
}
