#include "hret_budget.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_bucket.h"
#include "hret_clock.h"
#include "hret_mem.h"

#define BLOCKED_POLL_MS 5.0   /* in flight full: look again this soon (another run may finish) */
#define UNSHARED_POLL_MS 20.0 /* waiting for the first fleet share */
#define IDLE_KEEP_MS 3000.0   /* a model keeps its fleet share this long after its last user */

struct hret_budget {
    char *name;
    int users;
    double last_used_ms;
    long inflight, max_inflight;
    struct hret_bucket rpm, tpm; /* the process's: a full minute's burst, as a pool had */
    long long fleet_rpm, fleet_tpm, fleet_max_inflight;
    bool shared;                   /* a fleet share is set */
    long share_inflight;           /* -1: no fleet in-flight limit */
    struct hret_bucket frpm, ftpm; /* the share: one second's burst, starting empty */
    double *busy_until; /* abandoned attempts still counted in inflight, until these times */
    size_t nbusy;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct hret_budget **budgets;
static size_t nbudgets;
static bool fleet_on;

static bool has_fleet(const struct hret_budget *b)
{
    return b->fleet_rpm > 0 || b->fleet_tpm > 0 || b->fleet_max_inflight > 0;
}

static struct hret_budget *find(const char *name)
{
    for (size_t i = 0; i < nbudgets; i++) {
        if (strcmp(budgets[i]->name, name) == 0) {
            return budgets[i];
        }
    }
    return NULL;
}

struct hret_budget *hret_budget_get(const struct hret_model_config *m)
{
    pthread_mutex_lock(&lock);
    struct hret_budget *b = find(m->name);
    if (b == NULL) {
        double now = hret_clock_now_ms();
        b = hret_xcalloc(1, sizeof *b);
        b->name = hret_xstrdup(m->name);
        b->max_inflight = (long)m->max_inflight;
        hret_bucket_init(&b->rpm, (double)m->rpm, (double)m->rpm, true, now);
        hret_bucket_init(&b->tpm, (double)m->tpm, (double)m->tpm, true, now);
        b->fleet_rpm = m->fleet_rpm;
        b->fleet_tpm = m->fleet_tpm;
        b->fleet_max_inflight = m->fleet_max_inflight;
        b->share_inflight = -1;
        budgets = hret_xrealloc(budgets, (nbudgets + 1) * sizeof *budgets);
        budgets[nbudgets++] = b;
    }
    b->users++;
    b->last_used_ms = hret_clock_now_ms();
    pthread_mutex_unlock(&lock);
    return b;
}

void hret_budget_put(struct hret_budget *b)
{
    if (b != NULL) {
        pthread_mutex_lock(&lock);
        b->users--;
        b->last_used_ms = hret_clock_now_ms();
        pthread_mutex_unlock(&lock);
    }
}

/* Abandoned attempts whose time is over stop counting; lock held. */
static void settle_abandoned(struct hret_budget *b, double now)
{
    for (size_t i = 0; i < b->nbusy;) {
        if (b->busy_until[i] <= now) {
            b->busy_until[i] = b->busy_until[--b->nbusy];
            b->inflight--;
        } else {
            i++;
        }
    }
}

/* Milliseconds until an attempt of est tokens may go (0: now); lock held. */
static double wait_ms(struct hret_budget *b, long est, double now)
{
    settle_abandoned(b, now);
    hret_bucket_refill(&b->rpm, now);
    hret_bucket_refill(&b->tpm, now);
    double wait = fmax(hret_bucket_wait(&b->rpm, 1), hret_bucket_wait(&b->tpm, (double)est));
    if (b->inflight >= b->max_inflight) {
        wait = fmax(wait, BLOCKED_POLL_MS);
    }
    if (!fleet_on || !has_fleet(b)) {
        return wait;
    }
    if (!b->shared) {
        return fmax(wait, UNSHARED_POLL_MS);
    }
    hret_bucket_refill(&b->frpm, now);
    hret_bucket_refill(&b->ftpm, now);
    wait = fmax(wait, fmax(hret_bucket_wait(&b->frpm, 1), hret_bucket_wait(&b->ftpm, (double)est)));
    if (b->share_inflight >= 0 && b->inflight >= b->share_inflight) {
        wait = fmax(wait, BLOCKED_POLL_MS);
    }
    return wait;
}

static double gate_acquire(void *user, long est)
{
    struct hret_budget *b = user;
    pthread_mutex_lock(&lock);
    double now = hret_clock_now_ms();
    double wait = wait_ms(b, est, now);
    if (wait <= 0) {
        b->inflight++;
        b->last_used_ms = now;
        hret_bucket_take(&b->rpm, 1);
        hret_bucket_take(&b->tpm, (double)est);
        hret_bucket_take(&b->frpm, 1);
        hret_bucket_take(&b->ftpm, (double)est);
    }
    pthread_mutex_unlock(&lock);
    return wait;
}

/* An attempt abandoned before its answer (a run cancelled on a lost lease, a worker stopping)
 * keeps its place until its timeout: the server may still be working on it, and a sibling run
 * sending in its place would put more than max_inflight on the model (e2e.fleet_stall). */
static void gate_release(void *user, double busy_until_ms)
{
    struct hret_budget *b = user;
    pthread_mutex_lock(&lock);
    if (busy_until_ms > hret_clock_now_ms()) {
        b->busy_until = hret_xrealloc(b->busy_until, (b->nbusy + 1) * sizeof *b->busy_until);
        b->busy_until[b->nbusy++] = busy_until_ms;
    } else {
        b->inflight--;
    }
    pthread_mutex_unlock(&lock);
}

static void gate_adjust(void *user, long delta)
{
    struct hret_budget *b = user;
    pthread_mutex_lock(&lock);
    hret_bucket_take(&b->tpm, (double)delta);
    hret_bucket_take(&b->ftpm, (double)delta);
    pthread_mutex_unlock(&lock);
}

void hret_budget_gate(struct hret_budget *b, struct hret_http_gate *out)
{
    *out = (struct hret_http_gate){gate_acquire, gate_release, gate_adjust, b};
}

void hret_budget_fleet_on(void)
{
    pthread_mutex_lock(&lock);
    fleet_on = true;
    pthread_mutex_unlock(&lock);
}

size_t hret_budget_demand(struct hret_budget_demand *out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&lock);
    double now = hret_clock_now_ms();
    for (size_t i = 0; i < nbudgets && n < cap; i++) {
        const struct hret_budget *b = budgets[i];
        if (has_fleet(b) &&
            (b->users > 0 || b->inflight > 0 || now - b->last_used_ms < IDLE_KEEP_MS)) {
            snprintf(out[n].name, sizeof out[n].name, "%s", b->name);
            out[n].fleet_rpm = b->fleet_rpm;
            out[n].fleet_tpm = b->fleet_tpm;
            out[n].fleet_max_inflight = b->fleet_max_inflight;
            n++;
        }
    }
    pthread_mutex_unlock(&lock);
    return n;
}

/* A share bucket: rate per minute, a second's worth of burst; kept tokens when already set. */
static void set_rate(struct hret_bucket *s, double per_minute, bool keep, double now)
{
    double tokens = s->tokens;
    hret_bucket_init(s, per_minute, per_minute / 60.0, false, now);
    if (keep && s->capacity > 0) {
        s->tokens = fmin(tokens, s->capacity);
    }
}

void hret_budget_share(const char *model, double rpm, double tpm, long max_inflight)
{
    pthread_mutex_lock(&lock);
    struct hret_budget *b = find(model);
    if (b != NULL) {
        double now = hret_clock_now_ms();
        hret_bucket_refill(&b->frpm, now);
        hret_bucket_refill(&b->ftpm, now);
        /* a zero share of a set limit must block, not read as "unlimited" */
        set_rate(&b->frpm, b->fleet_rpm > 0 ? fmax(rpm, 1e-9) : 0, b->shared, now);
        set_rate(&b->ftpm, b->fleet_tpm > 0 ? fmax(tpm, 1e-9) : 0, b->shared, now);
        b->share_inflight = b->fleet_max_inflight > 0 ? max_inflight : -1;
        b->shared = true;
    }
    pthread_mutex_unlock(&lock);
}

void hret_budget_unshare(const char *model)
{
    pthread_mutex_lock(&lock);
    struct hret_budget *b = find(model);
    if (b != NULL) {
        b->shared = false;
    }
    pthread_mutex_unlock(&lock);
}
