#include "hret_html.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hret_utf8.h"

void hret_html_init(struct hret_html *h, size_t cap)
{
    hret_buf_init(&h->buf, cap);
    h->result = HRET_OK;
    h->err = (struct hret_err)HRET_ERR_INIT;
}

void hret_html_fini(struct hret_html *h)
{
    hret_buf_fini(&h->buf);
}

static void append(struct hret_html *h, const char *p, size_t n)
{
    if (h->result == HRET_OK && n > 0) {
        h->result = hret_buf_append(&h->buf, p, n, &h->err);
    }
}

void hret_html_raw(struct hret_html *h, const char *fmt, ...)
{
    if (h->result != HRET_OK) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    h->result = hret_buf_vappendf(&h->buf, &h->err, fmt, ap);
    va_end(ap);
}

static const char *entity(uint32_t cp)
{
    switch (cp) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

void hret_html_text(struct hret_html *h, const char *text)
{
    size_t n = text ? strlen(text) : 0, start = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = hret_utf8_decode(text + i, n - i, &cp);
        bool invalid = cp >= HRET_UTF8_ESCAPE_BASE + 0x80 && cp <= HRET_UTF8_ESCAPE_BASE + 0xFF;
        bool control = (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7F;
        const char *ent = entity(cp);
        if (ent != NULL || invalid || control) {
            append(h, text + start, i - start);
            append(h,
                   ent       ? ent
                   : invalid ? "\xEF\xBF\xBD"
                             : "",
                   ent       ? strlen(ent)
                   : invalid ? 3
                             : 0);
            start = i + len;
        }
        i += len;
    }
    append(h, text + start, n - start);
}

void hret_html_elem(struct hret_html *h, const char *open, const char *text, const char *close)
{
    append(h, open, strlen(open));
    hret_html_text(h, text);
    append(h, close, strlen(close));
}
