/* `hret api`: the HTTP front door on api.listen (libmicrohttpd, a thread per connection so an
 * event stream can wait without holding up the others). Every request is read with a body cap
 * (api.max_body_bytes: 413 past it), authenticated by its bearer token against
 * api.tokens_file (401 without one or with an unknown one, 403 when the token lacks the route's
 * scope), rate-limited per token (429 with Retry-After), answered by its route
 * (hret_api_routes.h) and written to the log as one audit line naming the token's name, never
 * the token. CORS headers only for the origins in api.cors_origins. */
#ifndef HRET_API_H
#define HRET_API_H

#include "hret_config.h"
#include "hret_err.h"

struct hret_api;

/* Starts the server for cfg (borrowed, must outlive it) with conninfo (borrowed) for its
 * database connections; the tokens file is read now and again whenever it changes. The spec
 * (openapi_json, borrowed) is served at /v1/openapi.json. Caller owns *out. */
enum hret_result hret_api_start(const struct hret_config *cfg, const char *conninfo,
                                const char *openapi_json, struct hret_api **out,
                                struct hret_err *err);
/* Ends the event streams and stops the server (waiting for its threads). */
void hret_api_stop(struct hret_api *api);
/* The bound port. */
unsigned hret_api_port(const struct hret_api *api);
/* From the main loop: re-reads the tokens file when it changed (a revoked token stops working
 * within a second). */
void hret_api_tick(struct hret_api *api);

#endif
