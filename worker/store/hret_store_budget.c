#include "hret_store_budget.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_budget.h"
#include "hret_clock.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_pg.h"

#define COMP "budget"
#define TICK_MS 100
#define MAX_MODELS 64

struct held {
    char name[256];
    double renewed_ms; /* 0: not held */
};

struct hret_store_budget {
    struct hret_pg *pg;
    char *holder;
    pthread_t thread;
    atomic_bool stop;
    struct held held[MAX_MODELS];
};

static const char renew_sql[] =
    "INSERT INTO model_budget_leases (model, holder, expires_at) "
    "VALUES ($1, $2, now() + make_interval(secs => $3)) "
    "ON CONFLICT (model, holder) DO UPDATE SET expires_at = EXCLUDED.expires_at";
static const char count_sql[] =
    "SELECT count(*), count(*) FILTER (WHERE holder < $2) FROM model_budget_leases "
    "WHERE model = $1 AND expires_at > now()";
static const char sweep_sql[] =
    "DELETE FROM model_budget_leases WHERE model = $1 AND expires_at < now() - interval '1 minute'";
static const char release_sql[] =
    "DELETE FROM model_budget_leases WHERE model = $1 AND holder = $2";
static const char release_all_sql[] = "DELETE FROM model_budget_leases WHERE holder = $1";

enum hret_result hret_store_budget_renew(struct hret_pg *pg, const char *model, const char *holder,
                                         long *holders, long *rank, struct hret_err *err)
{
    char secs[16];
    snprintf(secs, sizeof secs, "%d", HRET_BUDGET_LEASE_S);
    const char *params[] = {model, holder, secs};
    PGresult *res = NULL;
    enum hret_result r =
        hret_pg_query(pg, "renew budget lease", renew_sql, 3, params, false, NULL, err);
    if (r == HRET_OK) {
        r = hret_pg_query(pg, "count budget leases", count_sql, 2, params, false, &res, err);
    }
    if (r == HRET_OK) {
        *holders = atol(PQgetvalue(res, 0, 0));
        *rank = atol(PQgetvalue(res, 0, 1));
        PQclear(res);
        r = hret_pg_query(pg, "sweep budget leases", sweep_sql, 1, params, false, NULL, err);
    }
    return r;
}

static struct held *held_slot(struct hret_store_budget *b, const char *name, bool create)
{
    struct held *free_slot = NULL;
    for (size_t i = 0; i < MAX_MODELS; i++) {
        if (b->held[i].renewed_ms > 0 && strcmp(b->held[i].name, name) == 0) {
            return &b->held[i];
        }
        if (free_slot == NULL && b->held[i].renewed_ms == 0) {
            free_slot = &b->held[i];
        }
    }
    if (create && free_slot != NULL) {
        snprintf(free_slot->name, sizeof free_slot->name, "%s", name);
    }
    return create ? free_slot : NULL;
}

/* Renews d's lease and sets the process's share. */
static void renew(struct hret_store_budget *b, const struct hret_budget_demand *d, struct held *h,
                  double now)
{
    struct hret_err err = HRET_ERR_INIT;
    long holders = 0, rank = 0;
    if (hret_store_budget_renew(b->pg, d->name, b->holder, &holders, &rank, &err) != HRET_OK ||
        holders < 1) {
        hret_log_warn(COMP, d->name,
                      "cannot renew the fleet budget lease (the last share stays): %s", err.msg);
        return;
    }
    long long f = d->fleet_max_inflight;
    long inflight = (long)(f / holders + (rank < f % holders ? 1 : 0));
    hret_budget_share(d->name, (double)d->fleet_rpm / (double)holders,
                      (double)d->fleet_tpm / (double)holders, inflight);
    if (h->renewed_ms == 0) {
        hret_log_info(COMP, d->name, "fleet budget: 1 of %ld holders (rpm %.1f, in flight %ld)",
                      holders, (double)d->fleet_rpm / (double)holders, inflight);
    }
    h->renewed_ms = now;
}

/* Gives back the leases of models that no longer want a share. */
static void release_idle(struct hret_store_budget *b, const struct hret_budget_demand *d, size_t n)
{
    for (size_t i = 0; i < MAX_MODELS; i++) {
        struct held *h = &b->held[i];
        bool wanted = false;
        for (size_t k = 0; k < n && !wanted && h->renewed_ms > 0; k++) {
            wanted = strcmp(d[k].name, h->name) == 0;
        }
        if (h->renewed_ms > 0 && !wanted) {
            struct hret_err err = HRET_ERR_INIT;
            const char *params[] = {h->name, b->holder};
            hret_budget_unshare(h->name);
            (void)hret_pg_query(b->pg, "release budget lease", release_sql, 2, params, false, NULL,
                                &err);
            h->renewed_ms = 0;
        }
    }
}

static void *keeper(void *arg)
{
    struct hret_store_budget *b = arg;
    struct hret_budget_demand *d = hret_xcalloc(MAX_MODELS, sizeof *d);
    const struct timespec tick = {0, TICK_MS * 1000000L};
    while (!atomic_load(&b->stop)) {
        size_t n = hret_budget_demand(d, MAX_MODELS);
        double now = hret_clock_now_ms();
        for (size_t i = 0; i < n; i++) {
            struct held *h = held_slot(b, d[i].name, true);
            if (h != NULL && (h->renewed_ms == 0 || now - h->renewed_ms >= HRET_BUDGET_RENEW_MS)) {
                renew(b, &d[i], h, now);
            }
        }
        release_idle(b, d, n);
        nanosleep(&tick, NULL);
    }
    free(d);
    return NULL;
}

struct hret_store_budget *hret_store_budget_start(const char *conninfo, const char *password_env,
                                                  const char *holder, struct hret_err *err)
{
    struct hret_pg_options opt = {
        .conninfo = conninfo, .password_env = password_env, .application_name = "hret-budget"};
    struct hret_pg *pg = NULL;
    if (hret_pg_open(&opt, &pg, err) != HRET_OK) {
        return NULL;
    }
    struct hret_store_budget *b = hret_xcalloc(1, sizeof *b);
    b->pg = pg;
    b->holder = hret_xstrdup(holder);
    atomic_init(&b->stop, false);
    hret_budget_fleet_on();
    if (pthread_create(&b->thread, NULL, keeper, b) != 0) {
        hret_pg_destroy(pg);
        free(b->holder);
        free(b);
        hret_err_set(err, HRET_E_FATAL, "cannot start the fleet budget thread");
        return NULL;
    }
    return b;
}

void hret_store_budget_stop(struct hret_store_budget *b)
{
    if (b == NULL) {
        return;
    }
    atomic_store(&b->stop, true);
    pthread_join(b->thread, NULL);
    struct hret_err err = HRET_ERR_INIT;
    const char *params[] = {b->holder};
    (void)hret_pg_query(b->pg, "release budget leases", release_all_sql, 1, params, false, NULL,
                        &err);
    hret_pg_destroy(b->pg);
    free(b->holder);
    free(b);
}
