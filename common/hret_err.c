#include "hret_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum hret_result hret_err_set(struct hret_err *err, enum hret_result code, const char *fmt, ...)
{
    if (err == NULL || err->code != HRET_OK) {
        return code;
    }
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void hret_err_prefix(struct hret_err *err, const char *fmt, ...)
{
    if (err == NULL || err->code == HRET_OK) {
        return;
    }
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char joined[sizeof err->msg];
    snprintf(joined, sizeof joined, "%s: %s", prefix, err->msg);
    memcpy(err->msg, joined, sizeof joined);
}

void hret_err_clear(struct hret_err *err)
{
    if (err != NULL) {
        err->code = HRET_OK;
        err->msg[0] = '\0';
    }
}

bool hret_result_is_retriable(enum hret_result r)
{
    return r == HRET_AGAIN || r == HRET_E_TIMEOUT || r == HRET_E_UNAVAILABLE;
}

const char *hret_result_name(enum hret_result r)
{
    switch (r) {
    case HRET_OK:
        return "ok";
    case HRET_AGAIN:
        return "again";
    case HRET_E_INVAL:
        return "invalid";
    case HRET_E_CONFIG:
        return "config";
    case HRET_E_PROTO:
        return "protocol";
    case HRET_E_TIMEOUT:
        return "timeout";
    case HRET_E_UNAVAILABLE:
        return "unavailable";
    case HRET_E_CONFLICT:
        return "conflict";
    case HRET_E_FATAL:
        return "fatal";
    }
    return "unknown";
}
