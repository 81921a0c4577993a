/* TFRecord framing and the Event protobuf subset (see hret_tfrecord.h). */
#include "hret_tfrecord.h"

#include <string.h>

#define TFRECORD_MASK_DELTA 0xa282ead8u

/* protobuf wire types */
#define WIRE_VARINT 0
#define WIRE_64BIT 1
#define WIRE_LEN 2
#define WIRE_32BIT 5

uint32_t hret_crc32c(const void *data, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* racing threads compute the same table: harmless */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            }
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    }
    return crc ^ 0xFFFFFFFFu;
}

uint32_t hret_tfrecord_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + TFRECORD_MASK_DELTA;
}

static void le32(unsigned char *out, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        out[i] = (unsigned char)(v >> (8 * i));
    }
}

static void le64(unsigned char *out, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (unsigned char)(v >> (8 * i));
    }
}

enum hret_result hret_tfrecord_frame(struct hret_buf *out, const void *data, size_t len,
                                     struct hret_err *err)
{
    unsigned char head[12], tail[4];
    le64(head, (uint64_t)len);
    le32(head + 8, hret_tfrecord_mask(hret_crc32c(head, 8)));
    le32(tail, hret_tfrecord_mask(hret_crc32c(data, len)));
    if (hret_buf_append(out, head, sizeof head, err) != HRET_OK ||
        hret_buf_append(out, data, len, err) != HRET_OK) {
        return err->code;
    }
    return hret_buf_append(out, tail, sizeof tail, err);
}

/* ---- protobuf ------------------------------------------------------------------------------- */

static enum hret_result varint(struct hret_buf *b, uint64_t v, struct hret_err *err)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (unsigned char)(v & 0x7F);
        v >>= 7;
        tmp[n] |= v ? 0x80 : 0;
        n++;
    } while (v);
    return hret_buf_append(b, tmp, n, err);
}

static enum hret_result key(struct hret_buf *b, unsigned field, unsigned wire, struct hret_err *err)
{
    return varint(b, (uint64_t)field << 3 | wire, err);
}

static enum hret_result bytes_field(struct hret_buf *b, unsigned field, const void *p, size_t n,
                                    struct hret_err *err)
{
    if (key(b, field, WIRE_LEN, err) != HRET_OK || varint(b, n, err) != HRET_OK) {
        return err->code;
    }
    return hret_buf_append(b, p, n, err);
}

/* Value { tag = 1; simple_value = 2 } */
static enum hret_result value_msg(struct hret_buf *b, const struct hret_tfrecord_scalar *v,
                                  struct hret_err *err)
{
    uint32_t bits;
    memcpy(&bits, &v->value, sizeof bits);
    unsigned char f[4];
    le32(f, bits);
    if (bytes_field(b, 1, v->tag, strlen(v->tag), err) != HRET_OK ||
        key(b, 2, WIRE_32BIT, err) != HRET_OK) {
        return err->code;
    }
    return hret_buf_append(b, f, sizeof f, err);
}

/* Summary { repeated Value value = 1 } */
static enum hret_result summary_msg(struct hret_buf *b, const struct hret_tfrecord_scalar *values,
                                    size_t n, struct hret_err *err)
{
    struct hret_buf v;
    hret_buf_init(&v, b->max);
    enum hret_result r = HRET_OK;
    for (size_t i = 0; i < n && r == HRET_OK; i++) {
        hret_buf_reset(&v);
        r = value_msg(&v, &values[i], err);
        if (r == HRET_OK) {
            r = bytes_field(b, 1, v.data, v.len, err);
        }
    }
    hret_buf_fini(&v);
    return r;
}

enum hret_result hret_tfrecord_event(struct hret_buf *out, double wall_time, long long step,
                                     const char *file_version,
                                     const struct hret_tfrecord_scalar *values, size_t n,
                                     struct hret_err *err)
{
    uint64_t bits;
    memcpy(&bits, &wall_time, sizeof bits);
    unsigned char d[8];
    le64(d, bits);
    if (key(out, 1, WIRE_64BIT, err) != HRET_OK || hret_buf_append(out, d, 8, err) != HRET_OK) {
        return err->code;
    }
    /* int64 as a varint: a negative step takes ten bytes (two's complement), as protobuf does */
    if (step != 0 &&
        (key(out, 2, WIRE_VARINT, err) != HRET_OK || varint(out, (uint64_t)step, err) != HRET_OK)) {
        return err->code;
    }
    if (file_version != NULL &&
        bytes_field(out, 3, file_version, strlen(file_version), err) != HRET_OK) {
        return err->code;
    }
    if (n == 0) {
        return HRET_OK;
    }
    struct hret_buf s;
    hret_buf_init(&s, out->max);
    enum hret_result r = summary_msg(&s, values, n, err);
    if (r == HRET_OK) {
        r = bytes_field(out, 5, s.data, s.len, err);
    }
    hret_buf_fini(&s);
    return r;
}
