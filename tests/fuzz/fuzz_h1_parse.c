/* HTTP/1.x responses as the engine's plain-HTTP transport reads them (hret_h1_parse): the input
 * holds responses back to back, parsed one after another (a fresh parser on what the previous
 * one left), the last one told about the close. The first byte is not part of them: its low bit
 * says the request was HEAD, the rest sizes the pieces. The responses are fed whole, one byte at
 * a time and in those pieces; the three runs must agree on every response's outcome, status,
 * keep-alive, length and body, and *used never passes what was given. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_fuzz.h"
#include "hret_h1_parse.h"

#define BODY_CAP 4096

/* The size of the k-th piece: 0 means all that is left. */
static size_t piece(unsigned mode, size_t k)
{
    return mode == 0 ? 0 : mode == 1 ? 1 : 1 + (k * 7 + mode) % (mode % 61 + 2);
}

/* Parses one response from data, pieces as the mode says; returns the bytes it used. */
static size_t one_response(const char *data, size_t len, unsigned mode, bool head_only,
                           struct hret_buf *transcript)
{
    struct hret_buf body;
    hret_buf_init(&body, BODY_CAP);
    struct hret_h1_parser p;
    hret_h1_parse_init(&p, &body, head_only);
    enum hret_h1_status st = HRET_H1_MORE;
    size_t off = 0;
    for (size_t k = 0; st == HRET_H1_MORE && off < len; k++) {
        size_t n = piece(mode, k);
        n = n == 0 || n > len - off ? len - off : n;
        size_t used = 0;
        st = hret_h1_parse(&p, data + off, n, &used);
        if (used > n || (st == HRET_H1_MORE && used != n)) {
            abort();
        }
        off += used;
    }
    if (st == HRET_H1_MORE) {
        st = hret_h1_parse_eof(&p);
    }
    if (st == HRET_H1_MORE || (st == HRET_H1_DONE && off == 0)) {
        abort();
    }
    (void)hret_buf_appendf(transcript, NULL, "%d %d %d %zu %zu %s|", (int)st, p.status,
                           (int)p.keep_alive, off, body.len,
                           st == HRET_H1_DONE ? "" : hret_h1_parse_error(&p));
    (void)hret_buf_append(transcript, body.data, body.len, NULL);
    hret_buf_fini(&body);
    return st == HRET_H1_DONE ? off : len; /* after an error, nothing more is read */
}

static void transcript(const char *data, size_t len, unsigned mode, bool head_only,
                       struct hret_buf *t)
{
    hret_buf_init(t, (size_t)1 << 28);
    for (size_t off = 0; off < len;) {
        off += one_response(data + off, len - off, mode, head_only, t);
    }
}

static bool same(const struct hret_buf *a, const struct hret_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    bool head_only = (data[0] & 1) != 0;
    const char *text = (const char *)data + 1;
    struct hret_buf whole, bytes, pieces;
    transcript(text, size - 1, 0, head_only, &whole);
    transcript(text, size - 1, 1, head_only, &bytes);
    transcript(text, size - 1, 2u + (data[0] >> 1), head_only, &pieces);
    if (!same(&whole, &bytes) || !same(&whole, &pieces)) {
        abort(); /* the split changed the outcome */
    }
    hret_buf_fini(&whole);
    hret_buf_fini(&bytes);
    hret_buf_fini(&pieces);
    return 0;
}
