/* Operations: what every long-running role tells its operators. The `hret_*` Prometheus metrics
 * (one process-wide registry, counted from any thread with relaxed atomics), an HTTP server on
 * libmicrohttpd's own thread answering GET /metrics (text format 0.0.4), /healthz (the process
 * runs) and /readyz (PostgreSQL and Kafka reachable, not stopping), and a one-line stats log
 * every http.stats_interval_s.
 *
 * Readiness is state, never a probe from the HTTP thread: the main loop calls hret_ops_tick,
 * which records what its own PostgreSQL connection and Kafka client last did (probing them
 * itself only when they have been quiet for a while), and the signal handler marks stopping.
 * hret_role_open/hret_role_close start and stop the server for every role. */
#ifndef HRET_OPS_H
#define HRET_OPS_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hret_err.h"

/* Forward declarations only: this header is included where librdkafka's and libpq's are not. */
struct hret_pg;
struct hret_kafka_consumer;
struct hret_kafka_producer;

/* Starts the server on listen ("HOST:PORT", "[V6]:PORT" or ":PORT"; port 0 picks one; NULL or
 * "" starts nothing) and logs `listening on HOST:PORT`. stats_interval_s > 0 turns the stats
 * line on. role names the process in logs (borrowed, must outlive the server). Fails with
 * HRET_E_CONFIG for a bad address, HRET_E_UNAVAILABLE when it cannot listen. */
enum hret_result hret_ops_start(const char *listen, long long stats_interval_s, const char *role,
                                struct hret_err *err);
/* The config check of http.listen (hret_cfg's check signature): "" or an address as above. */
bool hret_ops_listen_valid(const char *v, char *msg, size_t cap);
/* Resolves a listen address as above for a server (host gets the host part, "" for every
 * interface; key names the config key in messages). Caller frees *ai (freeaddrinfo). */
struct addrinfo;
enum hret_result hret_ops_resolve_listen(const char *listen, const char *key, struct addrinfo **ai,
                                         char *host, size_t hcap, struct hret_err *err);
/* For every libmicrohttpd server: MHD_OPTION_EXTERNAL_LOGGER's function (comp: the log component,
 * a string, NULL = "http"), and the signal mask to start one under: SIGINT, SIGTERM and SIGALRM
 * blocked in the calling thread (old gets the mask to restore), so the server's threads leave
 * the shutdown signals to the main loop. */
void hret_ops_mhd_log(void *comp, const char *fmt, va_list ap) HRET_PRINTF(2, 0);
void hret_ops_block_signals(sigset_t *old);
/* Stops the server (it stops answering, then closes the port). A no-op when none runs. */
void hret_ops_stop(void);
/* The bound port, 0 when no server runs. */
unsigned hret_ops_port(void);

/* ---- readiness: called from the main loop (stopping: also from a signal handler) ---------- */

void hret_ops_stopping(void); /* async-signal-safe */
void hret_ops_pg(bool ok);    /* a query or transaction just worked, or the connection failed */
void hret_ops_kafka(bool ok); /* a message arrived or was delivered, or the brokers are away */
/* Between messages, as often as the loop turns (cheap: it acts at most once a second). Every few
 * seconds: probes pg with `SELECT 1` (reconnecting) and Kafka with a metadata request (through
 * c, else p), each only when nothing proved it alive lately; updates the consumer lag gauges
 * from c (librdkafka's cached offsets, no network); writes the stats line when due. All
 * borrowed, nullable. Main thread only. */
void hret_ops_tick(struct hret_pg *pg, struct hret_kafka_consumer *c,
                   struct hret_kafka_producer *p);

/* ---- events (any thread; labels borrowed) ---------------------------------------------------- */

/* Requests consumed by the worker, by outcome ("accepted", "rejected", "duplicate", ...); a
 * rejection also by reason ("schema", "dataset", "model", ...). */
void hret_ops_request(const char *outcome);
void hret_ops_request_rejected(const char *reason);
/* Runs and shards finished, by outcome ("completed", "failed", "partial", "retry", ...). */
void hret_ops_run(const char *outcome);
void hret_ops_shard(const char *outcome);

/* Endpoint calls of a model, through its handle: resolved once (a run keeps one per model), so
 * each event is only atomic operations. The handle is owned by the registry, never freed; model
 * is the config entry's name (borrowed). */
struct hret_ops_model;
struct hret_ops_model *hret_ops_model(const char *model);
void hret_ops_samples_scored(struct hret_ops_model *m, size_t n);
/* One answered request (status 0 = no HTTP response) and the latency of its last attempt. */
void hret_ops_endpoint_request(struct hret_ops_model *m, long status, double seconds);
/* +1 when a request is sent, -1 when it is answered or abandoned. */
void hret_ops_endpoint_inflight(struct hret_ops_model *m, int delta);
/* A run's retries and 429 answers; a response's tokens and their cost. */
void hret_ops_endpoint_retries(struct hret_ops_model *m, uint64_t retries, uint64_t throttled);
void hret_ops_endpoint_tokens(struct hret_ops_model *m, long input, long output, double cost_usd);

/* The outbox relay: rows published and failed; the unpublished rows (backlog). */
void hret_ops_outbox_published(size_t published, size_t failed);
void hret_ops_outbox_backlog(long long rows);
/* A database write (the sample COPY) took seconds; ok false when it failed. */
void hret_ops_db_write(double seconds, bool ok);
/* A worker slot started a message (kind "request" or "task") seconds after its publication. */
void hret_ops_dispatch(const char *kind, double seconds);

/* The follow loop of bridges and monitor: an event handled ("done"), dead-lettered ("rejected")
 * or retried. */
void hret_ops_event(const char *outcome);
/* Bridges: one event delivered to sink (ok) or failed there. Monitor: an alert raised by rule. */
void hret_ops_bridge_delivered(const char *sink, bool ok);
void hret_ops_alert_raised(const char *rule);

/* For tests: the exposition text as /metrics serves it. Caller owns result. */
char *hret_ops_metrics_text(void);

#endif
