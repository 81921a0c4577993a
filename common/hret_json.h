/* cJSON helpers: a bounded parse that names where it failed, and typed getters that fill the
 * error with the key. Getters on an absent optional key return HRET_OK and leave *out alone. */
#ifndef HRET_JSON_H
#define HRET_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"

/* Parses len bytes (no NUL needed), refusing more than max_len and trailing garbage. Caller owns
 * result; NULL on failure with err set to HRET_E_PROTO and the byte offset. */
cJSON *hret_json_parse(const char *text, size_t len, size_t max_len, struct hret_err *err);

enum hret_result hret_json_get_string(const cJSON *obj, const char *key, bool required,
                                      const char **out, struct hret_err *err); /* out borrowed */
enum hret_result hret_json_get_int(const cJSON *obj, const char *key, bool required, long long *out,
                                   struct hret_err *err);
enum hret_result hret_json_get_double(const cJSON *obj, const char *key, bool required, double *out,
                                      struct hret_err *err);
enum hret_result hret_json_get_bool(const cJSON *obj, const char *key, bool required, bool *out,
                                    struct hret_err *err);
/* Object or array members; *out borrowed. */
enum hret_result hret_json_get_object(const cJSON *obj, const char *key, bool required,
                                      const cJSON **out, struct hret_err *err);
enum hret_result hret_json_get_array(const cJSON *obj, const char *key, bool required,
                                     const cJSON **out, struct hret_err *err);

/* Compact print, always valid UTF-8 (invalid bytes in a string, from a model reply or an input
 * line, become U+FFFD); caller owns result (free()). Aborts on OOM like our own allocations. */
char *hret_json_print(const cJSON *item);

#endif
