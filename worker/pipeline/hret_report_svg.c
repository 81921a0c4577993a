#include "hret_report_svg.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"

#define WIDTH 760.0
#define LABEL_W 270.0  /* label column of bars and forest rows */
#define VALUE_W 150.0  /* value column at the right */
#define LABEL_CHARS 32 /* longer labels are cut with an ellipsis (data-label keeps them) */
#define ROW_H 22.0
#define TOP 24.0 /* room for the axis labels */

static double plot_w(void)
{
    return WIDTH - LABEL_W - VALUE_W;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* A finite value or the fallback (intervals are NaN when undefined). */
static double or_else(double v, double fallback)
{
    return isfinite(v) ? v : fallback;
}

static void open_svg(struct hret_html *h, const char *cls, double height, const char *title)
{
    hret_html_raw(h,
                  "<svg class=\"chart %s\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
                  "height=\"%.0f\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
                  cls, WIDTH, height, WIDTH, height);
    hret_html_elem(h, "<title>", title, "</title>");
}

/* Vertical grid lines with labels over a [lo, hi] axis mapped onto the plot column. */
static void grid(struct hret_html *h, double lo, double hi, double step, double height,
                 bool percent_points)
{
    for (double v = lo; v <= hi + 1e-9; v += step) {
        double x = LABEL_W + (v - lo) / (hi - lo) * plot_w();
        hret_html_raw(h,
                      "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                      "<text class=\"axis\" x=\"%.1f\" y=\"14\" text-anchor=\"middle\">%s%.0f%s"
                      "</text>",
                      x, TOP - 4, x, height - 4, x, percent_points && v > 1e-9 ? "+" : "", 100 * v,
                      percent_points ? "" : "%");
    }
}

/* label cut after LABEL_CHARS characters (whole UTF-8 sequences) with an ellipsis. */
static void row_label(struct hret_html *h, double y, const char *label, size_t n)
{
    hret_html_raw(h, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                  LABEL_W - 8, y + 15);
    size_t chars = 0, cut = 0, len = strlen(label);
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)label[i] & 0xC0) != 0x80 && chars++ == LABEL_CHARS) {
            cut = i;
            break;
        }
    }
    if (cut == 0) {
        hret_html_text(h, label);
    } else {
        char *shown = hret_xasprintf("%.*s…", (int)cut, label);
        hret_html_text(h, shown);
        free(shown);
    }
    hret_html_raw(h, " <tspan class=\"n\">n=%zu</tspan></text>", n);
}

void hret_report_svg_bars(struct hret_html *h, const struct hret_report_bar *bars, size_t count)
{
    double height = TOP + ROW_H * (double)count + 8;
    open_svg(h, "bars", height, "accuracy per subset with 95% intervals");
    grid(h, 0, 1, 0.25, height, false);
    for (size_t i = 0; i < count; i++) {
        const struct hret_report_bar *b = &bars[i];
        double y = TOP + ROW_H * (double)i;
        double v = clamp(or_else(b->value, 0), 0, 1);
        double lo = clamp(or_else(b->lo, v), 0, 1), hi = clamp(or_else(b->hi, v), 0, 1);
        hret_html_raw(h, "<g class=\"bar\" data-label=\"");
        hret_html_text(h, b->label);
        hret_html_raw(h,
                      "\" data-n=\"%zu\" data-value=\"%.17g\" data-lo=\"%.17g\" data-hi=\"%.17g\">",
                      b->n, b->value, b->lo, b->hi);
        row_label(h, y, b->label, b->n);
        hret_html_raw(h,
                      "<rect class=\"fill\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                      "<line class=\"whisker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                      "<text class=\"value\" x=\"%.1f\" y=\"%.1f\">%.1f%% [%.1f, %.1f]</text></g>",
                      LABEL_W, y + 4, v * plot_w(), ROW_H - 8, LABEL_W + lo * plot_w(),
                      y + ROW_H / 2, LABEL_W + hi * plot_w(), y + ROW_H / 2, LABEL_W + plot_w() + 8,
                      y + 15, 100 * v, 100 * lo, 100 * hi);
    }
    hret_html_raw(h, "</svg>");
}

static const char *verdict_class(int verdict)
{
    return verdict > 0 ? "better" : verdict < 0 ? "worse" : "same";
}

void hret_report_svg_forest(struct hret_html *h, const struct hret_report_diff *rows, size_t count)
{
    double m = 0.05;
    for (size_t i = 0; i < count; i++) {
        m = fmax(m, fmax(fabs(or_else(rows[i].lo, 0)), fabs(or_else(rows[i].hi, 0))));
    }
    m = ceil(m / 0.05 - 1e-9) * 0.05;
    double height = TOP + ROW_H * (double)count + 8;
    open_svg(h, "forest", height, "difference B - A per subset with 95% intervals");
    grid(h, -m, m, m / 2, height, true);
    double zero = LABEL_W + plot_w() / 2;
    hret_html_raw(h, "<line class=\"zero\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", zero,
                  TOP - 4, zero, height - 4);
    for (size_t i = 0; i < count; i++) {
        const struct hret_report_diff *d = &rows[i];
        double y = TOP + ROW_H * (double)i, cy = y + ROW_H / 2;
        double x = zero + clamp(or_else(d->diff, 0), -m, m) / m * plot_w() / 2;
        double lo = zero + clamp(or_else(d->lo, d->diff), -m, m) / m * plot_w() / 2;
        double hi = zero + clamp(or_else(d->hi, d->diff), -m, m) / m * plot_w() / 2;
        hret_html_raw(h, "<g class=\"diff %s\" data-label=\"", verdict_class(d->verdict));
        hret_html_text(h, d->label);
        hret_html_raw(h,
                      "\" data-n=\"%zu\" data-diff=\"%.17g\" data-lo=\"%.17g\" data-hi=\"%.17g\" "
                      "data-p-holm=\"%.17g\" data-verdict=\"%d\">",
                      d->n, d->diff, d->lo, d->hi, d->p_holm, d->verdict);
        row_label(h, y, d->label, d->n);
        hret_html_raw(h,
                      "<line class=\"whisker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                      "<rect class=\"point\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\"/>"
                      "<text class=\"value\" x=\"%.1f\" y=\"%.1f\">%+.1f [%+.1f, %+.1f]</text></g>",
                      lo, cy, hi, cy, x - 4, cy - 4, LABEL_W + plot_w() + 8, y + 15,
                      100 * or_else(d->diff, 0), 100 * or_else(d->lo, 0), 100 * or_else(d->hi, 0));
    }
    hret_html_raw(h, "</svg>");
}

/* The y range of a line chart: every value and mark, padded; within [0, 1] when all are. */
static void y_range(const struct hret_report_point *p, size_t n, const struct hret_report_mark *m,
                    size_t nm, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n + nm; i++) {
        double v = i < n ? p[i].value : m[i - n].value;
        if (isfinite(v)) {
            *lo = fmin(*lo, v);
            *hi = fmax(*hi, v);
        }
    }
    if (!isfinite(*lo)) {
        *lo = 0;
        *hi = 1;
    }
    bool unit = *lo >= 0 && *hi <= 1;
    double pad = fmax((*hi - *lo) * 0.15, 0.02);
    *lo -= pad;
    *hi += pad;
    if (unit) {
        *lo = fmax(*lo, 0);
        *hi = fmin(*hi, 1);
    }
}

struct line_axes {
    double lo, hi;      /* the value range */
    double top, bottom; /* its pixels */
};

static double y_of(const struct line_axes *a, double v)
{
    return a->bottom - (v - a->lo) / (a->hi - a->lo) * (a->bottom - a->top);
}

void hret_report_svg_line(struct hret_html *h, const struct hret_report_point *points, size_t count,
                          const struct hret_report_mark *marks, size_t n_marks)
{
    const double height = 260, left = 60, right = WIDTH - 150;
    struct line_axes ax = {0, 1, 16, height - 40};
    y_range(points, count, marks, n_marks, &ax.lo, &ax.hi);
    open_svg(h, "line", height, "metric history");
    for (int t = 0; t <= 4; t++) {
        double v = ax.lo + (ax.hi - ax.lo) * t / 4;
        hret_html_raw(h,
                      "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                      "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>",
                      left, y_of(&ax, v), right, y_of(&ax, v), left - 6, y_of(&ax, v) + 4, v);
    }
    for (size_t i = 0; i < n_marks; i++) {
        hret_html_raw(h, "<g class=\"mark\" data-label=\"");
        hret_html_text(h, marks[i].label);
        hret_html_raw(h,
                      "\" data-value=\"%.17g\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                      "y2=\"%.1f\"/><text class=\"axis\" x=\"%.1f\" y=\"%.1f\">",
                      marks[i].value, left, y_of(&ax, marks[i].value), right,
                      y_of(&ax, marks[i].value), right + 6, y_of(&ax, marks[i].value) + 4);
        hret_html_text(h, marks[i].label);
        hret_html_raw(h, "</text></g>");
    }
    double step = count > 1 ? (right - left) / (double)(count - 1) : 0;
    hret_html_raw(h, "<polyline class=\"series\" points=\"");
    for (size_t i = 0; i < count; i++) {
        hret_html_raw(h, "%.1f,%.1f ",
                      left + step * (double)i + (count > 1 ? 0 : (right - left) / 2),
                      y_of(&ax, points[i].value));
    }
    hret_html_raw(h, "\"/>");
    for (size_t i = 0; i < count; i++) {
        const struct hret_report_point *p = &points[i];
        double x = left + step * (double)i + (count > 1 ? 0 : (right - left) / 2);
        hret_html_raw(h, "<g class=\"point%s\" data-label=\"", p->alert ? " alert" : "");
        hret_html_text(h, p->label);
        hret_html_raw(h,
                      "\" data-value=\"%.17g\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\"/><title>",
                      p->value, x, y_of(&ax, p->value), p->alert ? 6 : 4);
        hret_html_text(h, p->when);
        hret_html_raw(h, " ");
        hret_html_text(h, p->label);
        hret_html_raw(h, ": %.4g", p->value);
        if (p->alert) {
            hret_html_raw(h, " — alert: ");
            hret_html_text(h, p->alert);
        }
        hret_html_raw(h, "</title></g>");
    }
    if (count > 0) {
        hret_html_raw(h, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">", left, height - 14);
        hret_html_text(h, points[0].when);
        hret_html_raw(h, "</text><text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                      right, height - 14);
        hret_html_text(h, points[count - 1].when);
        hret_html_raw(h, "</text>");
    }
    hret_html_raw(h, "</svg>");
}
