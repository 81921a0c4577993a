/* A small Prometheus registry: counters, gauges and fixed-bucket histograms with up to three
 * labels, rendered in the text exposition format 0.0.4 (reference/infra.md §6.2).
 *
 * Thread-safe by construction: values are C11 atomics updated with relaxed operations (an
 * integer counter increment is one atomic add), series are append-only and published with a
 * release store, so hret_prom_render may run on another thread (the HTTP server's) while the
 * main loop counts. Families are registered up front (before any render); new label sets are
 * added under a mutex. Each family holds at most HRET_PROM_MAX_SERIES label sets; beyond that,
 * new sets count in one series whose label values are all "other", so a misbehaving label (a
 * model name per request) cannot grow memory or the exposition without bound. */
#ifndef HRET_PROM_H
#define HRET_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "hret_buf.h"

#define HRET_PROM_MAX_LABELS 3
#define HRET_PROM_MAX_BUCKETS 16
#define HRET_PROM_MAX_SERIES 64
#define HRET_PROM_MAX_LABEL_VALUE 96 /* bytes kept of a label value (cut at a UTF-8 boundary) */

enum hret_prom_type { HRET_PROM_COUNTER, HRET_PROM_GAUGE, HRET_PROM_HISTOGRAM };

/* A metric family as declared; all strings borrowed and must outlive the registry (literals).
 * name matches [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* (checked: a bad
 * declaration is a programming error and aborts). */
struct hret_prom_def {
    enum hret_prom_type type;
    const char *name;
    const char *help;
    const char *labels[HRET_PROM_MAX_LABELS]; /* NULL-terminated when fewer */
    double buckets[HRET_PROM_MAX_BUCKETS];    /* histograms: upper bounds, ascending */
    size_t bucket_count;                      /* without +Inf, which is implicit */
};

struct hret_prom;
struct hret_prom_metric;
struct hret_prom_series;

struct hret_prom *hret_prom_new(void); /* caller owns result */
void hret_prom_destroy(struct hret_prom *p);

/* Registers a family (def copied, its strings borrowed); exposition follows registration
 * order. Returns the family, owned by p. */
struct hret_prom_metric *hret_prom_register(struct hret_prom *p, const struct hret_prom_def *def);

/* The series of a label set: values has one entry per declared label (borrowed, copied; NULL
 * reads as ""), NULL for a family without labels. The result is owned by the family and stable:
 * callers on a hot path may keep it. */
struct hret_prom_series *hret_prom_series(struct hret_prom_metric *m, const char *const *values);

/* Counter (or gauge) += n: one relaxed atomic add. */
void hret_prom_inc(struct hret_prom_series *s, uint64_t n);
/* Counter or gauge += v (fractional, or negative for gauges). */
void hret_prom_add(struct hret_prom_series *s, double v);
/* Gauge = v. */
void hret_prom_set(struct hret_prom_series *s, double v);
/* Histogram: counts v in its bucket and adds it to the sum. */
void hret_prom_observe(struct hret_prom_series *s, double v);

/* Current value of a series (a histogram's count). */
double hret_prom_value(struct hret_prom_series *s);
/* Sum over the family's series (a histogram's: total count): for the stats log line. */
double hret_prom_total(struct hret_prom_metric *m);
/* The same over the series whose label number label (0-based) has value (borrowed). */
double hret_prom_total_where(struct hret_prom_metric *m, size_t label, const char *value);

/* Appends the exposition text of every family to out; HRET_E_PROTO when it passes out's cap. */
enum hret_result hret_prom_render(struct hret_prom *p, struct hret_buf *out, struct hret_err *err);

#endif
