/* Per-partition offset watermarks for a consumer whose jobs finish out of order: only the lowest
 * contiguous finished offset + 1 may be stored (committed), or a crash would skip unfinished
 * work (reference/infra.md §3.2). Pure data structure: no librdkafka, no I/O, not thread-safe
 * (the consumer's poll thread owns it). */
#ifndef HRET_KAFKA_WATERMARK_H
#define HRET_KAFKA_WATERMARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hret_kafka_watermark;

struct hret_kafka_watermark *hret_kafka_watermark_new(void); /* caller owns result */
void hret_kafka_watermark_destroy(struct hret_kafka_watermark *w);

/* offset of topic/partition (topic borrowed, copied) was handed to a job. Offsets usually come
 * in increasing order; a lower one (a redelivery after a seek) is tracked too. */
void hret_kafka_watermark_begin(struct hret_kafka_watermark *w, const char *topic,
                                int32_t partition, int64_t offset);

/* The job of offset finished. Returns true when the partition's store point moved forward, with
 * *store set to it: the lowest offset still in flight, or the highest begun + 1 when none is.
 * An offset never begun (or finished twice) changes nothing. */
bool hret_kafka_watermark_finish(struct hret_kafka_watermark *w, const char *topic,
                                 int32_t partition, int64_t offset, int64_t *store);

/* The partition was revoked: forget its state (its offsets can no longer be stored). */
void hret_kafka_watermark_forget(struct hret_kafka_watermark *w, const char *topic,
                                 int32_t partition);

/* Jobs of the partition still in flight. */
size_t hret_kafka_watermark_pending(const struct hret_kafka_watermark *w, const char *topic,
                                    int32_t partition);

#endif
