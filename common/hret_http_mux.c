#include "hret_http_mux.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hret_clock.h"
#include "hret_mem.h"

/* Per socket: whether we opened it, whether epoll watches it (and for which events), whether its
 * connection is idle, and its lane. */
#define FD_OWNED 0x40000000u
#define FD_REGISTERED 0x20000000u
#define FD_PARKED 0x10000000u
#define FD_LANE_SHIFT 16
#define FD_LANE_MASK 0x0fff0000u
#define FD_EVENTS 0x0000ffffu
#define LANES_MAX ((int)(FD_LANE_MASK >> FD_LANE_SHIFT) + 1)

struct lane {
    struct hret_mux *m; /* for curl's callbacks */
    int index;
    CURLM *multi;
    double timer_at; /* when curl wants CURL_SOCKET_TIMEOUT; INFINITY = never */
    size_t transfers;
};

struct hret_mux {
    int epfd;
    int wake_fd;         /* hret_mux_wake_on's, or -1 */
    struct lane **lanes; /* pointers: curl keeps the address of each */
    int nlanes;
    uint32_t *fds; /* indexed by socket */
    size_t nfds;
    hret_mux_done_fn *done;
    void *user;
};

static uint32_t *fd_state(struct hret_mux *m, curl_socket_t s)
{
    if ((size_t)s >= m->nfds) {
        size_t n = m->nfds ? m->nfds : 1024;
        while (n <= (size_t)s) {
            n *= 2;
        }
        m->fds = hret_xrealloc(m->fds, n * sizeof *m->fds);
        memset(m->fds + m->nfds, 0, (n - m->nfds) * sizeof *m->fds);
        m->nfds = n;
    }
    return &m->fds[s];
}

curl_socket_t hret_mux_open_socket(void *mux, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)purpose;
    curl_socket_t s = socket(addr->family, addr->socktype, addr->protocol);
    if (s != CURL_SOCKET_BAD) {
        *fd_state(mux, s) = FD_OWNED;
    }
    return s;
}

int hret_mux_close_socket(void *mux, curl_socket_t s)
{
    struct hret_mux *m = mux;
    uint32_t *st = fd_state(m, s);
    if (*st & FD_REGISTERED) {
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, s, NULL);
    }
    *st = 0;
    return close(s);
}

/* curl says which sockets of a lane to watch for what. A keep-alive connection going idle is
 * REMOVEd and asked for again by its next request: ours are parked instead of unregistered. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy, (void)socketp;
    struct lane *l = userp;
    struct hret_mux *m = l->m;
    uint32_t *st = fd_state(m, s);
    if (what == CURL_POLL_REMOVE) {
        if ((*st & FD_OWNED) && (*st & FD_REGISTERED)) {
            *st |= FD_PARKED;
        } else if (*st & FD_REGISTERED) {
            epoll_ctl(m->epfd, EPOLL_CTL_DEL, s, NULL);
            *st &= ~(FD_REGISTERED | FD_EVENTS);
        }
        return 0;
    }
    uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    struct epoll_event ev = {.events = events, .data.fd = s};
    if (!(*st & FD_REGISTERED)) {
        epoll_ctl(m->epfd, EPOLL_CTL_ADD, s, &ev);
    } else if ((*st & FD_EVENTS) != events) {
        epoll_ctl(m->epfd, EPOLL_CTL_MOD, s, &ev);
    }
    *st = (*st & FD_OWNED) | FD_REGISTERED | ((uint32_t)l->index << FD_LANE_SHIFT) | events;
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct lane *l = userp;
    l->timer_at = timeout_ms < 0 ? INFINITY : hret_clock_now_ms() + (double)timeout_ms;
    return 0;
}

static struct lane *lane_open(struct hret_mux *m)
{
    CURLM *multi = curl_multi_init();
    if (multi == NULL) {
        return NULL;
    }
    struct lane *l = hret_xcalloc(1, sizeof *l);
    *l = (struct lane){.m = m, .index = m->nlanes, .multi = multi, .timer_at = INFINITY};
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, l);
    m->lanes = hret_xrealloc(m->lanes, (size_t)(m->nlanes + 1) * sizeof *m->lanes);
    m->lanes[m->nlanes++] = l;
    return l;
}

struct hret_mux *hret_mux_new(hret_mux_done_fn *done, void *user, struct hret_err *err)
{
    struct hret_mux *m = hret_xcalloc(1, sizeof *m);
    m->done = done;
    m->user = user;
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    m->wake_fd = -1;
    if (m->epfd < 0 || lane_open(m) == NULL) {
        hret_err_set(err, HRET_E_FATAL, "cannot create the HTTP engine (curl multi, epoll)");
        hret_mux_destroy(m);
        return NULL;
    }
    return m;
}

void hret_mux_destroy(struct hret_mux *m)
{
    if (m == NULL) {
        return;
    }
    for (int i = 0; i < m->nlanes; i++) {
        curl_multi_cleanup(m->lanes[i]->multi); /* closes the lane's connections */
        free(m->lanes[i]);
    }
    free(m->lanes);
    if (m->epfd >= 0) {
        close(m->epfd);
    }
    free(m->fds);
    free(m);
}

int hret_mux_add(struct hret_mux *m, CURL *easy)
{
    struct lane *best = m->lanes[0];
    for (int i = 1; i < m->nlanes && best->transfers > 0; i++) {
        if (m->lanes[i]->transfers < best->transfers) {
            best = m->lanes[i];
        }
    }
    if (best->transfers >= HRET_MUX_LANE_TRANSFERS && m->nlanes < LANES_MAX) {
        struct lane *l = lane_open(m);
        best = l != NULL ? l : best;
    }
    best->transfers++;
    curl_multi_add_handle(best->multi, easy);
    return best->index;
}

void hret_mux_remove(struct hret_mux *m, int lane, CURL *easy)
{
    struct lane *l = m->lanes[lane];
    curl_multi_remove_handle(l->multi, easy);
    l->transfers--;
}

/* Hands back what finished in lane l. */
static void drain(struct hret_mux *m, struct lane *l)
{
    int left = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            CURL *easy = msg->easy_handle;
            CURLcode result = msg->data.result;
            hret_mux_remove(m, l->index, easy);
            m->done(m->user, easy, result);
        }
    }
}

/* Fires due lane timers, then hands back what finished in any lane. */
static void settle(struct hret_mux *m)
{
    int running = 0;
    double now = hret_clock_now_ms();
    for (int i = 0; i < m->nlanes; i++) {
        struct lane *l = m->lanes[i];
        if (now >= l->timer_at) {
            l->timer_at = INFINITY;
            curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
    }
    for (int i = 0; i < m->nlanes; i++) {
        drain(m, m->lanes[i]);
    }
}

void hret_mux_drive(struct hret_mux *m)
{
    settle(m);
}

void hret_mux_wake_on(struct hret_mux *m, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
        m->wake_fd = fd;
    }
}

bool hret_mux_wait(struct hret_mux *m, double wait_ms)
{
    double now = hret_clock_now_ms();
    for (int i = 0; i < m->nlanes; i++) {
        wait_ms = fmin(wait_ms, fmax(0.0, m->lanes[i]->timer_at - now));
    }
    struct epoll_event events[256];
    int n = epoll_wait(m->epfd, events, (int)(sizeof events / sizeof events[0]),
                       (int)ceil(fmax(0.0, wait_ms)));
    int running = 0;
    bool woken = false;
    for (int i = 0; i < n; i++) {
        int s = events[i].data.fd;
        if (s == m->wake_fd) {
            woken = true;
            continue;
        }
        uint32_t *st = fd_state(m, s);
        if (*st & FD_PARKED) { /* an idle connection woke up: closed by the server */
            epoll_ctl(m->epfd, EPOLL_CTL_DEL, s, NULL);
            *st &= ~(FD_REGISTERED | FD_PARKED | FD_EVENTS);
            continue;
        }
        int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                    (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                    (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        struct lane *l = m->lanes[(*st & FD_LANE_MASK) >> FD_LANE_SHIFT];
        curl_multi_socket_action(l->multi, s, flags, &running);
    }
    settle(m);
    return woken;
}
