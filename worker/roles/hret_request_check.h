/* Pure checks on untrusted request input, shared by the request parser and its tests: the raw
 * bytes (size, UTF-8, nesting), keys that name secrets, and inline endpoint URLs. No I/O. */
#ifndef HRET_REQUEST_CHECK_H
#define HRET_REQUEST_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_config.h"
#include "hret_err.h"

/* Refuses text (borrowed, len bytes) longer than max_len, with invalid UTF-8 (overlong forms and
 * surrogates included), with a "\u0000" escape, or nested deeper than max_depth arrays/objects.
 * HRET_E_INVAL with the byte offset on failure. Runs before the JSON parser, so a hostile
 * document never reaches it. */
enum hret_result hret_request_prescan(const char *text, size_t len, size_t max_len, int max_depth,
                                      struct hret_err *err);

/* True when key (borrowed) names a secret: case-insensitively it contains password, passwd,
 * secret, authorization, credential, cookie, bearer, apikey, api_key (or api-key), private_key,
 * privatekey, access_key, accesskey, or ends with "token" - unless it ends with "_env" or
 * "_file" (the name of where a secret lives). The request schema has the same rule. */
bool hret_request_key_is_secret(const char *key);

/* Walks doc (borrowed) depth first; on the first secret key writes its JSON path into path
 * (cap bytes) and returns true. */
bool hret_request_find_secret(const cJSON *doc, char *path, size_t cap);

/* Checks an inline endpoint URL (borrowed) against the endpoint policy (borrowed): inline
 * endpoints allowed at all, http or https, no user information, no metadata host name or odd
 * numeric form, a literal address allowed by its class (hret_netguard.h: link-local, metadata,
 * multicast, unspecified never; loopback and private only with allow_private_networks), and host
 * and port on the allowlist ("host[:port]", "*.domain[:port]", "[v6][:port]"; host names
 * case-insensitive; an entry without a port allows 80 and 443). Names are checked again on the
 * address connected to (the model's net_policy). On refusal writes the reason to why (cap bytes)
 * and returns false. */
bool hret_request_check_url(const char *url, const struct hret_endpoints_config *policy, char *why,
                            size_t cap);

#endif
