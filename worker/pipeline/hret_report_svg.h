/* The charts of hret report as inline SVG (no script, no font from the network): bars with
 * intervals, a forest plot of differences, a line chart with marks. Colours come from the page's
 * CSS classes, so light and dark themes restyle them. Every mark carries its numbers in data-
 * attributes (%.17g, exact as doubles) so tests read back what was drawn. */
#ifndef HRET_REPORT_SVG_H
#define HRET_REPORT_SVG_H

#include <stddef.h>

#include "hret_html.h"

struct hret_report_bar { /* label borrowed */
    const char *label;
    size_t n;             /* items behind the value */
    double value, lo, hi; /* fractions 0..1; lo/hi the 95% interval */
};

struct hret_report_diff { /* label borrowed */
    const char *label;
    size_t n;            /* pairs (or items) compared */
    double diff, lo, hi; /* B - A and its interval, fractions */
    double p_holm;       /* the adjusted p-value the verdict uses */
    int verdict;         /* +1 better, -1 worse, 0 no significant difference */
};

struct hret_report_point { /* strings borrowed; alert nullable */
    const char *label;     /* run name or id */
    const char *when;      /* ISO 8601 time */
    double value;
    const char *alert; /* the alert raised on this run, NULL when none */
};

struct hret_report_mark { /* a horizontal line: a monitor threshold */
    const char *label;
    double value;
};

/* Horizontal bars, one row per bar in the order given, with the interval as a whisker. */
void hret_report_svg_bars(struct hret_html *h, const struct hret_report_bar *bars, size_t count);
/* A forest plot: one row per difference in the order given, zero as the reference line. */
void hret_report_svg_forest(struct hret_html *h, const struct hret_report_diff *rows, size_t count);
/* A line chart of values in the order given (oldest first), marks as dashed lines, points with
 * an alert drawn as alerts. */
void hret_report_svg_line(struct hret_html *h, const struct hret_report_point *points, size_t count,
                          const struct hret_report_mark *marks, size_t n_marks);

#endif
