/* What every long-running role (`hret worker`, `hret bridge SINK`, `hret monitor`) shares: the
 * command line (--config, --kafka, --db), the configuration, signals with a shutdown deadline,
 * the database and the idempotent producer; and, for the roles that follow the results topic, one
 * event loop: a consumer group of its own, each message parsed as a CloudEvent with a JSON body
 * and handed to the role's handler, retried with backoff while the handler says so, sent to the
 * role's dead-letter topic when it refuses the event, and its offset stored only after the
 * handler's effects are durable. */
#ifndef HRET_ROLE_H
#define HRET_ROLE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>

#include "hret_cloudevents.h"
#include "hret_config.h"
#include "hret_err.h"
#include "hret_kafka.h"
#include "hret_store.h"

struct hret_role {
    const char *name; /* "worker", "bridge mlflow", "monitor": logs and messages */
    struct hret_config cfg;
    const char *db;    /* conninfo: --db, else postgres.conninfo / HRET_PG */
    const char *extra; /* the positional argument when the role takes one (the bridge's sink) */
    const char *group; /* --group: the consumer group instead of the role's own, or NULL */
    char id[192];      /* host:pid:nonce (random hex), this process in leases and logs */
    struct hret_store *store;
    struct hret_kafka_producer *producer;
};

/* Set by the first SIGTERM/SIGINT (hret_role_open installs the handlers): stop taking work and
 * shut down within the deadline. A second signal, or the deadline, exits at once. */
extern volatile sig_atomic_t hret_role_stop;

/* Parses `--config FILE --kafka BROKERS --db CONNINFO --group NAME` plus, when extra_name is
 * given, one required positional argument (--help never reaches a role: hret_cli answers it);
 * loads the configuration, sets up logging and the signals, opens the store (migrating) and the
 * producer. help_topic names `hret help <topic>` in messages. Returns HRET_EXIT_OK, or the exit
 * status to return (having printed why). Release with hret_role_close in every case. */
int hret_role_open(struct hret_role *r, const char *name, const char *help_topic,
                   const char *extra_name, int argc, char **argv);
void hret_role_close(struct hret_role *r);

/* Sleeps ms milliseconds, or less when the role is asked to stop. */
void hret_role_sleep_ms(long ms);

/* ---- the event loop of the roles that follow topics ---------------------------------------- */

struct hret_role_event {
    const char *body; /* the message payload as received (JSON), body_len bytes */
    size_t body_len;
    long long time_ms;         /* the message's timestamp (Unix ms), 0 when unknown */
    const char *topic;         /* "" when the event did not come from Kafka (hret run --track) */
    struct hret_cloudevent ce; /* ce_id, ce_type, ce_source, ce_time from the headers */
    const cJSON *data;         /* the parsed JSON body */
    char key[256];             /* the message key (the run or request id), "" when none */
};

enum hret_role_verdict {
    HRET_ROLE_DONE,   /* handled (or deliberately ignored): store the offset */
    HRET_ROLE_RETRY,  /* a retriable failure (sink or database away): try again after a backoff */
    HRET_ROLE_REJECT, /* never acceptable: dead-letter it with err's message, store the offset */
};

/* The handler: everything borrowed; on RETRY or REJECT, err says why. */
typedef enum hret_role_verdict (*hret_role_handler)(void *user, const struct hret_role_event *ev,
                                                    struct hret_err *err);

struct hret_role_loop {
    const char *group_id; /* e.g. "hret-bridge-mlflow": each follower has its own group */
    const char *const *topics;
    size_t topic_count;
    const char *dlq_topic; /* e.g. "hret.bridge.mlflow.dlq"; NULL: "<topic>.dlq" */
    hret_role_handler handle;
    void *user;
    /* Called about once a second between messages (nullable): timers, flushes. */
    void (*tick)(void *user);
};

/* Runs the loop until hret_role_stop; then commits the stored offsets and leaves the group.
 * A message that is not a CloudEvent with a JSON object body is dead-lettered without reaching
 * the handler. Returns an exit status. */
int hret_role_follow(struct hret_role *r, const struct hret_role_loop *loop);

#endif
