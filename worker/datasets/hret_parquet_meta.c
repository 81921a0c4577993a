/* parquet.thrift's FileMetaData, SchemaElement, RowGroup, ColumnChunk, ColumnMetaData and
 * PageHeader, as far as the reader needs them; every other field is skipped. */
#include "hret_parquet_meta.h"

#include <stdlib.h>
#include <string.h>

#include "hret_mem.h"
#include "hret_thrift.h"

/* IntType { 1: i8 bitWidth, 2: bool isSigned }: whether isSigned is false. */
static bool int_unsigned(struct hret_thrift *t, uint8_t type)
{
    bool is_unsigned = false;
    if (!hret_thrift_enter(t, type)) {
        return false;
    }
    int16_t last = 0, id;
    uint8_t ft;
    while (hret_thrift_field(t, &last, &id, &ft)) {
        if (id == 2) {
            is_unsigned = !hret_thrift_bool(t, ft);
        } else {
            hret_thrift_skip(t, ft);
        }
    }
    hret_thrift_leave(t);
    return is_unsigned;
}

/* The LogicalType union: its field id into s->logical (INTEGER's signedness kept too). */
static void logical_type(struct hret_thrift *t, uint8_t type, struct hret_pq_schema *s)
{
    if (!hret_thrift_enter(t, type)) {
        return;
    }
    int16_t last = 0, id;
    uint8_t ft;
    while (hret_thrift_field(t, &last, &id, &ft)) {
        if (s->logical == 0) {
            s->logical = id;
        }
        if (id == 10 && ft == HRET_THRIFT_STRUCT) {
            s->logical_unsigned = int_unsigned(t, ft);
        } else {
            hret_thrift_skip(t, ft);
        }
    }
    hret_thrift_leave(t);
}

static void schema_element(struct hret_thrift *t, uint8_t type, struct hret_pq_schema *s)
{
    s->type = -1;
    s->converted = -1;
    if (!hret_thrift_enter(t, type)) {
        return;
    }
    int16_t last = 0, id;
    uint8_t ft;
    size_t len;
    const uint8_t *name;
    while (hret_thrift_field(t, &last, &id, &ft)) {
        switch (id) {
        case 1:
            s->type = (int)hret_thrift_int(t, ft);
            break;
        case 3:
            s->repetition = (int)hret_thrift_int(t, ft);
            break;
        case 4:
            name = hret_thrift_binary(t, ft, &len);
            free(s->name);
            s->name = hret_xstrndup(name ? (const char *)name : "", len);
            break;
        case 5:
            s->num_children = (int)hret_thrift_int(t, ft);
            break;
        case 6:
            s->converted = (int)hret_thrift_int(t, ft);
            break;
        case 10:
            logical_type(t, ft, s);
            break;
        default:
            hret_thrift_skip(t, ft);
            break;
        }
    }
    hret_thrift_leave(t);
    if (s->name == NULL) {
        s->name = hret_xstrdup(""); /* the field is required; never leave it NULL */
    }
}

static void column_meta(struct hret_thrift *t, uint8_t type, struct hret_pq_chunk *c)
{
    if (!hret_thrift_enter(t, type)) {
        return;
    }
    c->has_meta = true;
    int16_t last = 0, id;
    uint8_t ft;
    while (hret_thrift_field(t, &last, &id, &ft)) {
        switch (id) {
        case 1:
            c->type = (int)hret_thrift_int(t, ft);
            break;
        case 4:
            c->codec = (int)hret_thrift_int(t, ft);
            break;
        case 5:
            c->num_values = hret_thrift_int(t, ft);
            break;
        case 7:
            c->size = hret_thrift_int(t, ft);
            break;
        case 9:
            c->data_off = hret_thrift_int(t, ft);
            break;
        case 11:
            c->dict_off = hret_thrift_int(t, ft);
            break;
        default:
            hret_thrift_skip(t, ft);
            break;
        }
    }
    hret_thrift_leave(t);
}

static void column_chunk(struct hret_thrift *t, uint8_t type, struct hret_pq_chunk *c)
{
    c->dict_off = -1;
    if (!hret_thrift_enter(t, type)) {
        return;
    }
    int16_t last = 0, id;
    uint8_t ft;
    while (hret_thrift_field(t, &last, &id, &ft)) {
        if (id == 1) {
            c->external = true;
            hret_thrift_skip(t, ft);
        } else if (id == 3) {
            column_meta(t, ft, c);
        } else {
            hret_thrift_skip(t, ft);
        }
    }
    hret_thrift_leave(t);
}

/* A list<struct> field: allocates *n elements of size sz and calls fn on each. */
static void *struct_list(struct hret_thrift *t, uint8_t type, size_t sz, size_t *n,
                         void (*fn)(struct hret_thrift *, uint8_t, void *))
{
    uint32_t count;
    uint8_t elem;
    if (!hret_thrift_list(t, type, &count, &elem)) {
        return NULL;
    }
    char *items = hret_xcalloc(count ? count : 1, sz);
    *n = count;
    for (uint32_t i = 0; i < count && !t->bad; i++) {
        fn(t, elem, items + (size_t)i * sz);
    }
    return items;
}

static void schema_fn(struct hret_thrift *t, uint8_t type, void *item)
{
    schema_element(t, type, item);
}

static void chunk_fn(struct hret_thrift *t, uint8_t type, void *item)
{
    column_chunk(t, type, item);
}

static void row_group(struct hret_thrift *t, uint8_t type, void *item)
{
    struct hret_pq_group *g = item;
    if (!hret_thrift_enter(t, type)) {
        return;
    }
    int16_t last = 0, id;
    uint8_t ft;
    while (hret_thrift_field(t, &last, &id, &ft)) {
        if (id == 1 && g->chunks == NULL) {
            g->chunks = struct_list(t, ft, sizeof *g->chunks, &g->nchunks, chunk_fn);
        } else if (id == 3) {
            g->num_rows = hret_thrift_int(t, ft);
        } else {
            hret_thrift_skip(t, ft);
        }
    }
    hret_thrift_leave(t);
}

enum hret_result hret_pq_meta_parse(const char *name, const uint8_t *p, size_t n,
                                    struct hret_pq_meta *m, struct hret_err *err)
{
    memset(m, 0, sizeof *m);
    struct hret_thrift t;
    hret_thrift_init(&t, p, n);
    int16_t last = 0, id;
    uint8_t ft;
    if (hret_thrift_enter(&t, HRET_THRIFT_STRUCT)) {
        while (hret_thrift_field(&t, &last, &id, &ft)) {
            if (id == 2 && m->schema == NULL) {
                m->schema = struct_list(&t, ft, sizeof *m->schema, &m->nschema, schema_fn);
            } else if (id == 3) {
                m->num_rows = hret_thrift_int(&t, ft);
            } else if (id == 4 && m->groups == NULL) {
                m->groups = struct_list(&t, ft, sizeof *m->groups, &m->ngroups, row_group);
            } else {
                hret_thrift_skip(&t, ft);
            }
        }
        hret_thrift_leave(&t);
    }
    if (t.bad || m->nschema == 0) {
        hret_pq_meta_fini(m);
        return hret_err_set(err, HRET_E_INVAL, "%s: corrupt Parquet footer (file metadata)", name);
    }
    return HRET_OK;
}

void hret_pq_meta_fini(struct hret_pq_meta *m)
{
    for (size_t i = 0; i < m->nschema; i++) {
        free(m->schema[i].name);
    }
    free(m->schema);
    for (size_t i = 0; i < m->ngroups; i++) {
        free(m->groups[i].chunks);
    }
    free(m->groups);
    memset(m, 0, sizeof *m);
}

/* ---- page headers ------------------------------------------------------------------------ */

static void data_page_v1(struct hret_thrift *t, uint8_t type, struct hret_pq_page *h)
{
    if (!hret_thrift_enter(t, type)) {
        return;
    }
    int16_t last = 0, id;
    uint8_t ft;
    while (hret_thrift_field(t, &last, &id, &ft)) {
        if (id >= 1 && id <= 4) {
            int64_t v = hret_thrift_int(t, ft);
            int *dst[] = {NULL, &h->encoding, &h->def_encoding, &h->rep_encoding};
            if (id == 1) {
                h->num_values = (int32_t)v;
            } else {
                *dst[id - 1] = (int)v;
            }
        } else {
            hret_thrift_skip(t, ft);
        }
    }
    hret_thrift_leave(t);
}

static void data_page_v2(struct hret_thrift *t, uint8_t type, struct hret_pq_page *h)
{
    if (!hret_thrift_enter(t, type)) {
        return;
    }
    int16_t last = 0, id;
    uint8_t ft;
    while (hret_thrift_field(t, &last, &id, &ft)) {
        switch (id) {
        case 1:
            h->num_values = (int32_t)hret_thrift_int(t, ft);
            break;
        case 3:
            h->num_rows = (int32_t)hret_thrift_int(t, ft);
            break;
        case 4:
            h->encoding = (int)hret_thrift_int(t, ft);
            break;
        case 5:
            h->def_len = (int32_t)hret_thrift_int(t, ft);
            break;
        case 6:
            h->rep_len = (int32_t)hret_thrift_int(t, ft);
            break;
        case 7:
            h->is_compressed = hret_thrift_bool(t, ft);
            break;
        default:
            hret_thrift_skip(t, ft);
            break;
        }
    }
    hret_thrift_leave(t);
}

static void dict_page(struct hret_thrift *t, uint8_t type, struct hret_pq_page *h)
{
    if (!hret_thrift_enter(t, type)) {
        return;
    }
    int16_t last = 0, id;
    uint8_t ft;
    while (hret_thrift_field(t, &last, &id, &ft)) {
        if (id == 1) {
            h->num_values = (int32_t)hret_thrift_int(t, ft);
        } else if (id == 2) {
            h->encoding = (int)hret_thrift_int(t, ft);
        } else {
            hret_thrift_skip(t, ft);
        }
    }
    hret_thrift_leave(t);
}

enum hret_result hret_pq_page_header(const char *name, const uint8_t *p, size_t n,
                                     struct hret_pq_page *h, size_t *used, struct hret_err *err)
{
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->is_compressed = true;
    struct hret_thrift t;
    hret_thrift_init(&t, p, n);
    int16_t last = 0, id;
    uint8_t ft;
    if (hret_thrift_enter(&t, HRET_THRIFT_STRUCT)) {
        while (hret_thrift_field(&t, &last, &id, &ft)) {
            switch (id) {
            case 1:
                h->type = (int)hret_thrift_int(&t, ft);
                break;
            case 2:
                h->uncompressed = (int32_t)hret_thrift_int(&t, ft);
                break;
            case 3:
                h->compressed = (int32_t)hret_thrift_int(&t, ft);
                break;
            case 5:
                data_page_v1(&t, ft, h);
                break;
            case 7:
                dict_page(&t, ft, h);
                break;
            case 8:
                data_page_v2(&t, ft, h);
                break;
            default:
                hret_thrift_skip(&t, ft);
                break;
            }
        }
        hret_thrift_leave(&t);
    }
    if (t.bad || h->uncompressed < 0 || h->compressed < 0 || h->num_values < 0 || h->def_len < 0 ||
        h->rep_len < 0) {
        return hret_err_set(err, HRET_E_INVAL, "%s: corrupt Parquet page header", name);
    }
    *used = (size_t)(t.p - p);
    return HRET_OK;
}
