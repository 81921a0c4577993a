/* hret worker, the lease sweep: any worker, every third of a lease, hands out again the shards
 * whose holder stopped renewing, fails the runs of shards that used every attempt, and fails the
 * open shards of runs that are over. */
#include <stdio.h>
#include <stdlib.h>

#include "hret_log.h"
#include "hret_worker.h"

#define WHO "worker"

/* Expired leases (their worker died or hangs) of live runs back to pending, each with a new shard
 * task copied from the first one (attempt = the shard's attempts + 1), in one statement; SKIP
 * LOCKED keeps the sweeps of several workers apart. A shard that used its attempts is not queued
 * again: its run fails (exhausted_sql). */
static const char sweep_sql[] =
    "WITH expired AS (SELECT run_id, shard_idx FROM shards"
    "  WHERE status = 'running' AND lease_until < now() AND attempts < $1::integer"
    "  AND " HRET_WORKER_LIVE_RUN " LIMIT 100 FOR UPDATE SKIP LOCKED),"
    " freed AS (UPDATE shards s SET status = 'pending', owner = NULL, lease_until = NULL,"
    "  updated_at = now() FROM expired e WHERE s.run_id = e.run_id AND s.shard_idx = e.shard_idx"
    "  RETURNING s.run_id, s.shard_idx, s.attempts)"
    " INSERT INTO outbox (event_id, topic, msg_key, ce_type, ce_source, payload)"
    " SELECT o.event_id || ':attempt:' || (f.attempts + 1), o.topic, o.msg_key, o.ce_type,"
    "  o.ce_source, jsonb_set(o.payload, '{attempt}', to_jsonb(f.attempts + 1))"
    " FROM freed f JOIN outbox o ON o.event_id = f.run_id || ':shard:' || f.shard_idx"
    " ON CONFLICT (event_id) DO NOTHING";

/* Expired shards of live runs that used every attempt: their runs fail. */
static const char exhausted_sql[] =
    "SELECT s.run_id, r.request_id, s.shard_idx, s.attempts, s.error FROM shards s"
    " JOIN runs r ON r.run_id = s.run_id WHERE s.status = 'running' AND s.lease_until < now()"
    " AND s.attempts >= $1::integer AND r.status IN ('planned', 'running') LIMIT 100";

/* Open shards of runs that are over (failed or cancelled): failed, never handed out again. */
static const char orphans_sql[] =
    "UPDATE shards s SET status = 'failed', owner = NULL, lease_until = NULL,"
    " error = COALESCE(s.error, 'run ' || r.status), finished_at = now(), updated_at = now()"
    " FROM runs r WHERE r.run_id = s.run_id AND s.status IN ('pending', 'running')"
    " AND r.status NOT IN ('planned', 'running')";

/* Fails the runs whose expired shards have no attempt left (max_attempts, borrowed). */
static enum hret_result fail_exhausted(struct hret_worker *w, const char *max_attempts,
                                       struct hret_err *err)
{
    const char *params[] = {max_attempts};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(w->store), "exhausted shards", exhausted_sql, 1, params, false,
                      &res, err) != HRET_OK) {
        return err->code;
    }
    enum hret_result r = HRET_OK;
    for (int i = 0; i < PQntuples(res) && r == HRET_OK; i++) {
        char msg[1200];
        snprintf(msg, sizeof msg,
                 "shard %s was handed out %s times (datasets.max_shard_attempts) "
                 "without finishing; last error: %s",
                 PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                 PQgetisnull(res, i, 4) ? "none recorded (its workers died or stopped renewing "
                                          "the lease)"
                                        : PQgetvalue(res, i, 4));
        r = hret_worker_fail_run(w, NULL, PQgetvalue(res, i, 1), PQgetvalue(res, i, 0),
                                 "shard_attempts", msg, err);
    }
    PQclear(res);
    return r;
}

enum hret_result hret_worker_sweep(struct hret_worker *w, size_t *reclaimed, struct hret_err *err)
{
    PGresult *res = NULL;
    *reclaimed = 0;
    char max_attempts[32];
    snprintf(max_attempts, sizeof max_attempts, "%lld", w->cfg->datasets.max_shard_attempts);
    const char *params[] = {max_attempts};
    struct hret_pg *pg = hret_store_pg(w->store);
    if (fail_exhausted(w, max_attempts, err) != HRET_OK ||
        hret_pg_query(pg, "orphan shards", orphans_sql, 0, NULL, false, NULL, err) != HRET_OK ||
        hret_pg_query(pg, "lease sweep", sweep_sql, 1, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    *reclaimed = (size_t)atoll(PQcmdTuples(res));
    PQclear(res);
    if (*reclaimed > 0) {
        hret_log_warn(WHO, NULL,
                      "%zu shard(s) whose worker stopped renewing its lease are "
                      "queued again",
                      *reclaimed);
    }
    return HRET_OK;
}

/* Published rows past outbox.retention_s, a batch at a time (the index of 004_outbox_prune.sql);
 * the shard tasks of live runs stay, as the sweep copies them when it queues a shard again (a
 * task's event id starts with its run id). */
static const char prune_sql[] =
    "DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox o WHERE o.published_at IS NOT NULL"
    " AND o.published_at < now() - make_interval(secs => $1::integer)"
    " AND NOT (o.ce_type = 'hret.shard.task.v1' AND EXISTS (SELECT 1 FROM runs r"
    " WHERE r.run_id = split_part(o.event_id, ':', 1) AND r.status IN ('planned', 'running')))"
    " LIMIT 1000)";

enum hret_result hret_worker_prune(struct hret_worker *w, size_t *pruned, struct hret_err *err)
{
    char retention[32];
    snprintf(retention, sizeof retention, "%lld", w->cfg->outbox.retention_s);
    const char *params[] = {retention};
    PGresult *res = NULL;
    *pruned = 0;
    if (hret_pg_query(hret_store_pg(w->store), "outbox prune", prune_sql, 1, params, false, &res,
                      err) != HRET_OK) {
        return err->code;
    }
    *pruned = (size_t)atoll(PQcmdTuples(res));
    PQclear(res);
    if (*pruned > 0) {
        hret_log_info(WHO, NULL, "pruned %zu published outbox row(s) past the retention", *pruned);
    }
    return HRET_OK;
}
