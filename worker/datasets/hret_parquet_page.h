/* Internal to the Parquet reader (hret_parquet*.c): one page's bytes turned into values.
 * Decompression (snappy, gzip, zstd), the RLE/bit-packed hybrid (levels, dictionary indices,
 * v2 booleans), PLAIN decoding, and each value as text the way the tables hold it: integers in
 * decimal, floats as Python's repr ("0.5", "1.0", "1e+16"), booleans "True"/"False", byte arrays
 * as they are. Every length is checked against the input; errors are HRET_E_INVAL without the
 * file name (the caller prefixes file and column). */
#ifndef HRET_PARQUET_PAGE_H
#define HRET_PARQUET_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hret_buf.h"
#include "hret_err.h"

/* Values decoded as text: value i is text.data[off[i] .. off[i+1]). */
struct hret_pq_values {
    struct hret_buf text;
    size_t *off; /* owned, n + 1 entries once n > 0 */
    size_t n, alloc;
};

void hret_pq_values_init(struct hret_pq_values *v);
void hret_pq_values_fini(struct hret_pq_values *v);
void hret_pq_values_reset(struct hret_pq_values *v);
static inline const char *hret_pq_value(const struct hret_pq_values *v, size_t i, size_t *len)
{
    *len = v->off[i + 1] - v->off[i];
    return *len ? v->text.data + v->off[i] : "";
}

/* Decompresses n bytes at src into exactly dst_n bytes at dst (codec: enum hret_pq_codec). */
enum hret_result hret_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst,
                                    size_t dst_n, struct hret_err *err);

/* The RLE/bit-packed hybrid: count values of bit_width (0..32) from p[0..n) into out.
 * *used is how many bytes were consumed. */
enum hret_result hret_pq_rle(const uint8_t *p, size_t n, int bit_width, uint32_t *out, size_t count,
                             size_t *used, struct hret_err *err);

/* Bits needed for values up to max (0 for 0). */
int hret_pq_bit_width(uint32_t max);

/* PLAIN: count values of a physical type from p[0..n), appended to out as text. is_unsigned
 * prints INT32/INT64 as unsigned (UINT_32, UINT_64). *used: bytes consumed. */
enum hret_result hret_pq_plain(int type, bool is_unsigned, const uint8_t *p, size_t n, size_t count,
                               struct hret_pq_values *out, size_t *used, struct hret_err *err);

/* RLE-encoded booleans (v2 data pages): a 4-byte length, then the hybrid with width 1. */
enum hret_result hret_pq_rle_bool(const uint8_t *p, size_t n, size_t count,
                                  struct hret_pq_values *out, struct hret_err *err);

/* Dictionary indices (a bit-width byte, then the hybrid): count values of dict appended to out;
 * an index past the dictionary is an error. */
enum hret_result hret_pq_dict_values(const uint8_t *p, size_t n, size_t count,
                                     const struct hret_pq_values *dict, struct hret_pq_values *out,
                                     struct hret_err *err);

#endif
