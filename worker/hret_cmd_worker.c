/* hret worker: the fleet role's loop (see hret_worker.h). One message at a time from the
 * requests and tasks topics; its offset is stored (watermark) only once its effects are
 * committed; the outbox relay runs between messages; SIGTERM/SIGINT stop taking work, give an
 * unfinished shard back, commit the stored offsets and leave the group. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hret_cli.h"
#include "hret_config.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_outbox.h"
#include "hret_store.h"
#include "hret_worker.h"

#define WHO "hret worker"
#define POLL_MS 200
#define RETRY_SLEEP_MS 1000

#define SHUTDOWN_DEADLINE_S 15

static volatile sig_atomic_t stop_requested;

/* The shutdown took too long (a broker or database that does not answer): leave without the
 * final commit. Nothing is lost: uncommitted offsets are redelivered, writes are idempotent. */
static void on_deadline(int sig)
{
    (void)sig;
    static const char msg[] = "hret worker: shutdown deadline passed; exiting without the "
                              "final commit\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(HRET_EXIT_FAILURE);
}

/* First SIGTERM/SIGINT: stop taking work, with a deadline; a second one: leave at once. */
static void on_signal(int sig)
{
    if (stop_requested) {
        on_deadline(sig);
    }
    stop_requested = 1;
    alarm(SHUTDOWN_DEADLINE_S);
}

struct worker_args {
    const char *config, *kafka, *db;
};

static int parse_args(int argc, char **argv, struct worker_args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"kafka", required_argument, NULL, 'k'},
        {"db", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1;) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'k':
            a->kafka = optarg;
            break;
        case 'D':
            a->db = optarg;
            break;
        case 'h':
            hret_cli_print_help("worker");
            return -1;
        default:
            return HRET_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, WHO ": unexpected argument '%s' (see hret help worker)\n", argv[optind]);
        return HRET_EXIT_USAGE;
    }
    return HRET_EXIT_OK;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void relay(struct hret_worker *w)
{
    struct hret_err err = HRET_ERR_INIT;
    size_t n = 0;
    do {
        hret_err_clear(&err);
        if (hret_outbox_relay(hret_store_pg(w->store), w->producer, &n, &err) != HRET_OK) {
            hret_log_warn("outbox", NULL, "relay: %s", err.msg);
            return;
        }
    } while (n > 0 && !stop_requested);
}

/* One message until it is done (offset stored) or the worker stops. */
static void handle(struct hret_worker *w, struct hret_kafka_consumer *c,
                   const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    bool request = strcmp(topic, w->cfg->kafka.requests_topic) == 0;
    for (;;) {
        enum hret_worker_outcome out =
            request ? hret_worker_request(w, m) : hret_worker_shard(w, m);
        if (out == HRET_WORKER_DONE) {
            break;
        }
        if (stop_requested) {
            return; /* not stored: another worker (or this one, restarted) takes it again */
        }
        sleep_ms(RETRY_SLEEP_MS);
    }
    relay(w);
    struct hret_err err = HRET_ERR_INIT;
    if (hret_kafka_consumer_done(c, topic, m->partition, m->offset, &err) != HRET_OK) {
        hret_log_warn("worker", NULL, "store offset %s[%d]@%lld: %s", topic, (int)m->partition,
                      (long long)m->offset, err.msg);
    }
}

static int loop(struct hret_worker *w, struct hret_kafka_consumer *c)
{
    long long idle = 0;
    while (!stop_requested) {
        rd_kafka_message_t *m = NULL;
        struct hret_err err = HRET_ERR_INIT;
        enum hret_result r = hret_kafka_consumer_poll(c, POLL_MS, &m, &err);
        if (r == HRET_OK) {
            handle(w, c, m);
            rd_kafka_message_destroy(m);
            idle = 0;
        } else if (r == HRET_AGAIN) {
            if (++idle % 5 == 0) {
                relay(w);
            }
        } else if (r == HRET_E_FATAL) {
            hret_log_error("worker", NULL, "consumer: %s", err.msg);
            return HRET_EXIT_FAILURE;
        } else {
            hret_log_warn("worker", NULL, "consumer: %s", err.msg);
        }
    }
    hret_log_info("worker", NULL, "stopping: relaying the outbox and committing offsets");
    relay(w);
    return HRET_EXIT_OK;
}

static int serve(const struct hret_config *cfg, const char *db)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_store *store = NULL;
    struct hret_kafka_producer *p = NULL;
    struct hret_kafka_consumer *c = NULL;
    char host[128] = "host", worker_id[192];
    gethostname(host, sizeof host - 1);
    snprintf(worker_id, sizeof worker_id, "%s:%ld", host, (long)getpid());
    struct hret_kafka_conf kc = {
        .brokers = cfg->kafka.brokers,
        .group_id = cfg->kafka.group_id,
        .client_id = "hret-worker",
        .properties = &cfg->kafka.properties,
        .sasl_password_env = cfg->kafka.sasl_password_env,
    };
    const char *topics[] = {cfg->kafka.requests_topic, cfg->kafka.tasks_topic};
    int rc = HRET_EXIT_FAILURE;
    if (hret_store_open(db, cfg->postgres.password_env, true, &store, &err) != HRET_OK ||
        hret_kafka_producer_new(&kc, &p, &err) != HRET_OK ||
        hret_kafka_consumer_new(&kc, HRET_KAFKA_START_EARLIEST, &c, &err) != HRET_OK ||
        hret_kafka_consumer_subscribe(c, topics, 2, &err) != HRET_OK) {
        fprintf(stderr, WHO ": %s\n", err.msg);
        rc = err.code == HRET_E_CONFIG ? HRET_EXIT_USAGE : HRET_EXIT_FAILURE;
        goto cleanup;
    }
    struct hret_worker w = {cfg, store, p, worker_id, &stop_requested};
    hret_log_info("worker", worker_id, "consuming %s and %s as group %s", topics[0], topics[1],
                  cfg->kafka.group_id);
    rc = loop(&w, c);
    if (hret_kafka_consumer_commit(c, &err) != HRET_OK) {
        hret_log_warn("worker", worker_id, "final commit: %s", err.msg);
    }
cleanup:
    hret_kafka_consumer_destroy(c);
    hret_kafka_producer_destroy(p);
    hret_store_destroy(store);
    return rc;
}

int hret_cmd_worker(int argc, char **argv)
{
    struct worker_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != HRET_EXIT_OK) {
        return rc < 0 ? HRET_EXIT_OK : rc;
    }
    struct hret_config cfg = {0};
    struct hret_strlist problems = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_config_load(&cfg, hret_config_locate(a.config), &problems, &err) != HRET_OK) {
        for (size_t i = 0; i < problems.count; i++) {
            fprintf(stderr, "%s\n", problems.items[i]);
        }
        fprintf(stderr, WHO ": fix the configuration (hret config check) and retry\n");
        hret_strlist_fini(&problems);
        hret_config_fini(&cfg);
        return HRET_EXIT_USAGE;
    }
    hret_log_setup((enum hret_log_level)cfg.log_level, (enum hret_log_format)cfg.log_format);
    if (a.kafka != NULL) {
        free(cfg.kafka.brokers);
        cfg.kafka.brokers = hret_xstrdup(a.kafka);
    }
    const char *db = a.db ? a.db : cfg.postgres.conninfo;
    if (db == NULL || *db == '\0') {
        fprintf(stderr,
                WHO ": no database: pass --db CONNINFO, set HRET_PG or postgres.conninfo\n");
        rc = HRET_EXIT_USAGE;
    } else {
        struct sigaction sa = {0};
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sa.sa_handler = on_deadline;
        sigaction(SIGALRM, &sa, NULL);
        rc = serve(&cfg, db);
    }
    hret_strlist_fini(&problems);
    hret_config_fini(&cfg);
    return rc;
}
