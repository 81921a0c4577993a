/* Result codes and the caller-owned error record: one way to fail, everywhere. */
#ifndef HRET_ERR_H
#define HRET_ERR_H

#include <stdbool.h>

#if defined(__GNUC__)
#define HRET_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define HRET_MUSTCHECK __attribute__((warn_unused_result))
#else
#define HRET_PRINTF(fmt, args)
#define HRET_MUSTCHECK
#endif

enum hret_result {
    HRET_OK = 0,
    HRET_AGAIN,         /* in progress / would block */
    HRET_E_INVAL,       /* caller or input error: permanent */
    HRET_E_CONFIG,      /* bad configuration: fatal at start-up */
    HRET_E_PROTO,       /* peer sent something unparsable or over a cap: permanent */
    HRET_E_TIMEOUT,     /* retriable */
    HRET_E_UNAVAILABLE, /* connection refused, 5xx, 429, broker down: retriable */
    HRET_E_CONFLICT,    /* duplicate on an idempotent write: the caller decides */
    HRET_E_FATAL,       /* invariant broken or unrecoverable */
};

struct hret_err {
    enum hret_result code;
    char msg[512];
};

#define HRET_ERR_INIT                                                                              \
    {                                                                                              \
        HRET_OK,                                                                                   \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* Sets err (nullable) unless it already holds an error: the first error wins. Returns code. */
enum hret_result hret_err_set(struct hret_err *err, enum hret_result code, const char *fmt, ...)
    HRET_PRINTF(3, 4);
/* Prefixes the held message with context ("models.gpt4: ..."), keeping the code. */
void hret_err_prefix(struct hret_err *err, const char *fmt, ...) HRET_PRINTF(2, 3);
void hret_err_clear(struct hret_err *err);
bool hret_result_is_retriable(enum hret_result r);
const char *hret_result_name(enum hret_result r); /* static string, never NULL */

#endif
