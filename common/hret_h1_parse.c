/* The incremental HTTP/1.x response parser (see hret_h1_parse.h). Pure apart from the clock a
 * Retry-After date is measured against: no I/O, the body goes to the caller's capped buffer.
 * One state per part of the response; a line-shaped part (status line, header, chunk size,
 * the CRLF after a chunk, trailer) is gathered into p->line (only its start when longer) and
 * handled once its LF arrives, so any split of the input gives the same result. */
#include "hret_h1_parse.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CHUNK_LINE_MAX 64
#define NUMBER_MAX (1LL << 62) /* larger Content-Length and chunk sizes are errors */

enum state {
    ST_STATUS,
    ST_HEADER,
    ST_BODY,       /* Content-Length bytes */
    ST_BODY_CLOSE, /* everything until the server closes */
    ST_CHUNK_SIZE,
    ST_CHUNK_DATA,
    ST_CHUNK_END, /* the CRLF after a chunk's data */
    ST_TRAILER,
    ST_DONE,
    ST_BAD,
    ST_TOO_BIG,
};

static bool fail(struct hret_h1_parser *p, const char *why)
{
    p->state = ST_BAD;
    p->error = why;
    return false;
}

/* Forgets what the headers of the previous (1xx) response said. */
static void reset_head(struct hret_h1_parser *p)
{
    p->content_length = -1;
    p->ra_ms = p->ra_header = -1;
    p->http10 = p->te_seen = p->te_chunked = p->conn_close = p->conn_keep_alive = false;
}

void hret_h1_parse_init(struct hret_h1_parser *p, struct hret_buf *body, bool head_only)
{
    memset(p, 0, sizeof *p);
    p->body = body;
    p->head_only = head_only;
    p->retry_after_ms = -1;
    p->state = ST_STATUS;
    reset_head(p);
}

/* The value of the digits at *s (hex or decimal), *s moved past them; false when there are none
 * or the value passes NUMBER_MAX. */
static bool parse_number(const char **s, bool hex, long long *out)
{
    int base = hex ? 16 : 10;
    long long v = 0;
    const char *c = *s;
    for (;; c++) {
        int d = *c >= '0' && *c <= '9'          ? *c - '0'
                : hex && *c >= 'a' && *c <= 'f' ? *c - 'a' + 10
                : hex && *c >= 'A' && *c <= 'F' ? *c - 'A' + 10
                                                : -1;
        if (d < 0) {
            break;
        }
        if (v > (NUMBER_MAX - d) / base) {
            return false;
        }
        v = v * base + d;
    }
    if (c == *s) {
        return false;
    }
    *s = c;
    *out = v;
    return true;
}

/* Whether the comma-separated list holds token (case-insensitive). */
static bool list_has(const char *list, const char *token)
{
    size_t n = strlen(token);
    for (const char *s = list; *s != '\0'; s += strcspn(s, ",")) {
        s += strspn(s, " \t,");
        size_t len = strcspn(s, ",");
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
            len--;
        }
        if (len == n && strncasecmp(s, token, n) == 0) {
            return true;
        }
    }
    return false;
}

/* retry-after-ms: a non-negative decimal number, else < 0. */
static double parse_retry_after_ms(const char *v)
{
    size_t n = strspn(v, "0123456789");
    if (n > 0 && v[n] == '.') {
        size_t frac = strspn(v + n + 1, "0123456789");
        n = frac > 0 ? n + 1 + frac : 0;
    }
    return n > 0 && v[n] == '\0' ? strtod(v, NULL) : -1;
}

/* Retry-After: delta-seconds or an HTTP date (libcurl parses it), in ms from now, else < 0. */
static double parse_retry_after(const char *v)
{
    if (*v >= '0' && *v <= '9') {
        long long secs;
        return parse_number(&v, false, &secs) && *v == '\0' ? (double)secs * 1000 : -1;
    }
    time_t at = curl_getdate(v, NULL);
    if (at == -1) {
        return -1;
    }
    double ms = difftime(at, time(NULL)) * 1000;
    return ms > 0 ? ms : 0;
}

static bool parse_status(struct hret_h1_parser *p)
{
    const char *s = p->line;
    if (strncmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
        strspn(s + 9, "0123456789") < 3 || (s[12] != '\0' && s[12] != ' ')) {
        return fail(p, "malformed status line");
    }
    reset_head(p);
    p->http10 = s[7] == '0';
    p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (p->status < 100 || p->status > 599) {
        return fail(p, "status code out of range");
    }
    if (p->status == 101) {
        return fail(p, "101 Switching Protocols, but no upgrade was asked for");
    }
    p->state = ST_HEADER;
    return true;
}

static bool content_length(struct hret_h1_parser *p, const char *v)
{
    long long n;
    if (!parse_number(&v, false, &n) || *v != '\0') {
        return fail(p, "malformed Content-Length");
    }
    if (p->content_length >= 0 && p->content_length != n) {
        return fail(p, "conflicting Content-Length headers");
    }
    p->content_length = n;
    return true;
}

/* Keeps what the engine needs of one header: name and value are in p->line, split at the colon
 * and trimmed. A kept header whose line was too long for p->line is an error. */
static bool keep_header(struct hret_h1_parser *p, const char *name, const char *value)
{
    bool whole = p->line_len < sizeof p->line;
    if (strcasecmp(name, "retry-after-ms") == 0) {
        p->ra_ms = whole ? parse_retry_after_ms(value) : -1;
        return true;
    }
    if (strcasecmp(name, "retry-after") == 0) {
        p->ra_header = whole ? parse_retry_after(value) : -1;
        return true;
    }
    bool cl = strcasecmp(name, "content-length") == 0;
    bool te = strcasecmp(name, "transfer-encoding") == 0;
    bool conn = strcasecmp(name, "connection") == 0;
    if (!whole && (cl || te || conn)) {
        return fail(p, "a Content-Length, Transfer-Encoding or Connection header too long");
    }
    if (cl) {
        return content_length(p, value);
    }
    if (te) { /* the last coding of the combined list is the last one of its last line */
        const char *last = strrchr(value, ',');
        last = last != NULL ? last + 1 + strspn(last + 1, " \t") : value;
        p->te_seen = true;
        p->te_chunked = strcasecmp(last, "chunked") == 0;
    } else if (conn) {
        p->conn_close |= list_has(value, "close");
        p->conn_keep_alive |= list_has(value, "keep-alive");
    }
    return true;
}

static bool parse_header(struct hret_h1_parser *p)
{
    char *line = p->line;
    if (line[0] == ' ' || line[0] == '\t') {
        return fail(p, "obsolete header line folding");
    }
    char *colon = strchr(line, ':');
    if (colon == NULL || colon == line) {
        return fail(p, "a header line without a name and ':'");
    }
    for (const char *c = line; c < colon; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            return fail(p, "malformed header name");
        }
    }
    *colon = '\0';
    char *value = colon + 1 + strspn(colon + 1, " \t");
    size_t len = strlen(value);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t')) {
        value[--len] = '\0';
    }
    return keep_header(p, line, value);
}

/* The empty line after the headers: how the body is delimited, or the next response after a
 * 1xx. */
static bool end_head(struct hret_h1_parser *p)
{
    if (p->status < 200) {
        p->state = ST_STATUS;
        return true;
    }
    if (p->te_seen && !p->te_chunked) {
        return fail(p, "a Transfer-Encoding other than chunked");
    }
    p->retry_after_ms = p->ra_ms >= 0 ? p->ra_ms : p->ra_header;
    /* RFC 9112 6.1, 6.3: Transfer-Encoding on HTTP/1.0, or with Content-Length, closes */
    p->keep_alive = !p->conn_close && (p->http10 ? p->conn_keep_alive && !p->te_seen
                                                 : p->content_length < 0 || !p->te_seen);
    if (p->head_only || p->status == 204 || p->status == 304) {
        p->state = ST_DONE;
    } else if (p->te_seen) {
        p->state = ST_CHUNK_SIZE;
    } else if (p->content_length >= 0) {
        p->remaining = p->content_length;
        p->state = p->remaining > 0 ? ST_BODY : ST_DONE;
    } else {
        p->keep_alive = false;
        p->state = ST_BODY_CLOSE;
    }
    return true;
}

static bool chunk_size(struct hret_h1_parser *p)
{
    const char *s = p->line;
    if (!parse_number(&s, true, &p->remaining)) {
        return fail(p, "malformed chunk size");
    }
    s += strspn(s, " \t");
    if (*s != '\0' && *s != ';') {
        return fail(p, "malformed chunk size");
    }
    p->state = p->remaining > 0 ? ST_CHUNK_DATA : ST_TRAILER;
    return true;
}

/* A complete line in p->line, by state. */
static bool on_line(struct hret_h1_parser *p)
{
    switch (p->state) {
    case ST_STATUS:
        return parse_status(p);
    case ST_HEADER:
        return p->line_len == 0 ? end_head(p) : parse_header(p);
    case ST_CHUNK_SIZE:
        return chunk_size(p);
    case ST_CHUNK_END:
        p->state = ST_CHUNK_SIZE;
        return true;
    default: /* ST_TRAILER: trailers are dropped */
        if (p->line_len == 0) {
            p->state = ST_DONE;
        }
        return true;
    }
}

/* Gathers a line from data[*i..len) into p->line; true once its LF arrived. */
static bool gather_line(struct hret_h1_parser *p, const char *data, size_t len, size_t *i)
{
    bool head = p->state == ST_STATUS || p->state == ST_HEADER || p->state == ST_TRAILER;
    size_t max = p->state == ST_CHUNK_SIZE  ? CHUNK_LINE_MAX
                 : p->state == ST_CHUNK_END ? 0
                                            : SIZE_MAX;
    while (*i < len) {
        char c = data[(*i)++];
        if (head && ++p->head_len > HRET_H1_HEAD_MAX) {
            return fail(p, "response headers too large");
        }
        if (c == '\n') {
            p->line[p->line_len < sizeof p->line ? p->line_len : sizeof p->line - 1] = '\0';
            p->line_cr = false;
            return true;
        }
        if (p->line_cr || c == '\0') {
            return fail(p, "a bare CR or a NUL byte in a response line");
        }
        if (c == '\r') {
            p->line_cr = true;
        } else if (p->line_len >= max) {
            return fail(p,
                        max > 0 ? "chunk size line too long" : "chunk data not followed by CRLF");
        } else {
            if (p->line_len < sizeof p->line - 1) {
                p->line[p->line_len] = c;
            }
            p->line_len++;
        }
    }
    return false;
}

/* Body bytes from data[*i..len) up to the end of the body or chunk; fills the buffer up to its
 * cap before TOO_BIG, so that the buffer is the same however the input was split. */
static void take_body(struct hret_h1_parser *p, const char *data, size_t len, size_t *i)
{
    size_t n = len - *i;
    if (p->state != ST_BODY_CLOSE && (unsigned long long)p->remaining < n) {
        n = (size_t)p->remaining;
    }
    size_t room = p->body->max - p->body->len;
    size_t fit = n < room ? n : room;
    (void)hret_buf_append(p->body, data + *i, fit, NULL); /* within the cap: cannot fail */
    *i += fit;
    if (fit < n) {
        p->state = ST_TOO_BIG;
        p->error = "response body larger than its cap";
        return;
    }
    if (p->state != ST_BODY_CLOSE && (p->remaining -= (long long)n) == 0) {
        p->state = p->state == ST_BODY ? ST_DONE : ST_CHUNK_END;
    }
}

static enum hret_h1_status result(const struct hret_h1_parser *p)
{
    return p->state == ST_DONE      ? HRET_H1_DONE
           : p->state == ST_BAD     ? HRET_H1_BAD
           : p->state == ST_TOO_BIG ? HRET_H1_TOO_BIG
                                    : HRET_H1_MORE;
}

enum hret_h1_status hret_h1_parse(struct hret_h1_parser *p, const char *data, size_t len,
                                  size_t *used)
{
    size_t i = 0;
    while (i < len && p->state < ST_DONE) {
        if (p->state == ST_BODY || p->state == ST_BODY_CLOSE || p->state == ST_CHUNK_DATA) {
            take_body(p, data, len, &i);
        } else if (gather_line(p, data, len, &i)) {
            (void)on_line(p);
            p->line_len = 0;
        }
    }
    *used = i;
    return result(p);
}

enum hret_h1_status hret_h1_parse_eof(struct hret_h1_parser *p)
{
    if (p->state == ST_BODY_CLOSE) {
        p->state = ST_DONE;
    } else if (p->state < ST_DONE) {
        fail(p, hret_h1_parse_started(p) ? "connection closed before the response was complete"
                                         : "connection closed before any response");
    }
    return result(p);
}

bool hret_h1_parse_started(const struct hret_h1_parser *p)
{
    return p->head_len > 0;
}

const char *hret_h1_parse_error(const struct hret_h1_parser *p)
{
    return p->error != NULL ? p->error : "no error";
}
