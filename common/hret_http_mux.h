/* The engine's event loop: curl transfers spread over lanes (curl multi handles), every socket of
 * every lane watched by one epoll set, each lane's timer kept, finished transfers handed back.
 *
 * Why lanes: before it reuses a connection, libcurl (7.88 and 8.x) walks every connection it holds
 * to the same host, in use or not, so one multi handle pays O(connections) per request. With
 * 4,096 requests in flight that walk was most of the engine's CPU (perf: libcurl's
 * Curl_conn_is_connected on each busy connection) and throughput fell to 0.41 of what the server
 * answers. A lane holds at most HRET_MUX_LANE_TRANSFERS transfers; a new transfer goes to the
 * least busy lane, and a new lane is opened only when all are full, so up to that many in flight
 * nothing changes.
 *
 * Sockets we open ourselves (hret_mux_open_socket, CLOSESOCKETFUNCTION hret_mux_close_socket) stay
 * registered with epoll while their keep-alive connection is idle, saving two syscalls per
 * request; an event on such a parked socket (the server closed it) unregisters it.
 *
 * Single-threaded, like the engine that owns it. */
#ifndef HRET_HTTP_MUX_H
#define HRET_HTTP_MUX_H

#include <stdbool.h>

#include <curl/curl.h>

#include "hret_err.h"

#define HRET_MUX_LANE_TRANSFERS 256

struct hret_mux;

/* Called for each finished transfer, after it left its lane. */
typedef void hret_mux_done_fn(void *user, CURL *easy, CURLcode result);

struct hret_mux *hret_mux_new(hret_mux_done_fn *done, void *user, struct hret_err *err);
/* Every transfer must have been removed first. */
void hret_mux_destroy(struct hret_mux *m);

/* Starts easy on the least busy lane; returns that lane, which hret_mux_remove takes. */
int hret_mux_add(struct hret_mux *m, CURL *easy);
/* Takes a transfer out of its lane (a finished one already is: done is called after). */
void hret_mux_remove(struct hret_mux *m, int lane, CURL *easy);

/* For CURLOPT_OPENSOCKETFUNCTION (data: the mux) and CURLOPT_CLOSESOCKETFUNCTION. */
curl_socket_t hret_mux_open_socket(void *mux, curlsocktype purpose, struct curl_sockaddr *addr);
int hret_mux_close_socket(void *mux, curl_socket_t s);

/* Acts on due lane timers (curl starts what was added on a zero timer) and calls done for what
 * finished, without waiting. */
void hret_mux_drive(struct hret_mux *m);
/* Also wakes hret_mux_wait when fd (another event loop's epoll descriptor: hret_h1's) is readable;
 * its events are left to their owner. */
void hret_mux_wake_on(struct hret_mux *m, int fd);

/* Waits up to wait_ms (less if a lane's timer is due sooner) for socket events, acts on them and
 * on due timers, and calls done for what finished. True when the hret_mux_wake_on descriptor is
 * readable. */
bool hret_mux_wait(struct hret_mux *m, double wait_ms);

#endif
