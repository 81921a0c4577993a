/* An incremental parser of one HTTP/1.1 response (client side), for the engine's own plain-HTTP
 * transport (hret_h1.h). Bytes are fed as they arrive; the body goes to the caller's capped
 * buffer, de-chunked. Only what the engine needs is kept from the headers: the status, how the
 * body is delimited, whether the connection may be reused, and the server's retry delay.
 *
 * Limits: the status line and headers together at most HRET_H1_HEAD_MAX bytes; a chunk-size
 * line at most 64 bytes; trailers are read and dropped (within HRET_H1_HEAD_MAX). 1xx interim
 * responses (100 Continue, 103) are skipped. Anything malformed is an error, never a guess. */
#ifndef HRET_H1_PARSE_H
#define HRET_H1_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "hret_buf.h"

#define HRET_H1_HEAD_MAX 65536

enum hret_h1_status {
    HRET_H1_MORE,    /* every byte given was used; feed more */
    HRET_H1_DONE,    /* the response is complete (*used tells how far into the input) */
    HRET_H1_TOO_BIG, /* the body passed the buffer's cap */
    HRET_H1_BAD,     /* not a valid HTTP/1.x response (hret_h1_parse_error says why) */
};

struct hret_h1_parser {
    /* results, valid once HRET_H1_DONE (status and the headers' fields once the head is read) */
    int status;      /* final status code, 200..599 */
    bool keep_alive; /* the connection may carry another request */
    double
        retry_after_ms; /* retry-after-ms, or Retry-After (delta seconds or HTTP date); < 0 none */
    /* private */
    struct hret_buf *body; /* borrowed */
    int state;
    long long remaining;      /* of the body or the current chunk */
    long long content_length; /* < 0 none */
    double ra_ms, ra_header;  /* retry-after-ms, Retry-After; < 0 none */
    bool head_only, http10, te_seen, te_chunked, conn_close, conn_keep_alive;
    bool line_cr;    /* the line's last byte was CR (an LF must follow) */
    size_t head_len; /* bytes of status lines, headers and trailers so far */
    char line[256];  /* the part of a line not yet complete (longer lines: only the start) */
    size_t line_len; /* the line's full length so far */
    const char *error;
};

/* body: borrowed, reset by the caller; its cap is the response cap. head_only: the request was
 * HEAD, so no body follows whatever the headers say. */
void hret_h1_parse_init(struct hret_h1_parser *p, struct hret_buf *body, bool head_only);

/* Consumes up to len bytes of data; *used says how many were used (all, unless DONE or an
 * error). Bytes after a complete response are not consumed. */
enum hret_h1_status hret_h1_parse(struct hret_h1_parser *p, const char *data, size_t len,
                                  size_t *used);

/* The server closed the connection: DONE if that ends the response (a body delimited by the
 * close), else BAD (a response cut short, or none at all). */
enum hret_h1_status hret_h1_parse_eof(struct hret_h1_parser *p);

/* Whether any byte of a response has been parsed (a reused connection the server closed before
 * answering had none, and the request may be sent again on a new one). */
bool hret_h1_parse_started(const struct hret_h1_parser *p);

/* Why parsing failed: a static message without the response's bytes. */
const char *hret_h1_parse_error(const struct hret_h1_parser *p);

#endif
