/* Page-level decoding for the Parquet reader: see hret_parquet_page.h. */
#include "hret_parquet_page.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "hret_mem.h"
#include "hret_parquet_meta.h"

#define VALUES_MAX_BYTES ((size_t)2 << 30)

/* ---- value lists ------------------------------------------------------------------------- */

void hret_pq_values_init(struct hret_pq_values *v)
{
    memset(v, 0, sizeof *v);
    hret_buf_init(&v->text, VALUES_MAX_BYTES);
}

void hret_pq_values_fini(struct hret_pq_values *v)
{
    hret_buf_fini(&v->text);
    free(v->off);
    memset(v, 0, sizeof *v);
}

void hret_pq_values_reset(struct hret_pq_values *v)
{
    hret_buf_reset(&v->text);
    v->n = 0;
}

static enum hret_result push_value(struct hret_pq_values *v, const void *p, size_t len,
                                   struct hret_err *err)
{
    if (v->n + 2 > v->alloc) {
        v->alloc = v->alloc ? v->alloc * 2 : 1024;
        v->off = hret_xrealloc(v->off, v->alloc * sizeof *v->off);
    }
    if (v->n == 0) {
        v->off[0] = v->text.len;
    }
    enum hret_result r = len ? hret_buf_append(&v->text, p, len, err) : HRET_OK;
    if (r == HRET_OK) {
        v->off[++v->n] = v->text.len;
    }
    return r;
}

/* ---- decompression ----------------------------------------------------------------------- */

static enum hret_result gunzip(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_n,
                               struct hret_err *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) { /* gzip or zlib header */
        return hret_err_set(err, HRET_E_FATAL, "zlib: inflateInit2 failed");
    }
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)dst_n;
    int rc = inflate(&z, Z_FINISH);
    size_t got = dst_n - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || got != dst_n) {
        return hret_err_set(err, HRET_E_INVAL, "corrupt gzip data (zlib %d, %zu of %zu bytes)", rc,
                            got, dst_n);
    }
    return HRET_OK;
}

enum hret_result hret_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst,
                                    size_t dst_n, struct hret_err *err)
{
    if (n > UINT32_MAX || dst_n > UINT32_MAX) {
        return hret_err_set(err, HRET_E_INVAL, "page larger than 4 GiB");
    }
    size_t len = 0;
    switch (codec) {
    case HRET_PQ_UNCOMPRESSED:
        if (n != dst_n) {
            return hret_err_set(err, HRET_E_INVAL, "page sizes disagree (%zu vs %zu)", n, dst_n);
        }
        memcpy(dst, src, n);
        return HRET_OK;
    case HRET_PQ_SNAPPY:
        if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK || len != dst_n) {
            return hret_err_set(err, HRET_E_INVAL, "corrupt snappy data");
        }
        len = dst_n;
        if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK ||
            len != dst_n) {
            return hret_err_set(err, HRET_E_INVAL, "corrupt snappy data");
        }
        return HRET_OK;
    case HRET_PQ_GZIP:
        return gunzip(src, n, dst, dst_n, err);
    case HRET_PQ_ZSTD:
        len = ZSTD_decompress(dst, dst_n, src, n);
        if (ZSTD_isError(len) || len != dst_n) {
            return hret_err_set(err, HRET_E_INVAL, "corrupt zstd data");
        }
        return HRET_OK;
    default:
        return hret_err_set(err, HRET_E_INVAL, "unsupported codec %d", codec);
    }
}

/* ---- RLE / bit-packed hybrid ------------------------------------------------------------- */

int hret_pq_bit_width(uint32_t max)
{
    int w = 0;
    while (max != 0) {
        w++;
        max >>= 1;
    }
    return w;
}

static bool read_uleb(const uint8_t *p, size_t n, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *pos < n; shift += 7) {
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Value i of a bit-packed run of width w at p (nbytes long, checked by the caller). */
static uint32_t unpack_one(const uint8_t *p, size_t nbytes, int w, size_t i)
{
    size_t bit = i * (size_t)w;
    uint64_t acc = 0;
    size_t first = bit / 8;
    for (size_t b = 0; b < 5 && first + b < nbytes; b++) {
        acc |= (uint64_t)p[first + b] << (8 * b);
    }
    acc >>= bit % 8;
    return w == 32 ? (uint32_t)acc : (uint32_t)(acc & ((1ULL << w) - 1));
}

enum hret_result hret_pq_rle(const uint8_t *p, size_t n, int bit_width, uint32_t *out, size_t count,
                             size_t *used, struct hret_err *err)
{
    if (bit_width < 0 || bit_width > 32) {
        return hret_err_set(err, HRET_E_INVAL, "bit width %d out of range", bit_width);
    }
    size_t pos = 0, got = 0, vbytes = ((size_t)bit_width + 7) / 8;
    while (got < count) {
        uint64_t header;
        if (!read_uleb(p, n, &pos, &header)) {
            return hret_err_set(err, HRET_E_INVAL, "truncated RLE data (%zu of %zu values)", got,
                                count);
        }
        uint64_t runs = header >> 1;
        if (header & 1) { /* bit-packed: runs groups of 8 values, w bytes per group */
            size_t want = count - got;
            size_t vals = runs * 8 < want ? (size_t)runs * 8 : want;
            size_t need = (vals * (size_t)bit_width + 7) / 8;
            if (runs > n || need > n - pos) {
                return hret_err_set(err, HRET_E_INVAL, "truncated bit-packed run");
            }
            for (size_t i = 0; i < vals; i++) {
                out[got + i] = unpack_one(p + pos, n - pos, bit_width, i);
            }
            size_t full = (size_t)runs * (size_t)bit_width;
            pos += full <= n - pos ? full : need;
            got += vals;
        } else {
            if (vbytes > n - pos || runs == 0) {
                return hret_err_set(err, HRET_E_INVAL, "truncated RLE run");
            }
            uint32_t v = 0;
            for (size_t b = 0; b < vbytes; b++) {
                v |= (uint32_t)p[pos + b] << (8 * b);
            }
            pos += vbytes;
            size_t take = runs < count - got ? (size_t)runs : count - got;
            for (size_t i = 0; i < take; i++) {
                out[got + i] = v;
            }
            got += take;
        }
    }
    if (used != NULL) {
        *used = pos;
    }
    return HRET_OK;
}

/* ---- values as text ---------------------------------------------------------------------- */

/* Python's repr of a float: the shortest digits that read back, fixed notation for exponents
 * -4..15 with at least one decimal, else d.ddde+XX. single: round-trip as a float. */
static int format_float(char *buf, size_t cap, double v, bool single)
{
    if (isnan(v)) {
        return snprintf(buf, cap, "nan");
    }
    if (isinf(v)) {
        return snprintf(buf, cap, v < 0 ? "-inf" : "inf");
    }
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(buf, cap, "%.*e", digits - 1, v);
        if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v) {
            break;
        }
    }
    snprintf(buf, cap, "%.*e", digits - 1, v);
    int exp = atoi(strchr(buf, 'e') + 1);
    if (exp < -4 || exp >= 16) {
        return (int)strlen(buf);
    }
    int decimals = digits - 1 - exp > 0 ? digits - 1 - exp : 0;
    int len = snprintf(buf, cap, "%.*f", decimals, v);
    if (strchr(buf, '.') == NULL && len + 2 < (int)cap) {
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    return len;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* One fixed-width value at p as text. */
static int fixed_text(int type, bool is_unsigned, const uint8_t *p, char *buf, size_t cap)
{
    uint32_t u32 = type == HRET_PQ_INT32 || type == HRET_PQ_FLOAT ? le32(p) : 0;
    uint64_t u64 = type == HRET_PQ_INT64 || type == HRET_PQ_DOUBLE ? le64(p) : 0;
    float f;
    double d;
    switch (type) {
    case HRET_PQ_INT32:
        return is_unsigned ? snprintf(buf, cap, "%" PRIu32, u32)
                           : snprintf(buf, cap, "%" PRId32, (int32_t)u32);
    case HRET_PQ_INT64:
        return is_unsigned ? snprintf(buf, cap, "%" PRIu64, u64)
                           : snprintf(buf, cap, "%" PRId64, (int64_t)u64);
    case HRET_PQ_FLOAT:
        memcpy(&f, &u32, sizeof f);
        return format_float(buf, cap, f, true);
    default:
        memcpy(&d, &u64, sizeof d);
        return format_float(buf, cap, d, false);
    }
}

static enum hret_result plain_bytes(const uint8_t *p, size_t n, size_t count,
                                    struct hret_pq_values *out, size_t *used, struct hret_err *err)
{
    size_t pos = 0;
    enum hret_result r = HRET_OK;
    for (size_t i = 0; i < count && r == HRET_OK; i++) {
        if (n - pos < 4 || le32(p + pos) > n - pos - 4) {
            return hret_err_set(err, HRET_E_INVAL, "truncated BYTE_ARRAY value %zu", i);
        }
        size_t len = le32(p + pos);
        if (memchr(p + pos + 4, '\0', len) != NULL) {
            return hret_err_set(err, HRET_E_INVAL, "value %zu holds a NUL byte", i);
        }
        r = push_value(out, p + pos + 4, len, err);
        pos += 4 + len;
    }
    *used = pos;
    return r;
}

enum hret_result hret_pq_plain(int type, bool is_unsigned, const uint8_t *p, size_t n, size_t count,
                               struct hret_pq_values *out, size_t *used, struct hret_err *err)
{
    if (type == HRET_PQ_BYTE_ARRAY) {
        return plain_bytes(p, n, count, out, used, err);
    }
    size_t width = type == HRET_PQ_INT64 || type == HRET_PQ_DOUBLE ? 8 : 4;
    if (type == HRET_PQ_BOOLEAN ? (count + 7) / 8 > n : count > n / width) {
        return hret_err_set(err, HRET_E_INVAL, "truncated PLAIN values (%zu expected)", count);
    }
    enum hret_result r = HRET_OK;
    char buf[64];
    for (size_t i = 0; i < count && r == HRET_OK; i++) {
        if (type == HRET_PQ_BOOLEAN) {
            bool b = (p[i / 8] >> (i % 8)) & 1;
            r = push_value(out, b ? "True" : "False", b ? 4 : 5, err);
        } else {
            int len = fixed_text(type, is_unsigned, p + i * width, buf, sizeof buf);
            r = push_value(out, buf, (size_t)len, err);
        }
    }
    *used = type == HRET_PQ_BOOLEAN ? (count + 7) / 8 : count * width;
    return r;
}

enum hret_result hret_pq_rle_bool(const uint8_t *p, size_t n, size_t count,
                                  struct hret_pq_values *out, struct hret_err *err)
{
    if (n < 4 || le32(p) > n - 4) {
        return hret_err_set(err, HRET_E_INVAL, "truncated RLE booleans");
    }
    uint32_t *bits = hret_xmalloc((count ? count : 1) * sizeof *bits);
    enum hret_result r = hret_pq_rle(p + 4, le32(p), 1, bits, count, NULL, err);
    for (size_t i = 0; i < count && r == HRET_OK; i++) {
        r = push_value(out, bits[i] ? "True" : "False", bits[i] ? 4 : 5, err);
    }
    free(bits);
    return r;
}

enum hret_result hret_pq_dict_values(const uint8_t *p, size_t n, size_t count,
                                     const struct hret_pq_values *dict, struct hret_pq_values *out,
                                     struct hret_err *err)
{
    if (count > 0 && n < 1) {
        return hret_err_set(err, HRET_E_INVAL, "truncated dictionary indices");
    }
    uint32_t *idx = hret_xmalloc((count ? count : 1) * sizeof *idx);
    enum hret_result r = count ? hret_pq_rle(p + 1, n - 1, p[0], idx, count, NULL, err) : HRET_OK;
    for (size_t i = 0; i < count && r == HRET_OK; i++) {
        if (idx[i] >= dict->n) {
            r = hret_err_set(err, HRET_E_INVAL, "dictionary index %" PRIu32 " past its %zu values",
                             idx[i], dict->n);
            break;
        }
        size_t len;
        const char *v = hret_pq_value(dict, idx[i], &len);
        r = push_value(out, v, len, err);
    }
    free(idx);
    return r;
}
