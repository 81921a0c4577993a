/* Writing an HTML page into a capped buffer: markup appended as given, text escaped (and made
 * valid UTF-8), the first error kept and every later write a no-op, so a page is built without an
 * error check per line and checked once at the end. */
#ifndef HRET_HTML_H
#define HRET_HTML_H

#include <stddef.h>

#include "hret_buf.h"
#include "hret_err.h"

struct hret_html {
    struct hret_buf buf;
    enum hret_result result; /* HRET_OK until a write fails (the page passed the cap) */
    struct hret_err err;
};

void hret_html_init(struct hret_html *h, size_t cap);
void hret_html_fini(struct hret_html *h);

/* Appends markup as formatted. Never pass text from a run through %s: use hret_html_text. */
void hret_html_raw(struct hret_html *h, const char *fmt, ...) HRET_PRINTF(2, 3);
/* Appends text (borrowed, nullable = nothing) escaped for element content and quoted attribute
 * values; invalid UTF-8 becomes U+FFFD and control characters other than tab and newline are
 * dropped. */
void hret_html_text(struct hret_html *h, const char *text);
/* Appends open, then text escaped, then close: hret_html_elem(h, "<td>", name, "</td>"). */
void hret_html_elem(struct hret_html *h, const char *open, const char *text, const char *close);

#endif
