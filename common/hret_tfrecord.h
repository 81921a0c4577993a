/* TensorBoard event files without TensorFlow: TFRecord framing (length, masked CRC32C of the
 * length, data, masked CRC32C of the data; integers little-endian) around `Event` protobufs
 * encoded by hand. Only the fields a scalar log needs (tensorflow/core/util/event.proto and
 * framework/summary.proto):
 *
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; float simple_value = 2; }
 *
 * Encoding is proto3's canonical form: a step or file_version at its default (0, none) is left
 * out, so the same input always gives the same bytes. */
#ifndef HRET_TFRECORD_H
#define HRET_TFRECORD_H

#include <stddef.h>
#include <stdint.h>

#include "hret_buf.h"
#include "hret_err.h"

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of len bytes at data (borrowed). */
uint32_t hret_crc32c(const void *data, size_t len);

/* TFRecord's masking of a CRC stored next to the data it covers:
 * ((crc >> 15) | (crc << 17)) + 0xa282ead8. */
uint32_t hret_tfrecord_mask(uint32_t crc);

/* Appends one framed record holding len bytes at data (borrowed) to out. */
enum hret_result hret_tfrecord_frame(struct hret_buf *out, const void *data, size_t len,
                                     struct hret_err *err);

struct hret_tfrecord_scalar {
    const char *tag; /* borrowed */
    float value;
};

/* Appends an encoded Event (not framed) to out: wall_time, step, file_version (nullable) and a
 * summary of the n scalars (none when n is 0). values and file_version are borrowed. */
enum hret_result hret_tfrecord_event(struct hret_buf *out, double wall_time, long long step,
                                     const char *file_version,
                                     const struct hret_tfrecord_scalar *values, size_t n,
                                     struct hret_err *err);

#endif
