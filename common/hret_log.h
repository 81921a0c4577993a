/* One line per event on stderr, logfmt or JSON, with the component and the run or request id
 * on every line. Disabled levels cost no argument evaluation; repeats are rate-limited per
 * (component, format) so an outage does not flood the log. Never pass secrets or bodies above
 * debug. */
#ifndef HRET_LOG_H
#define HRET_LOG_H

#include <stdbool.h>

#include "hret_err.h"

enum hret_log_level {
    HRET_LOG_ERROR,
    HRET_LOG_WARN,
    HRET_LOG_INFO,
    HRET_LOG_DEBUG,
    HRET_LOG_TRACE
};
enum hret_log_format { HRET_LOG_LOGFMT, HRET_LOG_JSON };

void hret_log_setup(enum hret_log_level level, enum hret_log_format format);
bool hret_log_enabled(enum hret_log_level level);
/* Case-insensitive "error", "warn"/"warning", "info", "debug", "trace". */
bool hret_log_level_parse(const char *name, enum hret_log_level *out);
/* comp and id are borrowed and may be NULL. */
void hret_log_write(enum hret_log_level level, const char *comp, const char *id, const char *fmt,
                    ...) HRET_PRINTF(4, 5);

/* An audit line (who did what): info level, printed whatever the log level, never rate-limited,
 * because every one must be kept. */
void hret_log_audit(const char *comp, const char *id, const char *fmt, ...) HRET_PRINTF(3, 4);

#define HRET_LOG_AT(level, comp, id, ...)                                                          \
    do {                                                                                           \
        if (hret_log_enabled(level)) {                                                             \
            hret_log_write(level, comp, id, __VA_ARGS__);                                          \
        }                                                                                          \
    } while (0)
#define hret_log_error(comp, id, ...) HRET_LOG_AT(HRET_LOG_ERROR, comp, id, __VA_ARGS__)
#define hret_log_warn(comp, id, ...) HRET_LOG_AT(HRET_LOG_WARN, comp, id, __VA_ARGS__)
#define hret_log_info(comp, id, ...) HRET_LOG_AT(HRET_LOG_INFO, comp, id, __VA_ARGS__)
#define hret_log_debug(comp, id, ...) HRET_LOG_AT(HRET_LOG_DEBUG, comp, id, __VA_ARGS__)
#define hret_log_trace(comp, id, ...) HRET_LOG_AT(HRET_LOG_TRACE, comp, id, __VA_ARGS__)

#endif
