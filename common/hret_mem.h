/* Our own allocations abort on OOM (a worker behind Kafka restarts and redelivers). */
#ifndef HRET_MEM_H
#define HRET_MEM_H

#include <stddef.h>

#include "hret_err.h"

void *hret_xmalloc(size_t n);                 /* caller owns result */
void *hret_xcalloc(size_t count, size_t n);   /* caller owns result */
void *hret_xrealloc(void *p, size_t n);       /* takes ownership of p; caller owns result */
char *hret_xstrdup(const char *s);            /* caller owns result; NULL in, NULL out */
char *hret_xstrndup(const char *s, size_t n); /* caller owns result */
char *hret_xasprintf(const char *fmt, ...) HRET_PRINTF(1, 2); /* caller owns result */

#endif
