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

#define RELAY_BATCH 100
#define TURN_WAIT_MS 50       /* longest a turn waits for the reports of what it produced */
#define CLAIM_S "15"          /* a claim lasts this long unless its live relay renews it */
#define RENEW_EVERY_MS 5000   /* how often a relay renews the claims of the rows in flight */
#define BACKLOG_COUNT_MS 5000 /* least time between two counts of a backlog over a batch */
#define DRAIN_POLL_MS 100

static const char add_sql[] =
    "INSERT INTO outbox (event_id, topic, msg_key, ce_type, ce_source, payload)"
    " VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (event_id) DO NOTHING";

/* the next unpublished rows nobody holds, in id order, claimed for $1 seconds */
static const char claim_sql[] =
    "WITH c AS (UPDATE outbox o SET claimed_until = now() + make_interval(secs => $1::integer)"
    " FROM (SELECT id FROM outbox WHERE published_at IS NULL"
    "  AND (claimed_until IS NULL OR claimed_until < now())"
    "  ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED) AS n"
    " WHERE o.id = n.id"
    " RETURNING o.id, o.event_id, o.topic, o.msg_key, o.ce_type, o.ce_source, o.ce_time,"
    " o.payload)"
    " SELECT id, event_id, topic, msg_key, ce_type, ce_source,"
    " to_char(ce_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), payload::text"
    " FROM c ORDER BY id";

static const char published_sql[] =
    "UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL,"
    " claimed_until = NULL WHERE id = ANY($1::bigint[])";

static const char failed_sql[] = "UPDATE outbox SET attempts = attempts + 1, last_error = $2,"
                                 " claimed_until = NULL WHERE id = $1::bigint";

static const char renew_sql[] =
    "UPDATE outbox SET claimed_until = now() + make_interval(secs => $2::integer)"
    " WHERE id = ANY($1::bigint[]) AND published_at IS NULL";

static const char release_sql[] =
    "UPDATE outbox SET claimed_until = NULL WHERE id = ANY($1::bigint[]) AND published_at IS NULL";

static const char backlog_sql[] = "SELECT count(*) FROM (SELECT 1 FROM outbox"
                                  " WHERE published_at IS NULL LIMIT 1000000) AS pending";

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

/* ---- rows in flight ----------------------------------------------------------------------------
 */

enum row_state { ROW_IN_FLIGHT, ROW_SETTLED, ROW_DETACHED };

/* One produced row. Its delivery report may come on any thread that polls the producer: the
 * state says who frees it (the relay, or the report once the relay has let go of it). The other
 * fields after d are the relay's own. */
struct row {
    struct hret_kafka_delivery d;
    atomic_int state;
    bool settled;   /* the state was ROW_SETTLED when this turn looked */
    bool marked;    /* its outcome is committed: the row leaves the batch */
    char id[24];    /* outbox.id */
    char *event_id; /* for the logs */
    char *topic;
};

static void row_free(struct row *w)
{
    free(w->event_id);
    free(w->topic);
    free(w);
}

static void on_settled(struct hret_kafka_delivery *d, void *user)
{
    (void)d;
    struct row *w = user;
    if (atomic_exchange(&w->state, ROW_SETTLED) == ROW_DETACHED) {
        row_free(w);
    }
}

/* Lets go of w: freed now when its report is in, else by the report. */
static void row_detach(struct row *w)
{
    if (atomic_exchange(&w->state, ROW_DETACHED) == ROW_SETTLED) {
        row_free(w);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

struct hret_outbox_relay {
    struct hret_kafka_producer *p;
    struct row *rows[RELAY_BATCH]; /* the batch produced, not yet marked; in id order */
    size_t count;
    bool full;         /* the last claim filled a batch: more may be waiting */
    double renewed_ms; /* when the claims of the batch were last taken or renewed */
};

struct hret_outbox_relay *hret_outbox_relay_new(struct hret_kafka_producer *p)
{
    struct hret_outbox_relay *r = hret_xcalloc(1, sizeof *r);
    r->p = p;
    return r;
}

static bool delivered(const struct row *w)
{
    return w->settled && w->d.result == HRET_OK;
}

static bool unsettled(const struct row *w)
{
    return !w->settled;
}

/* {id,id,...} of the rows for which want(row); false when there is none. */
static bool ids_where(const struct hret_outbox_relay *r, bool (*want)(const struct row *),
                      struct hret_buf *ids)
{
    hret_buf_init(ids, SIZE_MAX);
    hret_buf_append(ids, "{", 1, NULL);
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (want(r->rows[i])) {
            hret_buf_appendf(ids, NULL, "%s%s", n++ ? "," : "", r->rows[i]->id);
        }
    }
    hret_buf_append(ids, "}", 1, NULL);
    return n > 0;
}

/* Frees the marked rows, keeping the order of the others. */
static void drop_marked(struct hret_outbox_relay *r)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (r->rows[i]->marked) {
            row_free(r->rows[i]);
        } else {
            r->rows[kept++] = r->rows[i];
        }
    }
    r->count = kept;
}

struct tally {
    size_t published, failed;
};

/* Marks the settled rows: the delivered ones published, the failed ones released with their
 * error. A row leaves the batch only once its mark is committed; a confirmed row waits in it
 * (never produced again) while the database is away. */
static enum hret_result settle(struct hret_outbox_relay *r, struct hret_pg *pg, struct tally *t,
                               struct hret_err *err)
{
    for (size_t i = 0; i < r->count; i++) {
        r->rows[i]->settled = atomic_load(&r->rows[i]->state) == ROW_SETTLED;
    }
    struct hret_buf ids;
    enum hret_result res = HRET_OK;
    if (ids_where(r, delivered, &ids)) {
        const char *params[] = {hret_buf_str(&ids)};
        res = hret_pg_query(pg, "outbox published", published_sql, 1, params, false, NULL, err);
        for (size_t i = 0; i < r->count && res == HRET_OK; i++) {
            struct row *w = r->rows[i];
            w->marked = delivered(w);
            t->published += w->marked;
        }
    }
    hret_buf_fini(&ids);
    for (size_t i = 0; i < r->count && res == HRET_OK; i++) {
        struct row *w = r->rows[i];
        if (!w->settled || w->d.result == HRET_OK) {
            continue;
        }
        hret_log_warn("outbox", w->event_id, "publish to %s failed: %s", w->topic, w->d.reason);
        const char *params[] = {w->id, w->d.reason};
        res = hret_pg_query(pg, "outbox failure", failed_sql, 2, params, false, NULL, err);
        w->marked = res == HRET_OK;
        t->failed += w->marked;
    }
    drop_marked(r);
    return res;
}

/* Releases the claims of the rows still in flight (best effort: an unreleased claim only delays
 * the row until it expires). */
/* Keeps the claims of the rows still in flight (every RENEW_EVERY_MS): a live relay holds its
 * rows however long Kafka takes, and a relay that died frees them within CLAIM_S. A failure
 * is logged; the claim then lapses and another relay may publish the row too (same ce_id). */
static void renew(struct hret_outbox_relay *r, struct hret_pg *pg)
{
    if (now_ms() - r->renewed_ms < RENEW_EVERY_MS) {
        return;
    }
    struct hret_buf ids;
    if (ids_where(r, unsettled, &ids)) {
        struct hret_err e = HRET_ERR_INIT;
        const char *params[] = {hret_buf_str(&ids), CLAIM_S};
        if (hret_pg_query(pg, "outbox renew", renew_sql, 2, params, false, NULL, &e) == HRET_OK) {
            r->renewed_ms = now_ms();
        } else {
            hret_log_warn("outbox", NULL, "renew the claims in flight: %s", e.msg);
        }
    }
    hret_buf_fini(&ids);
}

static void release(struct hret_outbox_relay *r, struct hret_pg *pg)
{
    struct hret_buf ids;
    if (ids_where(r, unsettled, &ids)) {
        struct hret_err err = HRET_ERR_INIT;
        const char *params[] = {hret_buf_str(&ids)};
        if (hret_pg_query(pg, "outbox release", release_sql, 1, params, false, NULL, &err) !=
            HRET_OK) {
            hret_log_warn("outbox", NULL, "releasing %zu claimed row(s): %s", r->count, err.msg);
        }
    }
    hret_buf_fini(&ids);
}

/* Produces row i of res into a new row of the batch; HRET_AGAIN when the queue is full. */
static enum hret_result produce_row(struct hret_outbox_relay *r, const PGresult *res, int i,
                                    struct hret_err *err)
{
    struct hret_cloudevent ev = {0};
    snprintf(ev.id, sizeof ev.id, "%s", PQgetvalue(res, i, 1));
    snprintf(ev.type, sizeof ev.type, "%s", PQgetvalue(res, i, 4));
    snprintf(ev.source, sizeof ev.source, "%s", PQgetvalue(res, i, 5));
    snprintf(ev.time, sizeof ev.time, "%s", PQgetvalue(res, i, 6));
    struct row *w = hret_xcalloc(1, sizeof *w);
    atomic_init(&w->state, ROW_IN_FLIGHT);
    w->d.cb = on_settled;
    w->d.user = w;
    snprintf(w->id, sizeof w->id, "%s", PQgetvalue(res, i, 0));
    w->event_id = hret_xstrdup(PQgetvalue(res, i, 1));
    w->topic = hret_xstrdup(PQgetvalue(res, i, 2));
    const char *key = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
    struct hret_kafka_message m = {
        .topic = w->topic,
        .key = key,
        .key_len = key ? strlen(key) : 0,
        .value = PQgetvalue(res, i, 7),
        .value_len = (size_t)PQgetlength(res, i, 7),
        .event = &ev,
        .delivery = &w->d,
    };
    enum hret_result rc = hret_kafka_produce(r->p, &m, err);
    if (rc != HRET_OK) {
        row_free(w); /* never queued: no report will come */
        return rc;
    }
    r->rows[r->count++] = w;
    return HRET_OK;
}

/* Claims the next batch and produces it; rows the producer would not take (queue full, or an
 * error) are released for a later turn. */
static enum hret_result claim(struct hret_outbox_relay *r, struct hret_pg *pg, size_t *claimed,
                              struct hret_err *err)
{
    PGresult *res = NULL;
    const char *params[] = {CLAIM_S};
    enum hret_result rc = hret_pg_query(pg, "outbox claim", claim_sql, 1, params, false, &res, err);
    int n = rc == HRET_OK ? PQntuples(res) : 0;
    *claimed = (size_t)n;
    r->renewed_ms = now_ms();
    r->full = n == RELAY_BATCH;
    int done = 0;
    while (done < n && (rc = produce_row(r, res, done, err)) == HRET_OK) {
        done++;
    }
    if (done < n) {
        struct hret_buf ids;
        hret_buf_init(&ids, SIZE_MAX);
        hret_buf_append(&ids, "{", 1, NULL);
        for (int k = done; k < n; k++) {
            hret_buf_appendf(&ids, NULL, "%s%s", k > done ? "," : "", PQgetvalue(res, k, 0));
        }
        hret_buf_append(&ids, "}", 1, NULL);
        struct hret_err e = HRET_ERR_INIT;
        const char *rel[] = {hret_buf_str(&ids)};
        hret_pg_query(pg, "outbox release", release_sql, 1, rel, false, NULL, &e);
        hret_buf_fini(&ids);
        r->full = false;
        if (rc == HRET_AGAIN) { /* the queue is full: the next turn, after the reports */
            hret_err_clear(err);
            rc = HRET_OK;
        }
    }
    PQclear(res);
    return rc;
}

/* What a turn learned, for the metrics and readiness: whether the database answered, what was
 * published, and the backlog (a claim short of a batch took all there was, bar rows another
 * relay holds; after a full one the rows are counted, at most every BACKLOG_COUNT_MS). */
static void report(struct hret_pg *pg, enum hret_result rc, const struct hret_outbox_relay *r,
                   const struct tally *t)
{
    static atomic_llong counted_ms;
    PGconn *conn = hret_pg_conn(pg);
    hret_ops_pg(rc == HRET_OK || (conn != NULL && PQstatus(conn) == CONNECTION_OK));
    hret_ops_outbox_published(t->published, t->failed);
    if (t->published > 0) {
        hret_ops_kafka(true);
    }
    if (rc != HRET_OK) {
        return;
    }
    if (!r->full) {
        hret_ops_outbox_backlog((long long)r->count);
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

/* The turn: settle what is in; with nothing in flight, claim and produce; wait for the reports
 * of what this turn produced only (at most TURN_WAIT_MS); claim again while batches come full
 * and settle within that. */
static enum hret_result turn(struct hret_outbox_relay *r, struct hret_pg *pg, struct tally *t,
                             struct hret_err *err)
{
    double deadline = now_ms() + TURN_WAIT_MS;
    bool produced = false;
    for (;;) {
        hret_kafka_producer_poll(r->p, 0);
        enum hret_result rc = settle(r, pg, t, err);
        if (rc != HRET_OK) {
            return rc;
        }
        if (r->count > 0) {
            if (!produced || now_ms() >= deadline) {
                renew(r, pg);
                return HRET_OK; /* still in flight: a later turn */
            }
            hret_kafka_producer_poll(r->p, 5);
            continue;
        }
        if ((produced && !r->full) || now_ms() >= deadline) {
            return HRET_OK;
        }
        size_t claimed = 0;
        rc = claim(r, pg, &claimed, err);
        if (rc != HRET_OK || claimed == 0) {
            return rc;
        }
        produced = true;
    }
}

enum hret_result hret_outbox_relay_step(struct hret_outbox_relay *r, struct hret_pg *pg,
                                        size_t *published, struct hret_err *err)
{
    struct tally t = {0, 0};
    enum hret_result rc = turn(r, pg, &t, err);
    report(pg, rc, r, &t);
    if (published != NULL) {
        *published = t.published;
    }
    return rc;
}

bool hret_outbox_relay_busy(const struct hret_outbox_relay *r)
{
    return r->count > 0 || r->full;
}

void hret_outbox_drain(struct hret_outbox_relay *r, struct hret_pg *pg, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    struct hret_err err = HRET_ERR_INIT;
    do {
        hret_err_clear(&err);
        if (hret_outbox_relay_step(r, pg, NULL, &err) != HRET_OK) {
            hret_log_warn("outbox", NULL, "relay: %s", err.msg);
            return;
        }
        if (r->count > 0) {
            hret_kafka_producer_poll(r->p, DRAIN_POLL_MS);
        }
    } while (hret_outbox_relay_busy(r) && now_ms() < deadline);
    if (r->count > 0) {
        hret_log_warn("outbox", NULL,
                      "%zu event(s) still in flight after %d ms: left for the next relay", r->count,
                      timeout_ms);
    }
}

void hret_outbox_relay_destroy(struct hret_outbox_relay *r, struct hret_pg *pg)
{
    if (r == NULL) {
        return;
    }
    struct tally t = {0, 0};
    struct hret_err err = HRET_ERR_INIT;
    if (r->count > 0 && settle(r, pg, &t, &err) == HRET_OK) {
        release(r, pg);
    }
    for (size_t i = 0; i < r->count; i++) {
        row_detach(r->rows[i]);
    }
    free(r);
}
