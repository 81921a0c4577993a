#include "hret_cloudevents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum hret_result hret_uuid4(char out[37], struct hret_err *err)
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, b, sizeof b) : -1;
    int saved = errno;
    if (fd >= 0) {
        close(fd);
    }
    if (n != (ssize_t)sizeof b) {
        return hret_err_set(err, HRET_E_FATAL, "reading /dev/urandom: %s",
                            n < 0 ? strerror(saved) : "short read");
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return HRET_OK;
}

void hret_cloudevent_now(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%s.%03ldZ", day, ts.tv_nsec / 1000000L);
}

enum hret_result hret_cloudevent_init(struct hret_cloudevent *ev, const char *type,
                                      const char *source, struct hret_err *err)
{
    memset(ev, 0, sizeof *ev);
    if (hret_uuid4(ev->id, err) != HRET_OK) {
        return err != NULL ? err->code : HRET_E_FATAL;
    }
    snprintf(ev->type, sizeof ev->type, "%s", type);
    snprintf(ev->source, sizeof ev->source, "%s", source);
    hret_cloudevent_now(ev->time);
    return HRET_OK;
}

rd_kafka_headers_t *hret_cloudevent_headers(const struct hret_cloudevent *ev)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(8);
    rd_kafka_header_add(h, "ce_specversion", -1, HRET_CE_SPECVERSION, -1);
    rd_kafka_header_add(h, "ce_id", -1, ev->id, -1);
    rd_kafka_header_add(h, "ce_source", -1, ev->source, -1);
    rd_kafka_header_add(h, "ce_type", -1, ev->type, -1);
    rd_kafka_header_add(h, "ce_time", -1, ev->time, -1);
    rd_kafka_header_add(h, "content-type", -1, HRET_CE_CONTENT_TYPE, -1);
    return h;
}

bool hret_cloudevent_header(const rd_kafka_headers_t *hdrs, const char *name, char *buf, size_t cap)
{
    const void *v = NULL;
    size_t n = 0;
    if (hdrs == NULL || cap == 0 ||
        rd_kafka_header_get_last(hdrs, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || v == NULL ||
        n >= cap) {
        return false;
    }
    memcpy(buf, v, n);
    buf[n] = '\0';
    return true;
}

enum hret_result hret_cloudevent_from_headers(const rd_kafka_headers_t *hdrs,
                                              struct hret_cloudevent *ev, struct hret_err *err)
{
    char spec[8];
    memset(ev, 0, sizeof *ev);
    if (!hret_cloudevent_header(hdrs, "ce_specversion", spec, sizeof spec) ||
        strcmp(spec, HRET_CE_SPECVERSION) != 0) {
        return hret_err_set(err, HRET_E_PROTO, "not a CloudEvents 1.0 message (ce_specversion)");
    }
    struct {
        const char *name;
        char *buf;
        size_t cap;
    } const attrs[] = {
        {"ce_id", ev->id, sizeof ev->id},
        {"ce_source", ev->source, sizeof ev->source},
        {"ce_type", ev->type, sizeof ev->type},
        {"ce_time", ev->time, sizeof ev->time},
    };
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        /* ce_time is optional in CloudEvents; the others are required */
        if (!hret_cloudevent_header(hdrs, attrs[i].name, attrs[i].buf, attrs[i].cap) &&
            strcmp(attrs[i].name, "ce_time") != 0) {
            return hret_err_set(err, HRET_E_PROTO, "CloudEvents header %s missing or too long",
                                attrs[i].name);
        }
    }
    return HRET_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil):
 * timegm is not POSIX. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

bool hret_cloudevent_parse_time(const char *text, double *out)
{
    int y, mo, d, h, mi, s, n = 0;
    if (text == NULL ||
        sscanf(text, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 ||
        n == 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
        return false;
    }
    const char *p = text + n;
    double frac = 0;
    if (*p == '.') {
        char *end = NULL;
        frac = strtod(p, &end);
        p = end;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0 && strcmp(p, "+00:00") != 0 &&
        strcmp(p, "+00") != 0) {
        return false;
    }
    long long days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = (double)(days * 86400 + h * 3600 + mi * 60 + s) + frac;
    return true;
}
