/* The Prometheus registry (see hret_prom.h). */
#include "hret_prom.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"

#define MAX_FAMILIES 64

struct hret_prom_series {
    const struct hret_prom_metric *family;
    char values[HRET_PROM_MAX_LABELS][HRET_PROM_MAX_LABEL_VALUE + 1];
    _Atomic uint64_t n; /* counters: integer increments, the hot path */
    _Atomic uint64_t f; /* bits of a double: fractional adds, a gauge's value, a histogram's sum */
    _Atomic uint64_t buckets[HRET_PROM_MAX_BUCKETS + 1]; /* not cumulative; last is +Inf */
};

struct hret_prom_metric {
    struct hret_prom_def def;
    size_t nlabels;
    pthread_mutex_t *lock; /* the registry's: adding series */
    struct hret_prom_series *series[HRET_PROM_MAX_SERIES];
    _Atomic size_t count; /* published with release after the slot is filled */
};

struct hret_prom {
    pthread_mutex_t lock;
    struct hret_prom_metric *families[MAX_FAMILIES];
    _Atomic size_t count;
};

static void die(const char *what, const char *name)
{
    fprintf(stderr, "level=fatal comp=prom msg=\"%s: '%s'\"\n", what, name ? name : "(null)");
    abort();
}

static bool valid_name(const char *s, bool colon)
{
    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9')) {
        return false;
    }
    for (; *s; s++) {
        bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                  (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':');
        if (!ok) {
            return false;
        }
    }
    return true;
}

struct hret_prom *hret_prom_new(void)
{
    struct hret_prom *p = hret_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void hret_prom_destroy(struct hret_prom *p)
{
    if (p == NULL) {
        return;
    }
    size_t nf = atomic_load(&p->count);
    for (size_t i = 0; i < nf; i++) {
        struct hret_prom_metric *m = p->families[i];
        size_t ns = atomic_load(&m->count);
        for (size_t j = 0; j < ns; j++) {
            free(m->series[j]);
        }
        free(m);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

struct hret_prom_metric *hret_prom_register(struct hret_prom *p, const struct hret_prom_def *def)
{
    if (!valid_name(def->name, true) || def->help == NULL) {
        die("bad metric name or no help", def->name);
    }
    struct hret_prom_metric *m = hret_xcalloc(1, sizeof *m);
    m->def = *def;
    m->lock = &p->lock;
    while (m->nlabels < HRET_PROM_MAX_LABELS && def->labels[m->nlabels] != NULL) {
        const char *l = def->labels[m->nlabels++];
        if (!valid_name(l, false) || strncmp(l, "__", 2) == 0 || strcmp(l, "le") == 0) {
            die("bad label name", l);
        }
    }
    if (def->bucket_count > HRET_PROM_MAX_BUCKETS) {
        die("too many buckets", def->name);
    }
    for (size_t i = 1; i < def->bucket_count; i++) {
        if (!(def->buckets[i] > def->buckets[i - 1])) {
            die("buckets not ascending", def->name);
        }
    }
    pthread_mutex_lock(&p->lock);
    size_t n = atomic_load_explicit(&p->count, memory_order_relaxed);
    if (n == MAX_FAMILIES) {
        die("too many metric families", def->name);
    }
    p->families[n] = m;
    atomic_store_explicit(&p->count, n + 1, memory_order_release);
    pthread_mutex_unlock(&p->lock);
    if (m->nlabels == 0) {
        hret_prom_series(m, NULL); /* always exposed, as 0 until counted */
    }
    return m;
}

/* Bytes of s kept as a label value: at most HRET_PROM_MAX_LABEL_VALUE, cut at a UTF-8 boundary. */
static size_t kept_len(const char *s)
{
    size_t n = strnlen(s, HRET_PROM_MAX_LABEL_VALUE + 1);
    if (n <= HRET_PROM_MAX_LABEL_VALUE) {
        return n;
    }
    n = HRET_PROM_MAX_LABEL_VALUE;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    return n;
}

static bool matches(const struct hret_prom_series *s, size_t nlabels, const char *const *values)
{
    for (size_t i = 0; i < nlabels; i++) {
        const char *v = values[i] ? values[i] : "";
        size_t n = kept_len(v);
        if (strlen(s->values[i]) != n || memcmp(s->values[i], v, n) != 0) {
            return false;
        }
    }
    return true;
}

static struct hret_prom_series *find(struct hret_prom_metric *m, size_t from, size_t to,
                                     const char *const *values)
{
    for (size_t i = from; i < to; i++) {
        if (matches(m->series[i], m->nlabels, values)) {
            return m->series[i];
        }
    }
    return NULL;
}

struct hret_prom_series *hret_prom_series(struct hret_prom_metric *m, const char *const *values)
{
    size_t seen = atomic_load_explicit(&m->count, memory_order_acquire);
    struct hret_prom_series *s = find(m, 0, seen, values);
    if (s != NULL) {
        return s;
    }
    pthread_mutex_lock(m->lock);
    size_t n = atomic_load_explicit(&m->count, memory_order_relaxed);
    s = find(m, seen, n, values);
    const char *other[HRET_PROM_MAX_LABELS] = {"other", "other", "other"};
    if (s == NULL && n >= HRET_PROM_MAX_SERIES - 1) { /* full: the last slot takes the rest */
        s = find(m, 0, n, other);
        values = other;
    }
    if (s == NULL) {
        s = hret_xcalloc(1, sizeof *s);
        s->family = m;
        for (size_t i = 0; i < m->nlabels; i++) {
            const char *v = values[i] ? values[i] : "";
            memcpy(s->values[i], v, kept_len(v));
        }
        m->series[n] = s;
        atomic_store_explicit(&m->count, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(m->lock);
    return s;
}

static double bits_to_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static void add_double(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, double_to_bits(bits_to_double(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* Gauges keep their whole value in f, so a set never races with an integer part. */
void hret_prom_inc(struct hret_prom_series *s, uint64_t n)
{
    if (s->family->def.type == HRET_PROM_COUNTER) {
        atomic_fetch_add_explicit(&s->n, n, memory_order_relaxed);
    } else {
        add_double(&s->f, (double)n);
    }
}

void hret_prom_add(struct hret_prom_series *s, double v)
{
    add_double(&s->f, v);
}

void hret_prom_set(struct hret_prom_series *s, double v)
{
    atomic_store_explicit(&s->f, double_to_bits(v), memory_order_relaxed);
}

void hret_prom_observe(struct hret_prom_series *s, double v)
{
    const struct hret_prom_def *def = &s->family->def;
    size_t i = 0;
    while (i < def->bucket_count && v > def->buckets[i]) { /* le: upper bounds are inclusive */
        i++;
    }
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    add_double(&s->f, v);
}

/* Reads the non-cumulative buckets once; returns their total (the histogram's count). */
static uint64_t snapshot(struct hret_prom_series *s, size_t nb, uint64_t *out)
{
    uint64_t total = 0;
    for (size_t i = 0; i <= nb; i++) {
        out[i] = atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        total += out[i];
    }
    return total;
}

double hret_prom_value(struct hret_prom_series *s)
{
    const struct hret_prom_def *def = &s->family->def;
    if (def->type == HRET_PROM_HISTOGRAM) {
        uint64_t b[HRET_PROM_MAX_BUCKETS + 1];
        return (double)snapshot(s, def->bucket_count, b);
    }
    return (double)atomic_load_explicit(&s->n, memory_order_relaxed) +
           bits_to_double(atomic_load_explicit(&s->f, memory_order_relaxed));
}

double hret_prom_total(struct hret_prom_metric *m)
{
    size_t n = atomic_load_explicit(&m->count, memory_order_acquire);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += hret_prom_value(m->series[i]);
    }
    return sum;
}

double hret_prom_total_where(struct hret_prom_metric *m, size_t label, const char *value)
{
    size_t n = atomic_load_explicit(&m->count, memory_order_acquire);
    double sum = 0;
    for (size_t i = 0; i < n && label < m->nlabels; i++) {
        if (strcmp(m->series[i]->values[label], value) == 0) {
            sum += hret_prom_value(m->series[i]);
        }
    }
    return sum;
}

/* ---- exposition ------------------------------------------------------------------------------ */

/* Go's float syntax, shortest form that reads back the same. */
static void put_number(struct hret_buf *b, double v)
{
    char s[40];
    if (isnan(v)) {
        snprintf(s, sizeof s, "NaN");
    } else if (isinf(v)) {
        snprintf(s, sizeof s, "%sInf", v > 0 ? "+" : "-");
    } else {
        snprintf(s, sizeof s, "%.15g", v);
        if (strtod(s, NULL) != v) {
            snprintf(s, sizeof s, "%.17g", v);
        }
    }
    hret_buf_append(b, s, strlen(s), NULL);
}

/* HELP text escapes \ and newline; label values also ". */
static void put_escaped(struct hret_buf *b, const char *s, bool quote)
{
    for (; *s; s++) {
        const char *e = *s == '\\'           ? "\\\\"
                        : *s == '\n'         ? "\\n"
                        : quote && *s == '"' ? "\\\""
                                             : NULL;
        hret_buf_append(b, e ? e : s, e ? strlen(e) : 1, NULL);
    }
}

/* `{a="x",b="y"` plus le="..." when le is given, then `}`; nothing without labels or le. */
static void put_labels(struct hret_buf *b, const struct hret_prom_metric *m,
                       const struct hret_prom_series *s, const char *le)
{
    if (m->nlabels == 0 && le == NULL) {
        return;
    }
    hret_buf_append(b, "{", 1, NULL);
    for (size_t i = 0; i < m->nlabels; i++) {
        hret_buf_appendf(b, NULL, "%s%s=\"", i ? "," : "", m->def.labels[i]);
        put_escaped(b, s->values[i], true);
        hret_buf_append(b, "\"", 1, NULL);
    }
    if (le != NULL) {
        hret_buf_appendf(b, NULL, "%sle=\"%s\"", m->nlabels ? "," : "", le);
    }
    hret_buf_append(b, "}", 1, NULL);
}

static void put_sample(struct hret_buf *b, const struct hret_prom_metric *m,
                       const struct hret_prom_series *s, const char *suffix, const char *le,
                       double v)
{
    hret_buf_appendf(b, NULL, "%s%s", m->def.name, suffix);
    put_labels(b, m, s, le);
    hret_buf_append(b, " ", 1, NULL);
    put_number(b, v);
    hret_buf_append(b, "\n", 1, NULL);
}

static void put_histogram(struct hret_buf *b, const struct hret_prom_metric *m,
                          struct hret_prom_series *s)
{
    uint64_t counts[HRET_PROM_MAX_BUCKETS + 1];
    size_t nb = m->def.bucket_count;
    uint64_t total = snapshot(s, nb, counts);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < nb; i++) {
        struct hret_buf le;
        hret_buf_init(&le, 64);
        put_number(&le, m->def.buckets[i]);
        cumulative += counts[i];
        put_sample(b, m, s, "_bucket", hret_buf_str(&le), (double)cumulative);
        hret_buf_fini(&le);
    }
    put_sample(b, m, s, "_bucket", "+Inf", (double)total);
    put_sample(b, m, s, "_sum", NULL,
               bits_to_double(atomic_load_explicit(&s->f, memory_order_relaxed)));
    put_sample(b, m, s, "_count", NULL, (double)total);
}

static const char *type_name(enum hret_prom_type t)
{
    return t == HRET_PROM_COUNTER ? "counter" : t == HRET_PROM_GAUGE ? "gauge" : "histogram";
}

enum hret_result hret_prom_render(struct hret_prom *p, struct hret_buf *out, struct hret_err *err)
{
    /* Rendered whole, then appended in one piece: a render past out's cap adds nothing. The
     * scratch buffer's size is bounded by the families, series and buckets allowed. */
    struct hret_buf b;
    hret_buf_init(&b, SIZE_MAX);
    size_t nf = atomic_load_explicit(&p->count, memory_order_acquire);
    for (size_t i = 0; i < nf; i++) {
        struct hret_prom_metric *m = p->families[i];
        hret_buf_appendf(&b, NULL, "# HELP %s ", m->def.name);
        put_escaped(&b, m->def.help, false);
        hret_buf_appendf(&b, NULL, "\n# TYPE %s %s\n", m->def.name, type_name(m->def.type));
        size_t ns = atomic_load_explicit(&m->count, memory_order_acquire);
        for (size_t j = 0; j < ns; j++) {
            if (m->def.type == HRET_PROM_HISTOGRAM) {
                put_histogram(&b, m, m->series[j]);
            } else {
                put_sample(&b, m, m->series[j], "", NULL, hret_prom_value(m->series[j]));
            }
        }
    }
    enum hret_result r = b.len > 0 ? hret_buf_append(out, b.data, b.len, err) : HRET_OK;
    hret_buf_fini(&b);
    return r;
}
