/* The API's bearer tokens. `hret api token add NAME --scopes submit,read` makes a token of 32
 * random bytes ("hret_" + 64 hex digits), prints it once and appends only its SHA-256 to
 * api.tokens_file, one line per token:
 *
 *     NAME SCOPES sha256:HEX CREATED        e.g.  ci submit,read sha256:9f86...08
 * 2026-12-07T10:00:00Z
 *
 * (lines starting with '#' and blank lines are ignored). The server keeps the parsed file and
 * matches a presented token by its hash, comparing in constant time; a token is never stored,
 * logged or compared as text. Names are 1-64 of [A-Za-z0-9._-], unique in the file. */
#ifndef HRET_API_TOKEN_H
#define HRET_API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "hret_err.h"

#define HRET_API_TOKEN_PREFIX "hret_"
#define HRET_API_TOKEN_LEN (5 + 64) /* prefix + hex of 32 random bytes */
#define HRET_API_NAME_MAX 64
#define HRET_API_TOKENS_MAX_BYTES (4 << 20) /* a tokens file larger than this is refused */

enum hret_api_scope {
    HRET_API_SCOPE_SUBMIT = 1, /* POST /v1/requests */
    HRET_API_SCOPE_READ = 2,   /* every GET under /v1 */
};

struct hret_api_token {
    char name[HRET_API_NAME_MAX + 1];
    unsigned scopes; /* enum hret_api_scope bits */
    char hash[65];   /* SHA-256 hex of the token */
    char created[32];
};

struct hret_api_tokens {
    struct hret_api_token *items; /* owned */
    size_t count;
};

/* Parses a tokens file's text (len bytes, borrowed) into out (zeroed by the caller; release
 * with hret_api_tokens_fini). A malformed line is HRET_E_CONFIG naming where ("FILE:LINE: ...",
 * where = the file's name for messages). Pure. */
enum hret_result hret_api_tokens_parse(const char *text, size_t len, const char *where,
                                       struct hret_api_tokens *out, struct hret_err *err);
/* Reads and parses path; a missing file is an empty list. */
enum hret_result hret_api_tokens_load(const char *path, struct hret_api_tokens *out,
                                      struct hret_err *err);
void hret_api_tokens_fini(struct hret_api_tokens *t);

/* The entry whose hash is the presented token's (borrowed), or NULL. Every entry is compared,
 * each in constant time, so timing tells nothing about which or how much matched. */
const struct hret_api_token *hret_api_tokens_match(const struct hret_api_tokens *t,
                                                   const char *token);

/* "submit,read" -> bits; HRET_E_INVAL naming an unknown scope or an empty list. */
enum hret_result hret_api_scopes_parse(const char *text, unsigned *out, struct hret_err *err);
/* bits -> "submit,read" into out (cap bytes). */
void hret_api_scopes_format(unsigned scopes, char *out, size_t cap);
bool hret_api_name_valid(const char *name);

/* Makes a token for name with scopes, appends its line to path (created 0600 when missing;
 * under a lock on "<path>.lock", so concurrent adds never interleave) and writes the token to
 * token (HRET_API_TOKEN_LEN + 1 bytes). HRET_E_CONFLICT when the name exists. */
enum hret_result hret_api_token_add(const char *path, const char *name, unsigned scopes,
                                    char *token, struct hret_err *err);
/* Removes name's line (rewriting the file atomically under the same lock). HRET_E_INVAL when
 * there is no such name. */
enum hret_result hret_api_token_revoke(const char *path, const char *name, struct hret_err *err);

#endif
