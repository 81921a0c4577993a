#include "hret_kafka_watermark.h"

#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"

struct part {
    char *topic;
    int32_t partition;
    int64_t *pending; /* in flight, ascending */
    size_t n, cap;
    int64_t next;   /* highest begun + 1 */
    int64_t stored; /* last store point handed out (first begun offset at the start) */
};

struct hret_kafka_watermark {
    struct part *parts;
    size_t n, cap;
};

struct hret_kafka_watermark *hret_kafka_watermark_new(void)
{
    return hret_xcalloc(1, sizeof(struct hret_kafka_watermark));
}

void hret_kafka_watermark_destroy(struct hret_kafka_watermark *w)
{
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < w->n; i++) {
        free(w->parts[i].topic);
        free(w->parts[i].pending);
    }
    free(w->parts);
    free(w);
}

static struct part *find(const struct hret_kafka_watermark *w, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->parts[i].partition == partition && strcmp(w->parts[i].topic, topic) == 0) {
            return &w->parts[i];
        }
    }
    return NULL;
}

/* Index of the first pending offset >= offset. */
static size_t lower_bound(const struct part *p, int64_t offset)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->pending[mid] < offset) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

void hret_kafka_watermark_begin(struct hret_kafka_watermark *w, const char *topic,
                                int32_t partition, int64_t offset)
{
    struct part *p = find(w, topic, partition);
    if (p == NULL) {
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 8;
            w->parts = hret_xrealloc(w->parts, w->cap * sizeof *w->parts);
        }
        p = &w->parts[w->n++];
        /* the partition's position before its first job: nothing to store until it moves */
        *p = (struct part){.topic = hret_xstrdup(topic), .partition = partition, .stored = offset};
    }
    size_t at = lower_bound(p, offset);
    if (at < p->n && p->pending[at] == offset) {
        return; /* already in flight */
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->pending = hret_xrealloc(p->pending, p->cap * sizeof *p->pending);
    }
    memmove(p->pending + at + 1, p->pending + at, (p->n - at) * sizeof *p->pending);
    p->pending[at] = offset;
    p->n++;
    if (offset + 1 > p->next) {
        p->next = offset + 1;
    }
}

bool hret_kafka_watermark_finish(struct hret_kafka_watermark *w, const char *topic,
                                 int32_t partition, int64_t offset, int64_t *store)
{
    struct part *p = find(w, topic, partition);
    if (p == NULL) {
        return false;
    }
    size_t at = lower_bound(p, offset);
    if (at == p->n || p->pending[at] != offset) {
        return false;
    }
    memmove(p->pending + at, p->pending + at + 1, (p->n - at - 1) * sizeof *p->pending);
    p->n--;
    int64_t point = p->n > 0 ? p->pending[0] : p->next;
    if (point <= p->stored) {
        return false;
    }
    p->stored = point;
    *store = point;
    return true;
}

void hret_kafka_watermark_forget(struct hret_kafka_watermark *w, const char *topic,
                                 int32_t partition)
{
    struct part *p = find(w, topic, partition);
    if (p == NULL) {
        return;
    }
    free(p->topic);
    free(p->pending);
    *p = w->parts[--w->n];
}

size_t hret_kafka_watermark_pending(const struct hret_kafka_watermark *w, const char *topic,
                                    int32_t partition)
{
    const struct part *p = find(w, topic, partition);
    return p ? p->n : 0;
}
