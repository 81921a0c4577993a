#include "hret_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "level=fatal comp=mem msg=\"out of memory allocating %zu bytes\"\n", n);
    abort();
}

void *hret_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        out_of_memory(n);
    }
    return p;
}

void *hret_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL) {
        out_of_memory(count * n);
    }
    return p;
}

void *hret_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        out_of_memory(n);
    }
    return q;
}

char *hret_xstrdup(const char *s)
{
    return s ? hret_xstrndup(s, strlen(s)) : NULL;
}

char *hret_xstrndup(const char *s, size_t n)
{
    char *p = hret_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *hret_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        out_of_memory(0);
    }
    char *p = hret_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
