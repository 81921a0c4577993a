/* hret worker, shard tasks on a slot's two lanes (issue 25): after the message's own shard the
 * slot takes the run's pending shards itself (work stealing), and the next one starts as soon as
 * the current one is draining, on whichever of the slot's thread and its lane
 * (hret_worker_lane.c) is free, so a slot's window stays full across shard boundaries while
 * the last stragglers of a shard are out. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "hret_log.h"
#include "hret_ops.h"
#include "hret_worker_lane.h"
#include "hret_worker_shard_state.h"

#define WHO "worker"

/* The run's next pending shard, for the slot itself (take_shards); that shard's own task then
 * finds it held or done. */
static const char steal_sql[] =
    "UPDATE shards SET status = 'running', owner = $2, attempts = attempts + 1,"
    " lease_until = now() + make_interval(secs => $3::integer), updated_at = now()"
    " WHERE (run_id, shard_idx) = (SELECT run_id, shard_idx FROM shards WHERE run_id = $1"
    " AND status = 'pending' AND attempts < $4::integer AND " HRET_WORKER_LIVE_RUN
    " ORDER BY shard_idx LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING shard_idx, first_idx, end_idx";

/* The shard lets the slot start the run's next shard once it has no more samples left than its
 * share of the model's in-flight budget (max_inflight over the slots): from then on its window
 * only drains, and the next shard's requests take what the stragglers leave free. */
void hret_worker_shard_pass(struct shard *s, size_t left)
{
    size_t slots = s->w->slots > 0 ? s->w->slots : 1;
    size_t share = (size_t)s->run.model->config->max_inflight / slots;
    if (s->relay == NULL || s->passed || left > (share > 0 ? share : 1)) {
        return;
    }
    s->passed = true;
    hret_log_debug(WHO, s->run_id, "shard %s: %zu samples left; the slot starts the next shard",
                   s->shard_idx, left);
    hret_worker_relay_pass(s->relay);
}

/* Claims the run's next pending shard into s; false when there is none (or on an error, which
 * only ends the stealing). */
static bool steal(struct shard *s)
{
    if (s->w->stop != NULL && *s->w->stop) {
        return false;
    }
    struct hret_err err = HRET_ERR_INIT;
    const char *params[] = {s->run_id, s->w->worker_id, s->lease, s->max_attempts};
    PGresult *res = NULL;
    bool got = hret_pg_query(hret_store_pg(s->w->store), "steal shard", steal_sql, 4, params, false,
                             &res, &err) == HRET_OK &&
               PQntuples(res) == 1;
    if (got) {
        hret_worker_shard_reset(s);
        snprintf(s->shard_idx, sizeof s->shard_idx, "%s", PQgetvalue(res, 0, 0));
        s->lo = atoll(PQgetvalue(res, 0, 1));
        s->hi = atoll(PQgetvalue(res, 0, 2));
        snprintf(s->first, sizeof s->first, "%lld", s->lo);
        snprintf(s->end, sizeof s->end, "%lld", s->hi);
    }
    PQclear(res);
    return got;
}

/* What becomes of a shard that ended with r (err): kept (true), or lost, given back or its run
 * failed (false; *out is the message's outcome when the shard is the message's own). */
static bool settle(struct shard *s, enum hret_result r, struct hret_err *err, bool stolen,
                   enum hret_worker_outcome *out)
{
    if (!s->passed) { /* over before it drained (an error, a stop, a tiny shard) */
        s->passed = true;
        hret_worker_relay_pass(s->relay);
    }
    if (r == HRET_OK) {
        return true;
    }
    if (s->lost) {
        hret_log_warn(WHO, s->run_id,
                      "shard %s: lease lost to another worker; its results were "
                      "not stored",
                      s->shard_idx);
        hret_ops_shard("lost");
        return false;
    }
    if (hret_result_is_retriable(r)) {
        hret_log_warn(WHO, s->run_id, "shard %s given back: %s", s->shard_idx, err->msg);
        hret_ops_shard("released");
        hret_worker_shard_release(s, err->msg);
        *out = stolen ? HRET_WORKER_DONE : HRET_WORKER_RETRY;
        return false;
    }
    hret_ops_shard("failed");
    struct hret_err fail_err = HRET_ERR_INIT;
    const char *cls = r == HRET_E_INVAL ? "dataset" : r == HRET_E_PROTO ? "endpoint" : "internal";
    if (s->request_id == NULL || hret_worker_fail_run(s->w, s->req, s->request_id, s->run_id, cls,
                                                      err->msg, &fail_err) != HRET_OK) {
        hret_log_error(WHO, s->run_id, "shard %s failed: %s", s->shard_idx, err->msg);
    }
    return false;
}

/* The slot's shards of the run on one lane: s's claimed shard first when own is set (the
 * message's), then, each time the relay lets the next one start, the run's next pending shard
 * (work stealing: the context is loaded already, and workers whose partitions hold fewer
 * shards keep busy). No shard left, a failure or a stop ends the relay for both lanes. Returns
 * the message's outcome. */
static enum hret_worker_outcome take_shards(struct shard *s, bool own)
{
    enum hret_worker_outcome out = HRET_WORKER_DONE;
    struct hret_err err = HRET_ERR_INIT;
    bool ok = !own || settle(s, hret_worker_shard_run(s, &err), &err, false, &out);
    while (ok && hret_worker_relay_next(s->relay) && steal(s)) {
        hret_err_clear(&err);
        ok = settle(s, hret_worker_shard_run(s, &err), &err, true, &out);
    }
    hret_worker_relay_end(s->relay);
    return out;
}

/* The slot's lane: takes the run's shards beside the slot's thread, as *user: a copy of the slot
 * thread's shard made before it started, whose run context it borrows (the slot thread waits
 * for the lane before freeing it). */
static void lane_job(void *user, struct hret_worker *w)
{
    struct shard *s = user;
    s->w = w;
    take_shards(s, false);
    hret_worker_shard_reset(s);
}

enum hret_worker_outcome hret_worker_shard_lanes(struct shard *s, enum hret_result r,
                                                 struct hret_err *err)
{
    struct hret_worker_relay relay;
    hret_worker_relay_init(&relay, false);
    s->relay = &relay;
    pthread_mutex_t reads = PTHREAD_MUTEX_INITIALIZER;
    s->reads = &reads;
    enum hret_worker_outcome out = HRET_WORKER_DONE;
    if (r != HRET_OK) {
        settle(s, r, err, false, &out);
    } else {
        struct shard copy = *s; /* the run's context; no samples selected yet */
        copy.borrowed = true;
        copy.run.run_id = copy.run_id;
        copy.run.data_version = copy.data_version;
        bool lane = hret_worker_lane_start(s->w->lane, lane_job, &copy);
        out = take_shards(s, true);
        if (lane) {
            hret_worker_lane_wait(s->w->lane);
        }
    }
    hret_worker_relay_fini(&relay);
    pthread_mutex_destroy(&reads);
    s->relay = NULL;
    s->reads = NULL;
    return out;
}
