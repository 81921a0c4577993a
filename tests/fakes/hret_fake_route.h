/* fake-llm's routes and what it reads from a request's headers: the endpoint of a method and
 * path, the dialect's auth/version headers, and the gateway headers --require-header asks for. */
#ifndef HRET_FAKE_ROUTE_H
#define HRET_FAKE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "hret_fake_config.h"
#include "hret_fake_dialect.h"
#include "hret_fake_reply.h"
#include "hret_fake_stats.h"

/* The endpoint of method + path; an Azure route's deployment goes to deployment (cap bytes). */
enum hret_fake_endpoint hret_fake_route(const char *method, const char *url, char *deployment,
                                        size_t cap);
/* Counted in /fake/stats / answered as a model call. */
bool hret_fake_route_counted(enum hret_fake_endpoint ep);
bool hret_fake_route_model_call(enum hret_fake_endpoint ep);
/* What the dialect checks need (all borrowed from conn, deployment and expected_key). */
struct hret_fake_call hret_fake_route_call(struct MHD_Connection *conn, enum hret_fake_endpoint ep,
                                           const char *deployment, const char *expected_key);
/* --require-header: false with a 403 set when one is missing or differs. */
bool hret_fake_route_headers(const struct hret_fake_config *cfg, struct MHD_Connection *conn,
                             struct hret_fake_reply *r);

#endif
