#include "hret_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"

void hret_buf_init(struct hret_buf *b, size_t max)
{
    *b = (struct hret_buf){.max = max};
}

void hret_buf_init_secret(struct hret_buf *b, size_t max)
{
    *b = (struct hret_buf){.max = max, .secret = true};
}

void hret_buf_fini(struct hret_buf *b)
{
    if (b->secret && b->data != NULL) {
        memset(b->data, 0, b->alloc);
    }
    free(b->data);
    *b = (struct hret_buf){.max = b->max, .secret = b->secret};
}

void hret_buf_reset(struct hret_buf *b)
{
    if (b->secret && b->data != NULL) {
        memset(b->data, 0, b->len);
    }
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

static enum hret_result reserve(struct hret_buf *b, size_t extra, struct hret_err *err)
{
    if (extra > b->max - b->len) {
        return hret_err_set(err, HRET_E_PROTO, "buffer cap of %zu bytes exceeded", b->max);
    }
    size_t need = b->len + extra + 1;
    if (need > b->alloc) {
        size_t alloc = b->alloc ? b->alloc : 256;
        while (alloc < need) {
            alloc *= 2;
        }
        if (b->secret && b->data != NULL) { /* moved by hand, so that the old copy is zeroed */
            char *moved = hret_xmalloc(alloc);
            memcpy(moved, b->data, b->len + 1);
            memset(b->data, 0, b->alloc);
            free(b->data);
            b->data = moved;
        } else {
            b->data = hret_xrealloc(b->data, alloc);
        }
        b->alloc = alloc;
    }
    return HRET_OK;
}

enum hret_result hret_buf_append(struct hret_buf *b, const void *p, size_t n, struct hret_err *err)
{
    enum hret_result r = reserve(b, n, err);
    if (r != HRET_OK) {
        return r;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return HRET_OK;
}

enum hret_result hret_buf_vappendf(struct hret_buf *b, struct hret_err *err, const char *fmt,
                                   va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    enum hret_result r =
        n < 0 ? hret_err_set(err, HRET_E_INVAL, "bad format string") : reserve(b, (size_t)n, err);
    if (r == HRET_OK) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
    return r;
}

enum hret_result hret_buf_appendf(struct hret_buf *b, struct hret_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum hret_result r = hret_buf_vappendf(b, err, fmt, ap);
    va_end(ap);
    return r;
}

char *hret_buf_take(struct hret_buf *b)
{
    char *p = b->data ? b->data : hret_xstrdup("");
    hret_buf_init(b, b->max);
    return p;
}

const char *hret_buf_str(const struct hret_buf *b)
{
    return b->data ? b->data : "";
}

enum hret_result hret_buf_append_file(struct hret_buf *b, const char *path, struct hret_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return hret_err_set(err, HRET_E_INVAL, "%s: cannot open: %s", path, strerror(errno));
    }
    enum hret_result r = HRET_OK;
    char chunk[65536];
    size_t n;
    while (r == HRET_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        r = hret_buf_append(b, chunk, n, err);
    }
    if (r == HRET_OK && ferror(f)) {
        r = hret_err_set(err, HRET_E_INVAL, "%s: read error", path);
    }
    if (r == HRET_OK && b->data == NULL) {
        r = hret_buf_append(b, "", 0, err); /* an empty file still yields "" */
    }
    if (r == HRET_E_PROTO) {
        hret_err_prefix(err, "%s", path);
    }
    fclose(f);
    return r;
}
