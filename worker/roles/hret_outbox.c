/* The outbox: rows in, Kafka out (see hret_outbox.h). */
#include "hret_outbox.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_buf.h"
#include "hret_cloudevents.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_ops.h"
#include "hret_role.h"

#define RELAY_BATCH 100
#define RELAY_FLUSH_MS 30000
#define BACKLOG_COUNT_MS 5000 /* least time between two counts of a backlog over a batch */

static const char add_sql[] =
    "INSERT INTO outbox (event_id, topic, msg_key, ce_type, ce_source, payload)"
    " VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (event_id) DO NOTHING";

static const char pending_sql[] =
    "SELECT id, event_id, topic, msg_key, ce_type, ce_source,"
    " to_char(ce_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), payload::text"
    " FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED";

static const char published_sql[] =
    "UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL"
    " WHERE id = ANY($1::bigint[])";

static const char backlog_sql[] = "SELECT count(*) FROM (SELECT 1 FROM outbox"
                                  " WHERE published_at IS NULL LIMIT 1000000) AS pending";

static const char failed_sql[] =
    "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1::bigint";

enum hret_result hret_outbox_add(struct hret_pg *pg, const struct hret_outbox_event *ev,
                                 struct hret_err *err)
{
    char id[37];
    if (ev->event_id == NULL && hret_uuid4(id, err) != HRET_OK) {
        return err->code;
    }
    char *data = hret_json_print(ev->data);
    const char *params[] = {
        ev->event_id ? ev->event_id : id, ev->topic, ev->key, ev->type, HRET_OUTBOX_SOURCE, data};
    enum hret_result r =
        hret_pg_query(pg, "add outbox event", add_sql, 6, params, false, NULL, err);
    free(data);
    return r;
}

/* Produces row i of res; waits for queue room. */
static enum hret_result produce_row(struct hret_kafka_producer *p, const PGresult *res, int i,
                                    struct hret_kafka_delivery *d, struct hret_err *err)
{
    struct hret_cloudevent ev = {0};
    snprintf(ev.id, sizeof ev.id, "%s", PQgetvalue(res, i, 1));
    snprintf(ev.type, sizeof ev.type, "%s", PQgetvalue(res, i, 4));
    snprintf(ev.source, sizeof ev.source, "%s", PQgetvalue(res, i, 5));
    snprintf(ev.time, sizeof ev.time, "%s", PQgetvalue(res, i, 6));
    const char *key = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
    struct hret_kafka_message m = {
        .topic = PQgetvalue(res, i, 2),
        .key = key,
        .key_len = key ? strlen(key) : 0,
        .value = PQgetvalue(res, i, 7),
        .value_len = (size_t)PQgetlength(res, i, 7),
        .event = &ev,
        .delivery = d,
    };
    for (int tries = 0; tries < 100; tries++) {
        enum hret_result r = hret_kafka_produce(p, &m, err);
        if (r != HRET_AGAIN) {
            return r;
        }
        hret_err_clear(err);
        hret_kafka_producer_poll(p, 100);
    }
    return hret_err_set(err, HRET_E_TIMEOUT, "outbox: the producer queue stays full");
}

/* Marks the settled rows: the delivered ones published, the others with their error. */
static enum hret_result mark_rows(struct hret_pg *pg, const PGresult *res,
                                  const struct hret_kafka_delivery *d, int n, size_t *published,
                                  struct hret_err *err)
{
    struct hret_buf ids;
    hret_buf_init(&ids, SIZE_MAX);
    hret_buf_append(&ids, "{", 1, NULL);
    size_t ok = 0;
    enum hret_result r = HRET_OK;
    for (int i = 0; i < n && r == HRET_OK; i++) {
        if (d[i].done && d[i].result == HRET_OK) {
            hret_buf_appendf(&ids, NULL, "%s%s", ok++ ? "," : "", PQgetvalue(res, i, 0));
            continue;
        }
        const char *reason = d[i].done ? d[i].reason : "no delivery report";
        hret_log_warn("outbox", PQgetvalue(res, i, 1), "publish to %s failed: %s",
                      PQgetvalue(res, i, 2), reason);
        const char *params[] = {PQgetvalue(res, i, 0), reason};
        r = hret_pg_query(pg, "outbox failure", failed_sql, 2, params, false, NULL, err);
    }
    hret_buf_append(&ids, "}", 1, NULL);
    if (r == HRET_OK && ok > 0) {
        const char *params[] = {hret_buf_str(&ids)};
        r = hret_pg_query(pg, "outbox published", published_sql, 1, params, false, NULL, err);
    }
    hret_buf_fini(&ids);
    if (published != NULL) {
        *published = r == HRET_OK ? ok : 0;
    }
    return r;
}

struct relay_job {
    struct hret_kafka_producer *p;
    size_t published;
    int fetched, queued;
};

static enum hret_result relay_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct relay_job *j = user;
    PGresult *res = NULL;
    enum hret_result r =
        hret_pg_query(pg, "outbox pending", pending_sql, 0, NULL, false, &res, err);
    int n = r == HRET_OK ? PQntuples(res) : 0;
    j->fetched = n;
    if (n == 0) {
        PQclear(res);
        return r;
    }
    struct hret_kafka_delivery *d = hret_xcalloc((size_t)n, sizeof *d);
    int queued = 0;
    for (; queued < n && r == HRET_OK; queued++) {
        r = produce_row(j->p, res, queued, &d[queued], err);
    }
    /* every queued message must settle before d is freed, whatever happened */
    struct hret_err flush_err = HRET_ERR_INIT;
    while (hret_kafka_producer_flush(j->p, RELAY_FLUSH_MS, &flush_err) != HRET_OK) {
        hret_log_warn("outbox", NULL, "waiting for delivery reports: %s", flush_err.msg);
        hret_err_clear(&flush_err);
    }
    if (r == HRET_OK) {
        r = mark_rows(pg, res, d, queued, &j->published, err);
    }
    j->queued = queued;
    free(d);
    PQclear(res);
    return r;
}

/* What a relay learned, for the metrics and readiness: whether the database answered, what
 * was published, and the backlog (a batch short of full is all there was, bar rows another
 * relay holds; a full one is counted, at most every BACKLOG_COUNT_MS). */
static void report(struct hret_pg *pg, enum hret_result r, const struct relay_job *j)
{
    static atomic_llong counted_ms;
    PGconn *conn = hret_pg_conn(pg);
    hret_ops_pg(r == HRET_OK || (conn != NULL && PQstatus(conn) == CONNECTION_OK));
    if (r != HRET_OK) {
        return;
    }
    hret_ops_outbox_published(j->published, (size_t)j->queued - j->published);
    if (j->published > 0) {
        hret_ops_kafka(true);
    }
    if (j->fetched < RELAY_BATCH) {
        hret_ops_outbox_backlog(j->fetched - (long long)j->published);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (now - atomic_load(&counted_ms) < BACKLOG_COUNT_MS) {
        return;
    }
    atomic_store(&counted_ms, now);
    PGresult *res = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_pg_query(pg, "outbox backlog", backlog_sql, 0, NULL, false, &res, &err) == HRET_OK) {
        hret_ops_outbox_backlog(strtoll(PQgetvalue(res, 0, 0), NULL, 10));
    }
    PQclear(res);
}

enum hret_result hret_outbox_relay(struct hret_pg *pg, struct hret_kafka_producer *p,
                                   size_t *published, struct hret_err *err)
{
    struct relay_job j = {p, 0, 0, 0};
    enum hret_result r = hret_pg_transaction_once(pg, "outbox relay", relay_txn, &j, err);
    report(pg, r, &j);
    if (published != NULL) {
        *published = r == HRET_OK ? j.published : 0;
    }
    return r;
}

void hret_outbox_drain(struct hret_pg *pg, struct hret_kafka_producer *p)
{
    struct hret_err err = HRET_ERR_INIT;
    size_t n = 0;
    do {
        hret_err_clear(&err);
        if (hret_outbox_relay(pg, p, &n, &err) != HRET_OK) {
            hret_log_warn("outbox", NULL, "relay: %s", err.msg);
            return;
        }
    } while (n > 0 && !hret_role_stop);
}
