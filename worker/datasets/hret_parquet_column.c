/* Column assembly for the Parquet reader: pages of one column chunk into cells. A flat column
 * has one level entry per row (definition level max_def = a value, less = null); a list column
 * starts a row at repetition level 0 and adds an element per entry (see struct hret_pq_col). */
#include "hret_parquet_column.h"

#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_mem.h"
#include "hret_parquet_page.h"

#define PAGE_MAX_BYTES ((size_t)1 << 30)
#define PAGE_MAX_VALUES ((size_t)1 << 26)

struct chunk_state {
    const struct hret_pq_chunk_ctx *ctx;
    const struct hret_pq_col *col;
    int codec;
    struct hret_pq_values dict;
    bool has_dict;
    struct hret_pq_values vals; /* the current page's non-null values */
    uint32_t *def, *rep;        /* the current page's levels */
    size_t rows;                /* rows emitted (or started, for a list) in this chunk */
    struct hret_buf list;       /* the list being built */
    bool in_row, row_null;
    size_t list_items;
    uint8_t *page; /* decompressed page */
};

static const char *encoding_name(int e)
{
    switch (e) {
    case 1:
        return "GROUP_VAR_INT";
    case 4:
        return "BIT_PACKED";
    case 5:
        return "DELTA_BINARY_PACKED";
    case 6:
        return "DELTA_LENGTH_BYTE_ARRAY";
    case 7:
        return "DELTA_BYTE_ARRAY";
    case 9:
        return "BYTE_STREAM_SPLIT";
    default:
        return "unknown";
    }
}

static enum hret_result refuse_encoding(const struct chunk_state *s, int e, struct hret_err *err)
{
    return hret_err_set(err, HRET_E_INVAL,
                        "%s: column '%s': encoding %s (%d) is not supported (PLAIN and "
                        "dictionary encodings are)",
                        s->ctx->file, s->col->name, encoding_name(e), e);
}

/* ---- cells ------------------------------------------------------------------------------- */

static enum hret_result next_row(struct chunk_state *s, struct hret_err *err)
{
    if (s->rows >= s->ctx->num_rows) {
        return hret_err_set(err, HRET_E_INVAL,
                            "%s: column '%s' has more rows than its row group's %zu", s->ctx->file,
                            s->col->name, s->ctx->num_rows);
    }
    s->rows++;
    return HRET_OK;
}

static enum hret_result emit(struct chunk_state *s, const char *text, size_t len,
                             struct hret_err *err)
{
    return s->ctx->sink->cell(s->ctx->sink->ctx, s->ctx->row_base + s->rows - 1, s->col->index,
                              text, len, err);
}

/* A JSON string as cJSON prints it: ", \ and control characters escaped, UTF-8 kept. */
static enum hret_result json_string(struct hret_buf *b, const char *v, size_t len,
                                    struct hret_err *err)
{
    enum hret_result r = hret_buf_append(b, "\"", 1, err);
    for (size_t i = 0; i < len && r == HRET_OK; i++) {
        unsigned char c = (unsigned char)v[i];
        static const char short_esc[] = "\b\f\n\r\t";
        static const char short_chr[] = "bfnrt";
        const char *k = c ? strchr(short_esc, c) : NULL;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            r = hret_buf_append(b, e, 2, err);
        } else if (k != NULL) {
            char e[2] = {'\\', short_chr[k - short_esc]};
            r = hret_buf_append(b, e, 2, err);
        } else if (c < 0x20) {
            r = hret_buf_appendf(b, err, "\\u%04x", c);
        } else {
            r = hret_buf_append(b, &v[i], 1, err);
        }
    }
    return r == HRET_OK ? hret_buf_append(b, "\"", 1, err) : r;
}

static enum hret_result list_flush(struct chunk_state *s, struct hret_err *err)
{
    if (!s->in_row) {
        return HRET_OK;
    }
    s->in_row = false;
    if (s->row_null) {
        return HRET_OK;
    }
    enum hret_result r = hret_buf_append(&s->list, "]", 1, err);
    return r == HRET_OK ? emit(s, s->list.data, s->list.len, err) : r;
}

/* One level entry of a list column; *vi is the next non-null value. */
static enum hret_result list_entry(struct chunk_state *s, uint32_t def, uint32_t rep, size_t *vi,
                                   struct hret_err *err)
{
    const struct hret_pq_col *c = s->col;
    enum hret_result r = HRET_OK;
    if (rep == 0) {
        r = list_flush(s, err);
        if (r == HRET_OK) {
            r = next_row(s, err);
        }
        if (r != HRET_OK) {
            return r;
        }
        s->in_row = true;
        s->row_null = (int)def < c->list_def;
        s->list_items = 0;
        hret_buf_reset(&s->list);
        r = hret_buf_append(&s->list, "[", 1, err);
    } else if (!s->in_row || s->row_null) {
        return hret_err_set(err, HRET_E_INVAL, "%s: column '%s': repeated value outside a list",
                            s->ctx->file, c->name);
    }
    if (r != HRET_OK || (int)def < c->elem_def) {
        return r;
    }
    if (s->list_items++ > 0) {
        r = hret_buf_append(&s->list, ",", 1, err);
    }
    if (r == HRET_OK && (int)def == c->max_def) {
        size_t len;
        const char *v = hret_pq_value(&s->vals, (*vi)++, &len);
        r = json_string(&s->list, v, len, err);
    } else if (r == HRET_OK) {
        r = hret_buf_append(&s->list, "null", 4, err);
    }
    return r;
}

/* Turns the current page's levels and values into cells. */
static enum hret_result assemble(struct chunk_state *s, size_t num_values, struct hret_err *err)
{
    const struct hret_pq_col *c = s->col;
    size_t vi = 0;
    enum hret_result r = HRET_OK;
    for (size_t i = 0; i < num_values && r == HRET_OK; i++) {
        uint32_t def = c->max_def ? s->def[i] : 0;
        if (c->list) {
            r = list_entry(s, def, c->max_rep ? s->rep[i] : 0, &vi, err);
            continue;
        }
        r = next_row(s, err);
        if (r == HRET_OK && (int)def == c->max_def) {
            size_t len;
            const char *v = hret_pq_value(&s->vals, vi++, &len);
            r = emit(s, v, len, err);
        }
    }
    return r;
}

/* ---- pages ------------------------------------------------------------------------------- */

/* Levels of one kind (max > 0) from p[0..n): *used bytes consumed. v1 pages prefix a 4-byte
 * length (with_len); v2 pages give the length in the header. */
static enum hret_result levels(struct chunk_state *s, const uint8_t *p, size_t n, bool with_len,
                               int max, uint32_t *out, size_t count, size_t *used,
                               struct hret_err *err)
{
    size_t len = n, start = 0;
    if (with_len) {
        if (n < 4) {
            return hret_err_set(err, HRET_E_INVAL, "truncated levels");
        }
        len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
        start = 4;
        if (len > n - 4) {
            return hret_err_set(err, HRET_E_INVAL, "level length past the page");
        }
    }
    enum hret_result r =
        hret_pq_rle(p + start, len, hret_pq_bit_width((uint32_t)max), out, count, NULL, err);
    for (size_t i = 0; i < count && r == HRET_OK; i++) {
        if (out[i] > (uint32_t)max) {
            r = hret_err_set(err, HRET_E_INVAL, "level %u above the maximum %d", out[i], max);
        }
    }
    (void)s;
    *used = start + len;
    return r;
}

/* The values section of a data page: nonnull values in encoding. */
static enum hret_result page_values(struct chunk_state *s, int encoding, const uint8_t *p, size_t n,
                                    size_t nonnull, struct hret_err *err)
{
    size_t used;
    hret_pq_values_reset(&s->vals);
    switch (encoding) {
    case HRET_PQ_PLAIN:
        return hret_pq_plain(s->col->type, s->col->is_unsigned, p, n, nonnull, &s->vals, &used,
                             err);
    case HRET_PQ_PLAIN_DICTIONARY:
    case HRET_PQ_RLE_DICTIONARY:
        if (!s->has_dict) {
            return hret_err_set(err, HRET_E_INVAL, "dictionary-encoded page without a dictionary");
        }
        return hret_pq_dict_values(p, n, nonnull, &s->dict, &s->vals, err);
    case HRET_PQ_RLE:
        if (s->col->type == HRET_PQ_BOOLEAN) {
            return hret_pq_rle_bool(p, n, nonnull, &s->vals, err);
        }
        return refuse_encoding(s, encoding, err);
    default:
        return refuse_encoding(s, encoding, err);
    }
}

static size_t count_nonnull(const struct chunk_state *s, size_t num_values)
{
    if (s->col->max_def == 0) {
        return num_values;
    }
    size_t n = 0;
    for (size_t i = 0; i < num_values; i++) {
        n += s->def[i] == (uint32_t)s->col->max_def;
    }
    return n;
}

/* Decompresses n bytes into the page buffer of exactly size bytes. */
static enum hret_result inflate_page(struct chunk_state *s, const uint8_t *p, size_t n, size_t size,
                                     int codec, struct hret_err *err)
{
    if (size > PAGE_MAX_BYTES) {
        return hret_err_set(err, HRET_E_INVAL, "page of %zu bytes is past the 1 GiB cap", size);
    }
    free(s->page);
    s->page = hret_xmalloc(size ? size : 1);
    return hret_pq_decompress(codec, p, n, s->page, size, err);
}

static enum hret_result alloc_levels(struct chunk_state *s, size_t count, struct hret_err *err)
{
    if (count > PAGE_MAX_VALUES) {
        return hret_err_set(err, HRET_E_INVAL, "page of %zu values is past the cap", count);
    }
    free(s->def);
    free(s->rep);
    s->def = hret_xcalloc(count ? count : 1, sizeof *s->def);
    s->rep = hret_xcalloc(count ? count : 1, sizeof *s->rep);
    return HRET_OK;
}

static enum hret_result data_page_v1(struct chunk_state *s, const struct hret_pq_page *h,
                                     const uint8_t *p, struct hret_err *err)
{
    size_t count = (size_t)h->num_values, pos = 0, used = 0;
    enum hret_result r = alloc_levels(s, count, err);
    if (r == HRET_OK) {
        r = inflate_page(s, p, (size_t)h->compressed, (size_t)h->uncompressed, s->codec, err);
    }
    size_t n = (size_t)h->uncompressed;
    if (r == HRET_OK && s->col->max_rep > 0 && h->rep_encoding != HRET_PQ_RLE) {
        return refuse_encoding(s, h->rep_encoding, err);
    }
    if (r == HRET_OK && s->col->max_def > 0 && h->def_encoding != HRET_PQ_RLE) {
        return refuse_encoding(s, h->def_encoding, err);
    }
    if (r == HRET_OK && s->col->max_rep > 0) {
        r = levels(s, s->page, n, true, s->col->max_rep, s->rep, count, &used, err);
        pos += used;
    }
    if (r == HRET_OK && s->col->max_def > 0) {
        r = levels(s, s->page + pos, n - pos, true, s->col->max_def, s->def, count, &used, err);
        pos += used;
    }
    if (r == HRET_OK) {
        r = page_values(s, h->encoding, s->page + pos, n - pos, count_nonnull(s, count), err);
    }
    return r == HRET_OK ? assemble(s, count, err) : r;
}

static enum hret_result data_page_v2(struct chunk_state *s, const struct hret_pq_page *h,
                                     const uint8_t *p, struct hret_err *err)
{
    size_t count = (size_t)h->num_values, used;
    size_t lv = (size_t)h->rep_len + (size_t)h->def_len;
    if (lv > (size_t)h->compressed || lv > (size_t)h->uncompressed) {
        return hret_err_set(err, HRET_E_INVAL, "level lengths past the page");
    }
    enum hret_result r = alloc_levels(s, count, err);
    if (r == HRET_OK && s->col->max_rep > 0) {
        r = levels(s, p, (size_t)h->rep_len, false, s->col->max_rep, s->rep, count, &used, err);
    }
    if (r == HRET_OK && s->col->max_def > 0) {
        r = levels(s, p + h->rep_len, (size_t)h->def_len, false, s->col->max_def, s->def, count,
                   &used, err);
    }
    size_t vsize = (size_t)h->uncompressed - lv;
    if (r == HRET_OK) {
        r = inflate_page(s, p + lv, (size_t)h->compressed - lv, vsize,
                         h->is_compressed ? s->codec : HRET_PQ_UNCOMPRESSED, err);
    }
    if (r == HRET_OK) {
        r = page_values(s, h->encoding, s->page, vsize, count_nonnull(s, count), err);
    }
    return r == HRET_OK ? assemble(s, count, err) : r;
}

static enum hret_result dict_page(struct chunk_state *s, const struct hret_pq_page *h,
                                  const uint8_t *p, struct hret_err *err)
{
    if (h->encoding != HRET_PQ_PLAIN && h->encoding != HRET_PQ_PLAIN_DICTIONARY) {
        return refuse_encoding(s, h->encoding, err);
    }
    size_t used;
    enum hret_result r =
        inflate_page(s, p, (size_t)h->compressed, (size_t)h->uncompressed, s->codec, err);
    hret_pq_values_reset(&s->dict);
    if (r == HRET_OK) {
        r = hret_pq_plain(s->col->type, s->col->is_unsigned, s->page, (size_t)h->uncompressed,
                          (size_t)h->num_values, &s->dict, &used, err);
    }
    s->has_dict = r == HRET_OK;
    return r;
}

static enum hret_result one_page(struct chunk_state *s, const struct hret_pq_page *h,
                                 const uint8_t *p, struct hret_err *err)
{
    switch (h->type) {
    case HRET_PQ_DICT_PAGE:
        return dict_page(s, h, p, err);
    case HRET_PQ_DATA_PAGE:
        return data_page_v1(s, h, p, err);
    case HRET_PQ_DATA_PAGE_V2:
        return data_page_v2(s, h, p, err);
    default:
        return HRET_OK; /* index pages and the like carry no values */
    }
}

static enum hret_result pages(struct chunk_state *s, const uint8_t *p, size_t n,
                              struct hret_err *err)
{
    size_t pos = 0;
    enum hret_result r = HRET_OK;
    while (r == HRET_OK && pos < n) {
        struct hret_pq_page h;
        size_t used;
        r = hret_pq_page_header(s->ctx->file, p + pos, n - pos, &h, &used, err);
        if (r != HRET_OK) {
            return r;
        }
        pos += used;
        if ((size_t)h.compressed > n - pos) {
            return hret_err_set(err, HRET_E_INVAL, "page of %d bytes past its column chunk",
                                h.compressed);
        }
        r = one_page(s, &h, p + pos, err);
        pos += (size_t)h.compressed;
    }
    if (r == HRET_OK && s->col->list) {
        r = list_flush(s, err);
    }
    if (r == HRET_OK && s->rows != s->ctx->num_rows) {
        r = hret_err_set(err, HRET_E_INVAL, "column chunk holds %zu rows, its row group %zu",
                         s->rows, s->ctx->num_rows);
    }
    return r;
}

enum hret_result hret_pq_column_read(const struct hret_pq_chunk_ctx *ctx,
                                     const struct hret_pq_col *col, int codec, const uint8_t *p,
                                     size_t n, struct hret_err *err)
{
    struct chunk_state s = {.ctx = ctx, .col = col, .codec = codec};
    hret_pq_values_init(&s.dict);
    hret_pq_values_init(&s.vals);
    hret_buf_init(&s.list, (size_t)1 << 30);
    enum hret_result r = pages(&s, p, n, err);
    if (r != HRET_OK && err != NULL && strstr(err->msg, ctx->file) == NULL) {
        hret_err_prefix(err, "%s: column '%s'", ctx->file, col->name);
    }
    hret_pq_values_fini(&s.dict);
    hret_pq_values_fini(&s.vals);
    hret_buf_fini(&s.list);
    free(s.def);
    free(s.rep);
    free(s.page);
    return r;
}
