/* hret worker, shard tasks: claim the shard (a done shard is a no-op), load the request's
 * dataset as the plan did, run the shard's samples that are not stored yet through the endpoint
 * with the PostgreSQL response cache, then in one transaction store the samples, mark the shard
 * done and, when it was the run's last, finish the run (hret_worker_finish.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_clock.h"
#include "hret_dataset.h"
#include "hret_eval.h"
#include "hret_http.h"
#include "hret_json.h"
#include "hret_judge.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_ops.h"
#include "hret_request.h"
#include "hret_run.h"
#include "hret_store_cache.h"
#include "hret_store_samples.h"
#include "hret_worker.h"
#include "hret_worker_data.h"

#define WHO "worker"
#define MAX_TASK_BYTES (1 << 20)
#define DLQ_TIMEOUT_MS 30000

/* A shard is taken when it is pending, when its holder's lease ran out (the holder died, hangs or
 * gave it back), or when this very slot holds it (its give-back failed, say with the database
 * away, and it retries the message); never from another live holder, not even a sibling slot of
 * this worker (each slot is an owner of its own, host:pid:nonce:slot, and runs one shard at a
 * time); only while its run is live and it has attempts left (datasets.max_shard_attempts; the
 * sweep fails the run of a shard that has none). */
static const char claim_sql[] =
    "UPDATE shards SET status = 'running', owner = $3, attempts = attempts + 1,"
    " lease_until = now() + make_interval(secs => $4::integer), updated_at = now()"
    " WHERE run_id = $1 AND shard_idx = $2::integer AND (status = 'pending'"
    " OR (status = 'running' AND (lease_until < now() OR owner = $3)))"
    " AND attempts < $5::integer"
    " AND " HRET_WORKER_LIVE_RUN " RETURNING first_idx, end_idx";

static const char holder_sql[] =
    "SELECT status, COALESCE(owner, ''), COALESCE(to_char(lease_until, 'HH24:MI:SS'), '')"
    " FROM shards WHERE run_id = $1 AND shard_idx = $2::integer";

static const char renew_sql[] =
    "UPDATE shards SET lease_until = now() + make_interval(secs => $4::integer)"
    " WHERE run_id = $1 AND shard_idx = $2::integer AND status = 'running' AND owner = $3";

static const char start_run_sql[] =
    "UPDATE runs SET status = 'running', started_at = COALESCE(started_at, now()),"
    " start_time = COALESCE(start_time, extract(epoch FROM now())), updated_at = now()"
    " WHERE run_id = $1 AND status = 'planned'";

static const char context_sql[] =
    "SELECT r.model_name, r.dataset_name, r.dataset_version, q.spec::text, r.request_id,"
    " COALESCE(r.data_version, '')"
    " FROM runs r JOIN requests q USING (request_id) WHERE r.run_id = $1";

static const char stored_sql[] =
    "SELECT sample_idx FROM samples WHERE run_id = $1 AND sample_idx >= $2::integer"
    " AND sample_idx < $3::integer";

static const char lock_sql[] = "SELECT 1 FROM requests WHERE request_id = $1 FOR UPDATE";

/* A shard is completed by its holder, or by a late one when nobody else holds it live (its lease
 * ran out, or the sweep queued it again and no one took it yet); never when it is done, failed,
 * or held live by another owner: then the late completion stores nothing. */
static const char shard_done_sql[] =
    "UPDATE shards SET status = 'done', done_samples = $3::integer, error_samples = $4::integer,"
    " owner = $5, finished_at = now(), lease_until = NULL, updated_at = now()"
    " WHERE run_id = $1 AND shard_idx = $2::integer AND (status = 'pending'"
    " OR (status = 'running' AND (owner = $5 OR lease_until < now())))";

/* Giving a shard back expires its lease (status stays running): the redelivered task, or the
 * sweep when no task is left for it (a stolen shard's task may have been consumed already),
 * hands it out again. */
static const char release_sql[] =
    "UPDATE shards SET lease_until = now(), error = $4, updated_at = now()"
    " WHERE run_id = $1 AND shard_idx = $2::integer AND status = 'running' AND owner = $3";

/* A slot takes a pending shard no task brought it; that shard's task then finds it held or done.
 * After its own shard, the same run's next one ($1 the run, grace 0: work stealing, the context
 * is loaded already, and workers whose partitions hold fewer shards keep busy). Idle, a shard of
 * any live run ($1 NULL) pending for at least PULL_GRACE_S seconds (hret_worker_shard_pull), so
 * in the normal course the task's own consumer claims it first. The oldest first. */
#define PULL_GRACE_S "2"
static const char take_sql[] =
    "UPDATE shards SET status = 'running', owner = $2, attempts = attempts + 1,"
    " lease_until = now() + make_interval(secs => $3::integer), updated_at = now()"
    " WHERE status = 'pending' AND (run_id, shard_idx) = (SELECT run_id, shard_idx FROM shards"
    " WHERE ($1::text IS NULL OR run_id = $1) AND status = 'pending' AND attempts < $4::integer"
    " AND updated_at <= now() - make_interval(secs => $5::integer) AND " HRET_WORKER_LIVE_RUN
    " ORDER BY updated_at, shard_idx, run_id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING run_id, shard_idx, first_idx, end_idx";

struct shard {
    struct hret_worker *w;
    char run_id[130], shard_idx[32], first[32], end[32], lease[32], max_attempts[32];
    long long lo, hi;
    bool claimed;
    bool lost; /* the lease went to another owner (or the shard finished): nothing stored */
    /* hret_run's stop flag for this shard: set when the worker stops or the lease is lost, and
     * then the shard's queued and in-flight requests are dropped at once */
    volatile sig_atomic_t halt;
    bool drained; /* the shard sent its last request: the slot gave its place up (draining) */
    struct hret_store_cache *cache; /* while the shard runs: flushed on every progress tick */
    double renewed_ms;              /* when the lease was last renewed */
    char *request_id, *version;     /* owned */
    char data_version[65];          /* the imported version the run reads, "" for files */
    struct hret_request *req;
    struct hret_worker_run run;
    struct hret_dataset *ds;
    struct hret_sample *todo; /* the shard's samples not stored yet, read from ds (owned) */
    struct hret_outcome *outcomes;
    size_t n_todo, stored_before, done, errors;
    struct hret_store_samples_batch batch;
};

/* Forgets the current shard's samples; the run's context stays for the next shard. */
static void shard_reset(struct shard *s)
{
    for (size_t i = 0; s->outcomes != NULL && i < s->n_todo; i++) {
        hret_outcome_fini(&s->outcomes[i]);
    }
    for (size_t i = 0; s->todo != NULL && i < s->n_todo; i++) {
        hret_sample_fini(&s->todo[i]);
    }
    free(s->outcomes);
    free(s->todo);
    s->outcomes = NULL;
    s->todo = NULL;
    s->n_todo = s->stored_before = s->done = s->errors = 0;
}

static void shard_fini(struct shard *s)
{
    shard_reset(s);
    hret_dataset_destroy(s->ds);
    hret_request_destroy(s->req);
    free(s->request_id);
    free(s->version);
}

static void set_limits(struct shard *s)
{
    snprintf(s->lease, sizeof s->lease, "%lld", s->w->cfg->datasets.shard_lease_s);
    snprintf(s->max_attempts, sizeof s->max_attempts, "%lld",
             s->w->cfg->datasets.max_shard_attempts);
}

/* The claimed shard's sample range from res's columns col and col + 1. */
static void set_range(struct shard *s, const PGresult *res, int col)
{
    s->lo = atoll(PQgetvalue(res, 0, col));
    s->hi = atoll(PQgetvalue(res, 0, col + 1));
    snprintf(s->first, sizeof s->first, "%lld", s->lo);
    snprintf(s->end, sizeof s->end, "%lld", s->hi);
}

static enum hret_result claim_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct shard *s = user;
    set_limits(s);
    const char *params[] = {s->run_id, s->shard_idx, s->w->worker_id, s->lease, s->max_attempts};
    PGresult *res = NULL;
    enum hret_result r = hret_pg_query(pg, "claim shard", claim_sql, 5, params, false, &res, err);
    s->claimed = r == HRET_OK && PQntuples(res) == 1;
    if (s->claimed) {
        set_range(s, res, 0);
        r = hret_pg_query(pg, "start run", start_run_sql, 1, params, false, NULL, err);
    }
    PQclear(res);
    return r;
}

/* Takes a pending shard into s with take_sql (run NULL: of any live run, pending for at least
 * grace seconds); s->claimed says whether there was one. */
static enum hret_result take(struct shard *s, struct hret_pg *pg, const char *run,
                             const char *grace, struct hret_err *err)
{
    set_limits(s);
    const char *params[] = {run, s->w->worker_id, s->lease, s->max_attempts, grace};
    PGresult *res = NULL;
    enum hret_result r = hret_pg_query(pg, "take shard", take_sql, 5, params, false, &res, err);
    s->claimed = r == HRET_OK && PQntuples(res) == 1;
    if (s->claimed) {
        shard_reset(s);
        snprintf(s->run_id, sizeof s->run_id, "%s", PQgetvalue(res, 0, 0));
        snprintf(s->shard_idx, sizeof s->shard_idx, "%s", PQgetvalue(res, 0, 1));
        set_range(s, res, 2);
    }
    PQclear(res);
    return r;
}

/* claim_txn for a shard of any live run that waited PULL_GRACE_S with no task taken. */
static enum hret_result pull_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct shard *s = user;
    enum hret_result r = take(s, pg, NULL, PULL_GRACE_S, err);
    if (r == HRET_OK && s->claimed) {
        const char *run[] = {s->run_id};
        r = hret_pg_query(pg, "start run", start_run_sql, 1, run, false, NULL, err);
    }
    return r;
}

/* The run's request, model and dataset, parsed back from the stored request. */
static enum hret_result load_context(struct shard *s, struct hret_err *err)
{
    const char *params[] = {s->run_id};
    PGresult *res = NULL;
    struct hret_pg *pg = hret_store_pg(s->w->store);
    if (hret_pg_query(pg, "shard context", context_sql, 1, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    enum hret_result r = HRET_OK;
    if (PQntuples(res) != 1) {
        r = hret_err_set(err, HRET_E_INVAL, "run %s has no request row", s->run_id);
        goto cleanup;
    }
    s->request_id = hret_xstrdup(PQgetvalue(res, 0, 4));
    s->version = hret_xstrdup(PQgetvalue(res, 0, 2));
    snprintf(s->data_version, sizeof s->data_version, "%s", PQgetvalue(res, 0, 5));
    const char *spec = PQgetvalue(res, 0, 3);
    if (hret_request_parse(spec, strlen(spec), s->w->cfg, &s->req, NULL, err) != HRET_OK) {
        goto cleanup; /* the config changed under the stored request */
    }
    for (size_t i = 0; i < s->req->n_models; i++) {
        if (strcmp(s->req->models[i].name, PQgetvalue(res, 0, 0)) == 0) {
            s->run.model = &s->req->models[i];
        }
    }
    for (size_t i = 0; i < s->req->n_datasets; i++) {
        if (strcmp(s->req->datasets[i].name, PQgetvalue(res, 0, 1)) == 0) {
            s->run.ds = &s->req->datasets[i];
        }
    }
    if (s->run.model == NULL || s->run.ds == NULL || s->run.model->config == NULL) {
        r = hret_err_set(err, HRET_E_INVAL, "run %s: its model or dataset left the request",
                         s->run_id);
        goto cleanup;
    }
    s->run = (struct hret_worker_run){s->run_id, s->req,     s->run.model,
                                      s->run.ds, s->version, s->data_version};
cleanup:
    PQclear(res);
    return err->code != HRET_OK ? err->code : r;
}

/* The dataset, checked against the planned version, and the shard's samples not stored yet. */
static enum hret_result select_samples(struct shard *s, struct hret_err *err)
{
    char read[65];
    if (s->ds == NULL && hret_worker_dataset_load(s->w->cfg, s->w->store, s->req, s->run.ds,
                                                  s->data_version, read, &s->ds, err) != HRET_OK) {
        return err->code;
    }
    if (s->data_version[0] != '\0' &&
        hret_worker_dataset_still_stored(s->w->store, s->run.ds->name, s->data_version, err) !=
            HRET_OK) {
        return err->code; /* removed while the run went on: the run fails saying so */
    }
    if (strcmp(s->ds->version, s->version) != 0 || (size_t)s->hi > s->ds->count) {
        return hret_err_set(err, HRET_E_INVAL,
                            "dataset %s changed since the run was planned (version %s, now %s)",
                            s->ds->name, s->version, s->ds->version);
    }
    const char *params[] = {s->run_id, s->first, s->end};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s->w->store), "stored samples", stored_sql, 3, params, false,
                      &res, err) != HRET_OK) {
        return err->code;
    }
    size_t span = (size_t)(s->hi - s->lo);
    bool *have = hret_xcalloc(span ? span : 1, sizeof *have);
    for (int i = 0; i < PQntuples(res); i++) {
        long long idx = atoll(PQgetvalue(res, i, 0));
        have[idx - s->lo] = true;
        s->stored_before++;
    }
    PQclear(res);
    s->todo = hret_xcalloc(span ? span : 1, sizeof *s->todo);
    s->outcomes = hret_xcalloc(span ? span : 1, sizeof *s->outcomes);
    enum hret_result r = HRET_OK;
    for (size_t i = 0; i < span && r == HRET_OK; i++) { /* only the shard's range is read */
        if (!have[i]) {
            r = hret_dataset_get(s->ds, (size_t)s->lo + i, &s->todo[s->n_todo], err);
            s->n_todo += r == HRET_OK;
        }
    }
    free(have);
    return r;
}

/* hret_run's progress hook (every 100 ms): passes the worker's stop on, writes the responses
 * received since the last tick to the response cache, and renews the lease every third of its
 * length, on this slot's own connection (the run is single-threaded, so the
 * connection is idle here). A renewal that finds the lease gone (the worker stalled past it and
 * another took the shard, or the run failed) halts the shard: hret_run then drops its queued and
 * in-flight requests, so a stalled holder wastes at most what it had in flight. */
static void renew_lease(void *user, size_t done, size_t total, size_t errors)
{
    (void)done, (void)total, (void)errors;
    struct shard *s = user;
    if (s->w->stop != NULL && *s->w->stop) {
        s->halt = 1;
    }
    /* the answers received so far become durable: a crash loses what is in flight and at most
     * the answers of the last tick */
    hret_store_cache_flush(s->cache, NULL);
    double now = hret_clock_now_ms();
    if (s->lost || now - s->renewed_ms < (double)s->w->cfg->datasets.shard_lease_s * 1000.0 / 3.0) {
        return;
    }
    s->renewed_ms = now;
    struct hret_err err = HRET_ERR_INIT;
    const char *params[] = {s->run_id, s->shard_idx, s->w->worker_id, s->lease};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s->w->store), "renew lease", renew_sql, 4, params, false, &res,
                      &err) != HRET_OK) {
        hret_log_warn(WHO, s->run_id, "shard %s: renew lease: %s", s->shard_idx, err.msg);
    } else if (PQcmdTuples(res)[0] == '0') {
        hret_log_warn(WHO, s->run_id,
                      "shard %s: lease lost to another worker; its requests "
                      "are cancelled",
                      s->shard_idx);
        s->lost = true;
        s->halt = 1;
    }
    PQclear(res);
}

/* What the endpoint said it is (model id, system_fingerprint), for the monitor's fingerprint
 * rule; best effort, the run does not depend on it. */
static void record_served(struct shard *s, const struct hret_run_report *rep)
{
    static const char sql[] = "UPDATE runs SET served_model = COALESCE($2, served_model),"
                              " fingerprint = COALESCE($3, fingerprint) WHERE run_id = $1";
    if (rep->served_model == NULL && rep->fingerprint == NULL) {
        return;
    }
    const char *params[] = {s->run_id, rep->served_model, rep->fingerprint};
    struct hret_err err = HRET_ERR_INIT;
    if (hret_pg_query(hret_store_pg(s->w->store), "served model", sql, 3, params, false, NULL,
                      &err) != HRET_OK) {
        hret_log_warn(WHO, s->run_id, "record served model: %s", err.msg);
    }
}

/* The request's scoring modes into p, as hret run sets them from its flags (setup_modes in
 * hret_cmd_run.c): the judge and its type, self-consistency at its own temperature, the
 * language penalty and gate (the parser gave the gate its default threshold). */
static void set_modes(const struct hret_config *cfg, const struct hret_request *q,
                      struct hret_run_params *p)
{
    if (q->judge_model != NULL) {
        p->judge_model = hret_config_model(cfg, q->judge_model);
        enum hret_judge_type t = HRET_JUDGE_K2_EVAL;
        hret_judge_params(q->method_params, &t, NULL); /* the parser checked them */
        p->judge_type = (int)t;
    }
    if (q->sc_paths > 1) {
        p->paths = (unsigned)q->sc_paths;
        p->gen.temperature = q->sc_temperature;
    }
    p->language_threshold = isnan(q->language_penalty) ? -1 : q->language_penalty;
    p->language_gate = q->language_gate;
}

/* hret_run's sent hook: only answers in flight are left, the slot's place goes to the next
 * shard while they come back. */
static void on_sent(void *user)
{
    struct shard *s = user;
    if (s->w->draining != NULL && !s->drained) {
        s->drained = true;
        s->w->draining(s->w->slot);
    }
}

/* Whether the slot may take another shard after this one: a drained slot needs its place back
 * (false: the pool gave it to another message meanwhile). */
static bool may_take_more(struct shard *s)
{
    if (!s->drained) {
        return true;
    }
    s->drained = false;
    return s->w->resume == NULL || s->w->resume(s->w->slot);
}

static enum hret_result run_samples(struct shard *s, struct hret_err *err)
{
    const struct hret_evaluator_ops *ev = hret_eval_find(s->req->method);
    const struct hret_evaluator_config *external =
        ev ? NULL : hret_config_evaluator(s->w->cfg, s->req->method);
    void *state = NULL;
    if (ev == NULL && external == NULL) {
        return hret_err_set(err, HRET_E_INVAL, "unknown method %s", s->req->method);
    }
    if (ev != NULL && ev->init(s->req->method_params, &state, err) != HRET_OK) {
        return err->code;
    }
    const struct hret_request_gen *g = &s->run.model->gen;
    struct hret_run_params p = {
        .model = s->run.model->config,
        .evaluator = ev,
        .evaluator_state = state,
        .external = external,
        .external_params = s->req->method_params,
        .prompt_suffix = s->req->prompt_suffix,
        .gen = {.max_tokens = g->max_tokens > 0 ? (long)g->max_tokens : 0,
                .temperature = g->temperature,
                .top_p = g->top_p,
                .seed = g->seed,
                .has_seed = g->has_seed},
        .stop = &s->halt,
        .progress = renew_lease,
        .progress_user = s,
        .sent = on_sent,
        .sent_user = s,
        .mode = strcmp(s->req->method, "log_likelihood") == 0 ? HRET_RUN_LOGLIK : HRET_RUN_GENERATE,
    };
    set_modes(s->w->cfg, s->req, &p);
    struct hret_store_cache *cache = hret_store_cache_new(s->w->store, p.model);
    s->cache = cache;
    struct hret_run_cache hooks;
    hret_store_cache_hooks(cache, &hooks);
    p.cache = &hooks;
    p.cache_policy = (int)s->w->cfg->response_cache;
    p.cache_scope = s->run_id; /* a re-claimed shard reuses its run's sampled answers */
    struct hret_run_report rep = {0};
    s->halt = s->w->stop != NULL && *s->w->stop;
    enum hret_result r = hret_run_samples(&p, s->todo, s->n_todo, s->outcomes, &rep, err);
    struct hret_err cache_err = HRET_ERR_INIT;
    hret_store_cache_flush(cache, &cache_err);
    hret_store_cache_destroy(cache);
    s->cache = NULL;
    s->done = rep.done;
    s->errors = rep.errors;
    record_served(s, &rep);
    if (s->lost) {
        r = hret_err_set(err, HRET_E_CONFLICT, "shard %s: lease lost", s->shard_idx);
    } else if (r == HRET_OK && rep.partial) {
        r = hret_err_set(err, HRET_E_UNAVAILABLE, "stopped before the shard finished");
    }
    hret_log_info(WHO, s->run_id, "shard %s: %zu run, %zu errors, %zu cached, %zu stored before",
                  s->shard_idx, rep.done, rep.errors, rep.cache_hits, s->stored_before);
    hret_run_report_fini(&rep);
    if (ev != NULL) {
        ev->destroy(state);
    }
    return r;
}

static enum hret_result complete_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct shard *s = user;
    const char *lock[] = {s->request_id};
    if (hret_pg_query(pg, "lock request", lock_sql, 1, lock, false, NULL, err) != HRET_OK) {
        return err->code;
    }
    char done[32], errors[32];
    snprintf(done, sizeof done, "%zu", s->stored_before + s->done);
    snprintf(errors, sizeof errors, "%zu", s->errors);
    const char *params[] = {s->run_id, s->shard_idx, done, errors, s->w->worker_id};
    PGresult *res = NULL;
    enum hret_result r =
        hret_pg_query(pg, "shard done", shard_done_sql, 5, params, false, &res, err);
    s->lost = r == HRET_OK && strcmp(PQcmdTuples(res), "0") == 0;
    PQclear(res);
    if (r != HRET_OK) {
        return r;
    }
    if (s->lost) { /* rolled back: the holder (or the finished shard) has it all */
        return hret_err_set(err, HRET_E_CONFLICT, "shard %s: lease lost, nothing stored",
                            s->shard_idx);
    }
    if (s->n_todo > 0 && hret_store_samples_copy(pg, &s->batch, err) != HRET_OK) {
        return err->code;
    }
    return hret_worker_finish_run(s->w, pg, &s->run, err);
}

/* Keeps what finished and gives the shard back (shutdown, or a failure worth retrying). */
static void release(struct shard *s, const char *why)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_pg *pg = hret_store_pg(s->w->store);
    if (s->n_todo > 0 && s->outcomes != NULL) {
        hret_store_samples_write(s->w->store, s->run_id, s->todo, s->outcomes, s->n_todo, NULL,
                                 &err);
    }
    const char *params[] = {s->run_id, s->shard_idx, s->w->worker_id, why};
    hret_err_clear(&err);
    if (hret_pg_query(pg, "release shard", release_sql, 4, params, false, NULL, &err) != HRET_OK) {
        hret_log_warn(WHO, s->run_id, "release shard %s: %s", s->shard_idx, err.msg);
    }
}

/* Why the claim found nothing to do: the shard is done, or another worker holds a live lease
 * (if that worker dies, the lease sweep hands the shard out again). */
static void log_holder(struct shard *s)
{
    struct hret_err err = HRET_ERR_INIT;
    const char *params[] = {s->run_id, s->shard_idx};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s->w->store), "shard holder", holder_sql, 2, params, false,
                      &res, &err) == HRET_OK &&
        PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "running") == 0) {
        hret_log_info(WHO, s->run_id, "shard %s is held by %s until %s", s->shard_idx,
                      PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    } else {
        hret_log_info(WHO, s->run_id, "shard %s is already done", s->shard_idx);
    }
    PQclear(res);
}

/* The claimed shard's samples, then the transaction that completes it. */
static enum hret_result run_claimed(struct shard *s, struct hret_err *err)
{
    s->renewed_ms = hret_clock_now_ms();
    enum hret_result r = select_samples(s, err);
    if (r == HRET_OK) {
        r = run_samples(s, err);
    }
    if (r == HRET_OK) {
        s->batch =
            (struct hret_store_samples_batch){s->run_id, s->todo, s->outcomes, s->n_todo, 0, false};
        r = hret_pg_transaction(hret_store_pg(s->w->store), "complete shard", complete_txn, s, err);
    }
    if (r == HRET_OK) {
        hret_ops_shard("completed");
    }
    return r;
}

/* Claims the run's next pending shard into s; false when there is none (or on an error, which
 * only ends the stealing). */
static bool steal(struct shard *s)
{
    if (s->w->stop != NULL && *s->w->stop) {
        return false;
    }
    struct hret_err err = HRET_ERR_INIT;
    return take(s, hret_store_pg(s->w->store), s->run_id, "0", &err) == HRET_OK && s->claimed;
}

/* The claimed shard s, then the run's further pending shards (steal). extra: s is not the
 * message's own shard (a pulled one), so a retriable failure gives it back and is done. */
static enum hret_worker_outcome work(struct shard *s, bool extra)
{
    struct hret_err err = HRET_ERR_INIT;
    enum hret_result r = load_context(s, &err);
    if (r == HRET_OK) {
        r = run_claimed(s, &err);
    }
    bool stolen = extra; /* the message's own shard is done: what follows is extra */
    while (r == HRET_OK && may_take_more(s) && steal(s)) {
        stolen = true;
        r = run_claimed(s, &err);
    }
    if (r == HRET_OK) {
        return HRET_WORKER_DONE;
    }
    if (s->lost) {
        hret_log_warn(WHO, s->run_id,
                      "shard %s: lease lost to another worker; its results were "
                      "not stored",
                      s->shard_idx);
        hret_ops_shard("lost");
        return HRET_WORKER_DONE;
    }
    if (hret_result_is_retriable(r)) {
        hret_log_warn(WHO, s->run_id, "shard %s given back: %s", s->shard_idx, err.msg);
        hret_ops_shard("released");
        release(s, err.msg);
        return stolen ? HRET_WORKER_DONE : HRET_WORKER_RETRY;
    }
    hret_ops_shard("failed");
    struct hret_err fail_err = HRET_ERR_INIT;
    const char *cls = r == HRET_E_INVAL ? "dataset" : r == HRET_E_PROTO ? "endpoint" : "internal";
    if (s->request_id == NULL || hret_worker_fail_run(s->w, s->req, s->request_id, s->run_id, cls,
                                                      err.msg, &fail_err) != HRET_OK) {
        hret_log_error(WHO, s->run_id, "shard %s failed: %s", s->shard_idx, err.msg);
    }
    return HRET_WORKER_DONE;
}

static enum hret_worker_outcome execute(struct shard *s)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_pg *pg = hret_store_pg(s->w->store);
    if (hret_pg_transaction(pg, "claim shard", claim_txn, s, &err) != HRET_OK) {
        hret_log_error(WHO, s->run_id, "claim shard %s: %s", s->shard_idx, err.msg);
        return hret_result_is_retriable(err.code) ? HRET_WORKER_RETRY : HRET_WORKER_DONE;
    }
    if (!s->claimed) {
        log_holder(s);
        return HRET_WORKER_DONE;
    }
    return work(s, false);
}

bool hret_worker_shard_pull(struct hret_worker *w)
{
    struct hret_err err = HRET_ERR_INIT;
    struct shard s = {.w = w};
    if (hret_pg_transaction(hret_store_pg(w->store), "pull shard", pull_txn, &s, &err) != HRET_OK ||
        !s.claimed) {
        if (err.code != HRET_OK) { /* nothing was taken: the next pull meets it again */
            hret_log_warn(WHO, NULL, "pull shard: %s", err.msg);
        }
        shard_fini(&s);
        return false;
    }
    hret_log_info(WHO, s.run_id,
                  "shard %s: taken by an idle slot (pending over %s s, no task came)", s.shard_idx,
                  PULL_GRACE_S);
    work(&s, true);
    shard_fini(&s);
    return true;
}

enum hret_worker_outcome hret_worker_shard(struct hret_worker *w, const rd_kafka_message_t *m)
{
    struct hret_err err = HRET_ERR_INIT;
    struct shard s = {.w = w};
    long long idx = 0;
    if (m->len > MAX_TASK_BYTES || hret_worker_task_parse(m->payload, m->len, s.run_id,
                                                          sizeof s.run_id, &idx, &err) != HRET_OK) {
        char reason[sizeof err.msg];
        snprintf(reason, sizeof reason, "%s", err.code ? err.msg : "the task is too big");
        hret_log_warn(WHO, NULL, "refused shard task: %s", reason);
        hret_err_clear(&err);
        enum hret_result r = hret_kafka_dlq_send(w->producer, m, NULL, reason, "", "bad_request",
                                                 DLQ_TIMEOUT_MS, &err);
        return r == HRET_OK ? HRET_WORKER_DONE : HRET_WORKER_RETRY;
    }
    snprintf(s.shard_idx, sizeof s.shard_idx, "%lld", idx);
    enum hret_worker_outcome out = execute(&s);
    shard_fini(&s);
    return out;
}
