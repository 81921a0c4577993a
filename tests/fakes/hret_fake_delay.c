#include "hret_fake_delay.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hret_mem.h"

struct timer {
    uint64_t due_ns; /* CLOCK_MONOTONIC */
    struct MHD_Connection *conn;
};

struct hret_fake_delay {
    pthread_mutex_t lock;
    pthread_cond_t wake;    /* the timer thread: new earliest deadline, or stop */
    pthread_cond_t resumed; /* drain: outstanding went down */
    struct timer *heap;     /* min-heap on due_ns */
    size_t len;
    size_t alloc;
    size_t outstanding; /* suspended and not yet seen again by their handler */
    bool draining;
    bool stop;
    pthread_t thread;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timespec to_timespec(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    return ts;
}

static void heap_swap(struct timer *h, size_t a, size_t b)
{
    struct timer t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static void heap_push(struct hret_fake_delay *d, struct timer t)
{
    if (d->len == d->alloc) {
        d->alloc = d->alloc ? d->alloc * 2 : 1024;
        d->heap = hret_xrealloc(d->heap, d->alloc * sizeof *d->heap);
    }
    size_t i = d->len++;
    d->heap[i] = t;
    while (i > 0 && d->heap[(i - 1) / 2].due_ns > d->heap[i].due_ns) {
        heap_swap(d->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct timer heap_pop(struct hret_fake_delay *d)
{
    struct timer top = d->heap[0];
    d->heap[0] = d->heap[--d->len];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1;
        size_t r = l + 1;
        size_t m = i;
        if (l < d->len && d->heap[l].due_ns < d->heap[m].due_ns) {
            m = l;
        }
        if (r < d->len && d->heap[r].due_ns < d->heap[m].due_ns) {
            m = r;
        }
        if (m == i) {
            break;
        }
        heap_swap(d->heap, i, m);
        i = m;
    }
    return top;
}

/* Resumes every connection due by now (all of them when draining). Lock held. */
static void fire_due(struct hret_fake_delay *d)
{
    uint64_t now = now_ns();
    while (d->len > 0 && (d->draining || d->heap[0].due_ns <= now)) {
        MHD_resume_connection(heap_pop(d).conn);
    }
}

static void *timer_main(void *arg)
{
    struct hret_fake_delay *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->stop) {
        fire_due(d);
        if (d->len == 0) {
            pthread_cond_wait(&d->wake, &d->lock);
        } else {
            struct timespec until = to_timespec(d->heap[0].due_ns);
            pthread_cond_timedwait(&d->wake, &d->lock, &until);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

static void init_monotonic_cond(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

struct hret_fake_delay *hret_fake_delay_new(void)
{
    struct hret_fake_delay *d = hret_xcalloc(1, sizeof *d);
    pthread_mutex_init(&d->lock, NULL);
    init_monotonic_cond(&d->wake);
    init_monotonic_cond(&d->resumed);
    int rc = pthread_create(&d->thread, NULL, timer_main, d);
    if (rc != 0) {
        fprintf(stderr, "level=fatal comp=fake-llm msg=\"cannot start the timer thread\"\n");
        abort();
    }
    return d;
}

void hret_fake_delay_destroy(struct hret_fake_delay *d)
{
    if (d == NULL) {
        return;
    }
    pthread_mutex_lock(&d->lock);
    d->stop = true;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    pthread_cond_destroy(&d->resumed);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d->heap);
    free(d);
}

bool hret_fake_delay_suspend(struct hret_fake_delay *d, struct MHD_Connection *conn, long ms)
{
    pthread_mutex_lock(&d->lock);
    bool ok = !d->draining;
    if (ok) {
        MHD_suspend_connection(conn);
        d->outstanding++;
        heap_push(d, (struct timer){now_ns() + (uint64_t)ms * 1000000u, conn});
        if (d->heap[0].conn == conn) {
            pthread_cond_signal(&d->wake);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return ok;
}

bool hret_fake_delay_resumed(struct hret_fake_delay *d)
{
    pthread_mutex_lock(&d->lock);
    d->outstanding--;
    bool draining = d->draining;
    if (draining) {
        pthread_cond_broadcast(&d->resumed);
    }
    pthread_mutex_unlock(&d->lock);
    return draining;
}

bool hret_fake_delay_drain(struct hret_fake_delay *d, long timeout_ms)
{
    struct timespec until = to_timespec(now_ns() + (uint64_t)timeout_ms * 1000000u);
    pthread_mutex_lock(&d->lock);
    d->draining = true;
    fire_due(d);
    int rc = 0;
    while (d->outstanding > 0 && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&d->resumed, &d->lock, &until);
    }
    bool done = d->outstanding == 0;
    pthread_mutex_unlock(&d->lock);
    return done;
}
