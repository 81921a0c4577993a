#include "hret_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_utf8.h"

cJSON *hret_json_parse(const char *text, size_t len, size_t max_len, struct hret_err *err)
{
    if (len > max_len) {
        hret_err_set(err, HRET_E_PROTO, "JSON document of %zu bytes exceeds the %zu-byte limit",
                     len, max_len);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (root == NULL) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        hret_err_set(err, HRET_E_PROTO, "invalid JSON at byte %zu", at);
        return NULL;
    }
    size_t at = (size_t)(end - text);
    while (at < len && (text[at] == ' ' || text[at] == '\n' || text[at] == '\r' ||
                        text[at] == '\t' || text[at] == '\0')) {
        at++;
    }
    if (at < len) {
        cJSON_Delete(root);
        hret_err_set(err, HRET_E_PROTO, "trailing data after JSON at byte %zu", at);
        return NULL;
    }
    return root;
}

/* Finds key; returns NULL with HRET_OK in *r when absent and optional. */
static const cJSON *member(const cJSON *obj, const char *key, bool required, enum hret_result *r,
                           struct hret_err *err)
{
    const cJSON *item = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (item == NULL || cJSON_IsNull(item)) {
        *r = required ? hret_err_set(err, HRET_E_INVAL, "'%s': required", key) : HRET_OK;
        return NULL;
    }
    *r = HRET_OK;
    return item;
}

static enum hret_result wrong_type(const char *key, const char *want, struct hret_err *err)
{
    return hret_err_set(err, HRET_E_INVAL, "'%s': expected %s", key, want);
}

enum hret_result hret_json_get_string(const cJSON *obj, const char *key, bool required,
                                      const char **out, struct hret_err *err)
{
    enum hret_result r;
    const cJSON *item = member(obj, key, required, &r, err);
    if (item == NULL) {
        return r;
    }
    if (!cJSON_IsString(item)) {
        return wrong_type(key, "a string", err);
    }
    *out = item->valuestring;
    return HRET_OK;
}

enum hret_result hret_json_get_double(const cJSON *obj, const char *key, bool required, double *out,
                                      struct hret_err *err)
{
    enum hret_result r;
    const cJSON *item = member(obj, key, required, &r, err);
    if (item == NULL) {
        return r;
    }
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
        return wrong_type(key, "a number", err);
    }
    *out = item->valuedouble;
    return HRET_OK;
}

enum hret_result hret_json_get_int(const cJSON *obj, const char *key, bool required, long long *out,
                                   struct hret_err *err)
{
    enum hret_result r;
    const cJSON *item = member(obj, key, required, &r, err);
    if (item == NULL) {
        return r;
    }
    double d = item->valuedouble;
    if (!cJSON_IsNumber(item) || d != floor(d) || fabs(d) > 9007199254740992.0) {
        return wrong_type(key, "an integer", err);
    }
    *out = (long long)d;
    return HRET_OK;
}

enum hret_result hret_json_get_bool(const cJSON *obj, const char *key, bool required, bool *out,
                                    struct hret_err *err)
{
    enum hret_result r;
    const cJSON *item = member(obj, key, required, &r, err);
    if (item == NULL) {
        return r;
    }
    if (!cJSON_IsBool(item)) {
        return wrong_type(key, "true or false", err);
    }
    *out = cJSON_IsTrue(item);
    return HRET_OK;
}

enum hret_result hret_json_get_object(const cJSON *obj, const char *key, bool required,
                                      const cJSON **out, struct hret_err *err)
{
    enum hret_result r;
    const cJSON *item = member(obj, key, required, &r, err);
    if (item == NULL) {
        return r;
    }
    if (!cJSON_IsObject(item)) {
        return wrong_type(key, "an object", err);
    }
    *out = item;
    return HRET_OK;
}

enum hret_result hret_json_get_array(const cJSON *obj, const char *key, bool required,
                                     const cJSON **out, struct hret_err *err)
{
    enum hret_result r;
    const cJSON *item = member(obj, key, required, &r, err);
    if (item == NULL) {
        return r;
    }
    if (!cJSON_IsArray(item)) {
        return wrong_type(key, "an array", err);
    }
    *out = item;
    return HRET_OK;
}

char *hret_json_print(const cJSON *item)
{
    char *s = cJSON_PrintUnformatted(item);
    if (s == NULL) {
        fputs("level=fatal comp=json msg=\"out of memory printing JSON\"\n", stderr);
        abort();
    }
    size_t replaced = 0, first = 0;
    char *clean = hret_utf8_sanitize(s, strlen(s), NULL, &replaced, &first);
    if (clean != NULL) { /* invalid bytes in a string (a model reply, an input line) */
        free(s);
        return clean;
    }
    return s;
}
