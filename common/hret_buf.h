/* A growable byte buffer with a hard cap (curl's dynbuf idea): past the cap, appends fail with
 * HRET_E_PROTO instead of growing. The data is always NUL-terminated. */
#ifndef HRET_BUF_H
#define HRET_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "hret_err.h"

struct hret_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t max;  /* hard cap on len */
    bool secret; /* may hold a secret: zeroed when it moves, is reset or freed */
};

void hret_buf_init(struct hret_buf *b, size_t max);
/* A buffer for secrets (request headers with a key): no copy of them is left in freed memory. */
void hret_buf_init_secret(struct hret_buf *b, size_t max);
void hret_buf_fini(struct hret_buf *b);
void hret_buf_reset(struct hret_buf *b); /* keeps the allocation */
enum hret_result hret_buf_append(struct hret_buf *b, const void *p, size_t n, struct hret_err *err);
enum hret_result hret_buf_appendf(struct hret_buf *b, struct hret_err *err, const char *fmt, ...)
    HRET_PRINTF(3, 4);
enum hret_result hret_buf_vappendf(struct hret_buf *b, struct hret_err *err, const char *fmt,
                                   va_list ap) HRET_PRINTF(3, 0);
/* Hands the data to the caller (caller owns result, never NULL) and empties the buffer. */
char *hret_buf_take(struct hret_buf *b);
const char *hret_buf_str(const struct hret_buf *b); /* "" when empty; borrowed */
/* Appends a whole file (path borrowed); HRET_E_INVAL naming the path if it cannot be read,
 * HRET_E_PROTO if it passes the cap. */
enum hret_result hret_buf_append_file(struct hret_buf *b, const char *path, struct hret_err *err);

#endif
