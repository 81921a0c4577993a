#include "hret_request_walk.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_config.h"
#include "hret_dataset_path.h"
#include "hret_mem.h"

enum hret_result hret_request_fail(struct hret_request_ctx *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->path[0] != '\0') {
        return hret_err_set(c->err, HRET_E_INVAL, "%s: %s", c->path, msg);
    }
    return hret_err_set(c->err, HRET_E_INVAL, "%s", msg);
}

size_t hret_request_push_key(struct hret_request_ctx *c, const char *key)
{
    size_t mark = strlen(c->path);
    snprintf(c->path + mark, sizeof c->path - mark, "%s%s", mark ? "." : "", key);
    return mark;
}

size_t hret_request_push_index(struct hret_request_ctx *c, size_t i)
{
    size_t mark = strlen(c->path);
    snprintf(c->path + mark, sizeof c->path - mark, "[%zu]", i);
    return mark;
}

static bool matches(const char *s, const char *first, const char *rest, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || strchr(first, s[0]) == NULL) {
        return false;
    }
    return strspn(s + 1, rest) == n - 1;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static enum hret_result get_string(struct hret_request_ctx *c, const cJSON *v,
                                   enum hret_request_ftype t, char **out)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    bool ok = s != NULL;
    if (ok && t == HRET_REQUEST_F_ID) {
        ok = matches(s, ALNUM, ALNUM "._:-", 128);
    } else if (ok && t == HRET_REQUEST_F_NAME) {
        ok = matches(s, ALNUM "_", ALNUM "_.:/@+-", 128);
    } else if (ok && t == HRET_REQUEST_F_PART) {
        ok = hret_dataset_part_ok(s);
    } else if (ok) {
        ok = s[0] != '\0' && strlen(s) <= (t == HRET_REQUEST_F_DIR ? 1024 : 256);
    }
    if (ok && t == HRET_REQUEST_F_DIR) {
        const char *p = s;
        for (; *p; p += strcspn(p, "/"), p += *p == '/') {
            if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0')) {
                break;
            }
        }
        if (s[0] == '/' || *p != '\0') {
            return hret_request_fail(
                c, "expected a directory below datasets.root (no leading '/', no '..')");
        }
    }
    if (!ok) {
        switch (t) {
        case HRET_REQUEST_F_ID:
            return hret_request_fail(c,
                                     "expected an id of letters, digits and . _ : - (at most 128)");
        case HRET_REQUEST_F_NAME:
            return hret_request_fail(
                c, "expected a name of letters, digits and _ . : / @ + - (at most 128)");
        case HRET_REQUEST_F_PART:
            return hret_request_fail(c, "expected " HRET_DATASET_PART_RULE);
        default:
            return hret_request_fail(c, "expected a non-empty string of at most %d bytes",
                                     t == HRET_REQUEST_F_DIR ? 1024 : 256);
        }
    }
    free(*out); /* a PipelineRunner key may have set it already */
    *out = hret_xstrdup(s);
    return HRET_OK;
}

static enum hret_result get_number(struct hret_request_ctx *c, const cJSON *v,
                                   const struct hret_request_field *f, void *dst)
{
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    bool integral = d == floor(d);
    if (f->type == HRET_REQUEST_F_INT &&
        !(cJSON_IsNumber(v) && integral && d >= f->min && d <= f->max)) {
        if (f->min == 0 && f->max >= HRET_REQUEST_BIG) {
            return hret_request_fail(c, "expected a non-negative integer");
        }
        return hret_request_fail(c, "expected an integer between %.0f and %.0f", f->min, f->max);
    }
    if (f->type == HRET_REQUEST_F_NUM && !(cJSON_IsNumber(v) && d >= f->min && d <= f->max)) {
        return hret_request_fail(c, "expected a number between %g and %g", f->min, f->max);
    }
    if (f->type == HRET_REQUEST_F_INT) {
        *(long long *)dst = (long long)d;
    } else {
        *(double *)dst = d;
    }
    return HRET_OK;
}

static enum hret_result get_strings(struct hret_request_ctx *c, const cJSON *v,
                                    const struct hret_request_field *f, struct hret_strlist *out)
{
    if (f->type == HRET_REQUEST_F_SUBSET && cJSON_IsString(v)) {
        if (!hret_dataset_part_ok(v->valuestring)) {
            return hret_request_fail(c, "expected " HRET_DATASET_PART_RULE);
        }
        hret_strlist_fini(out);
        hret_strlist_push(out, hret_xstrdup(v->valuestring));
        return HRET_OK;
    }
    const char *what = f->type == HRET_REQUEST_F_SUBSET
                           ? "expected a subset name or a non-empty list of them"
                           : "expected a list of names";
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n < (f->type == HRET_REQUEST_F_SUBSET ? 1 : 0) || n > (int)f->max) {
        return n > (int)f->max ? hret_request_fail(c, "at most %.0f entries", f->max)
                               : hret_request_fail(c, "%s", what);
    }
    hret_strlist_fini(out);
    size_t i = 0;
    for (const cJSON *e = v->child; e != NULL; e = e->next, i++) {
        const char *s = cJSON_IsString(e) ? e->valuestring : NULL;
        bool ok = s != NULL &&
                  (f->type == HRET_REQUEST_F_SUBSET ? hret_dataset_part_ok(s)
                                                    : matches(s, ALNUM "_", ALNUM "_.:/@+-", 128));
        if (!ok) {
            hret_request_push_index(c, i);
            return hret_request_fail(c, "%s",
                                     f->type == HRET_REQUEST_F_SUBSET
                                         ? "expected " HRET_DATASET_PART_RULE
                                         : "expected a metric name");
        }
        hret_strlist_push(out, hret_xstrdup(s));
    }
    return HRET_OK;
}

static enum hret_result get_list(struct hret_request_ctx *c, const cJSON *v,
                                 const struct hret_request_field *f, char *base)
{
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n < 1 || n > (int)f->max) {
        return hret_request_fail(c, "expected a list of 1 to %.0f objects", f->max);
    }
    char *items = hret_xcalloc((size_t)n, f->sub->size);
    *(void **)(base + f->offset) = items;
    size_t *count = (size_t *)(base + f->count_off);
    for (const cJSON *e = v->child; e != NULL; e = e->next) {
        char *item = items + *count * f->sub->size;
        if (f->sub->init != NULL) {
            f->sub->init(item);
        }
        size_t mark = hret_request_push_index(c, *count);
        (*count)++; /* counted first: a half-parsed element is freed too */
        if (hret_request_walk(c, e, f->sub, item) != HRET_OK) {
            return HRET_E_INVAL;
        }
        c->path[mark] = '\0';
    }
    return HRET_OK;
}

static enum hret_result get_field(struct hret_request_ctx *c, const cJSON *v,
                                  const struct hret_request_field *f, char *base)
{
    void *dst = base + f->offset;
    switch (f->type) {
    case HRET_REQUEST_F_ID:
    case HRET_REQUEST_F_NAME:
    case HRET_REQUEST_F_PART:
    case HRET_REQUEST_F_LABEL:
    case HRET_REQUEST_F_DIR:
        return get_string(c, v, f->type, (char **)dst);
    case HRET_REQUEST_F_INT:
    case HRET_REQUEST_F_NUM:
        return get_number(c, v, f, dst);
    case HRET_REQUEST_F_BOOL:
        if (!cJSON_IsBool(v)) {
            return hret_request_fail(c, "expected true or false");
        }
        *(bool *)dst = cJSON_IsTrue(v);
        return HRET_OK;
    case HRET_REQUEST_F_OBJECT:
        if (!cJSON_IsObject(v)) {
            return hret_request_fail(c, "expected an object");
        }
        *(const cJSON **)dst = v;
        return HRET_OK;
    case HRET_REQUEST_F_SUBSET:
    case HRET_REQUEST_F_NAMES:
        return get_strings(c, v, f, dst);
    case HRET_REQUEST_F_SECTION:
        return hret_request_walk(c, v, f->sub, dst);
    case HRET_REQUEST_F_TRACK:
        if (cJSON_IsBool(v)) {
            *(int *)dst = cJSON_IsTrue(v);
            return HRET_OK;
        }
        if (f->sub == NULL || !cJSON_IsObject(v)) {
            return hret_request_fail(c, f->sub ? "expected true, false or an object"
                                               : "expected true or false");
        }
        *(int *)dst = 1;
        return hret_request_walk(c, v, f->sub, base);
    case HRET_REQUEST_F_BACKEND:
        if (cJSON_IsString(v) && strcmp(v->valuestring, "openai_chat") == 0) {
            *(int *)dst = HRET_BACKEND_OPENAI_CHAT;
        } else if (cJSON_IsString(v) && strcmp(v->valuestring, "openai_completions") == 0) {
            *(int *)dst = HRET_BACKEND_OPENAI_COMPLETIONS;
        } else {
            return hret_request_fail(c, "expected openai_chat or openai_completions");
        }
        return HRET_OK;
    case HRET_REQUEST_F_LIST:
        return get_list(c, v, f, base);
    }
    return hret_request_fail(c, "internal: unhandled field type");
}

static void key_list(const struct hret_request_table *t, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const struct hret_request_field *f = t->fields; f->key != NULL && used < cap; f++) {
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", f->key);
    }
}

enum hret_result hret_request_walk(struct hret_request_ctx *c, const cJSON *obj,
                                   const struct hret_request_table *t, char *base)
{
    if (!cJSON_IsObject(obj)) {
        return hret_request_fail(c, "expected an object");
    }
    for (const cJSON *v = obj->child; v != NULL; v = v->next) {
        for (const cJSON *prev = obj->child; prev != v; prev = prev->next) {
            if (strcmp(prev->string, v->string) == 0) {
                hret_request_push_key(c, v->string);
                return hret_request_fail(c, "duplicate key");
            }
        }
        const struct hret_request_field *f = t->fields;
        while (f->key != NULL && strcmp(f->key, v->string) != 0) {
            f++;
        }
        size_t mark = hret_request_push_key(c, v->string);
        if (f->key == NULL) {
            char keys[300];
            key_list(t, keys, sizeof keys);
            return hret_request_fail(c, "unknown key (expected one of: %s)", keys);
        }
        if (get_field(c, v, f, base) != HRET_OK) {
            return HRET_E_INVAL;
        }
        c->path[mark] = '\0';
    }
    for (const struct hret_request_field *f = t->fields; f->key != NULL; f++) {
        if (f->required && cJSON_GetObjectItemCaseSensitive(obj, f->key) == NULL) {
            return hret_request_fail(c, "missing key '%s'", f->key);
        }
    }
    return HRET_OK;
}
