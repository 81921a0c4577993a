#include "hret_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hret_buf.h"

#define RATE_SLOTS 64
#define RATE_WINDOW_S 10
#define RATE_BURST 5

struct rate_slot {
    const char *comp;
    const char *fmt;
    time_t window_start;
    unsigned emitted;
    unsigned suppressed;
};

static struct {
    enum hret_log_level level;
    enum hret_log_format format;
    pthread_mutex_t lock;
    struct rate_slot slots[RATE_SLOTS];
} logger = {HRET_LOG_INFO, HRET_LOG_LOGFMT, PTHREAD_MUTEX_INITIALIZER, {{0}}};

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void hret_log_setup(enum hret_log_level level, enum hret_log_format format)
{
    logger.level = level;
    logger.format = format;
}

bool hret_log_enabled(enum hret_log_level level)
{
    return level <= logger.level;
}

bool hret_log_level_parse(const char *name, enum hret_log_level *out)
{
    for (int i = HRET_LOG_ERROR; i <= HRET_LOG_TRACE; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum hret_log_level)i;
            return true;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = HRET_LOG_WARN;
        return true;
    }
    return false;
}

/* Returns how many earlier lines were suppressed (to report them), or -1 to drop this one. */
static long rate_check(const char *comp, const char *fmt, time_t now)
{
    uintptr_t h = ((uintptr_t)fmt >> 3) ^ ((uintptr_t)comp >> 5);
    struct rate_slot *s = &logger.slots[h % RATE_SLOTS];
    if (s->fmt != fmt || s->comp != comp || now - s->window_start >= RATE_WINDOW_S) {
        long dropped = (s->fmt == fmt && s->comp == comp) ? (long)s->suppressed : 0;
        *s = (struct rate_slot){comp, fmt, now, 1, 0};
        return dropped;
    }
    if (s->emitted >= RATE_BURST) {
        s->suppressed++;
        return -1;
    }
    s->emitted++;
    return 0;
}

static void put_value(struct hret_buf *b, const char *v, bool json)
{
    bool quote = json || *v == '\0' || strpbrk(v, " =\"\\\n\t") != NULL;
    if (quote) {
        hret_buf_append(b, "\"", 1, NULL);
    }
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            hret_buf_appendf(b, NULL, "\\%c", c);
        } else if (c == '\n') {
            hret_buf_append(b, "\\n", 2, NULL);
        } else if (c < 0x20) {
            hret_buf_appendf(b, NULL, "\\u%04x", c);
        } else {
            hret_buf_append(b, p, 1, NULL);
        }
    }
    if (quote) {
        hret_buf_append(b, "\"", 1, NULL);
    }
}

static void put_field(struct hret_buf *b, const char *key, const char *v, bool first)
{
    bool json = logger.format == HRET_LOG_JSON;
    if (json) {
        hret_buf_appendf(b, NULL, "%s\"%s\":", first ? "{" : ",", key);
    } else {
        hret_buf_appendf(b, NULL, "%s%s=", first ? "" : " ", key);
    }
    put_value(b, v, json);
}

/* Formats and writes one line; limited: subject to the repeat limit of (comp, fmt). */
static void HRET_PRINTF(4, 0) write_line(enum hret_log_level level, const char *comp,
                                         const char *id, const char *fmt, va_list ap, bool limited)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[40];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);

    pthread_mutex_lock(&logger.lock);
    long dropped = limited ? rate_check(comp, fmt, now.tv_sec) : 0;
    if (dropped >= 0) {
        struct hret_buf b;
        hret_buf_init(&b, 8192);
        put_field(&b, "ts", ts, true);
        put_field(&b, "level", level_names[level], false);
        put_field(&b, "comp", comp ? comp : "hret", false);
        if (id != NULL && *id != '\0') {
            put_field(&b, "id", id, false);
        }
        put_field(&b, "msg", msg, false);
        if (dropped > 0) {
            char n[32];
            snprintf(n, sizeof n, "%ld", dropped);
            put_field(&b, "suppressed_repeats", n, false);
        }
        hret_buf_append(&b, logger.format == HRET_LOG_JSON ? "}\n" : "\n",
                        logger.format == HRET_LOG_JSON ? 2 : 1, NULL);
        fputs(hret_buf_str(&b), stderr);
        hret_buf_fini(&b);
    }
    pthread_mutex_unlock(&logger.lock);
}

void hret_log_write(enum hret_log_level level, const char *comp, const char *id, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(level, comp, id, fmt, ap, true);
    va_end(ap);
}

void hret_log_audit(const char *comp, const char *id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(HRET_LOG_INFO, comp, id, fmt, ap, false);
    va_end(ap);
}
