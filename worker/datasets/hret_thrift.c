/* Thrift compact protocol (the THRIFT-110 specification), read side only. */
#include "hret_thrift.h"

static void fail(struct hret_thrift *t)
{
    t->bad = true;
    t->p = t->end;
}

void hret_thrift_init(struct hret_thrift *t, const uint8_t *p, size_t n)
{
    t->p = p;
    t->end = p + n;
    t->depth = 0;
    t->bad = false;
}

static uint8_t read_byte(struct hret_thrift *t)
{
    if (t->p >= t->end) {
        fail(t);
        return 0;
    }
    return *t->p++;
}

/* ULEB128, at most 10 bytes. */
static uint64_t read_varint(struct hret_thrift *t)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        uint8_t b = read_byte(t);
        if (t->bad) {
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            return v;
        }
    }
    fail(t);
    return 0;
}

static int64_t zigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

bool hret_thrift_field(struct hret_thrift *t, int16_t *last, int16_t *id, uint8_t *type)
{
    uint8_t b = read_byte(t);
    if (t->bad || b == HRET_THRIFT_STOP) {
        return false;
    }
    *type = b & 0x0f;
    uint8_t delta = b >> 4;
    if (delta != 0) {
        *id = (int16_t)(*last + delta);
    } else {
        int64_t v = zigzag(read_varint(t));
        if (v < INT16_MIN || v > INT16_MAX) {
            fail(t);
        }
        *id = (int16_t)v;
    }
    *last = *id;
    if (*type > HRET_THRIFT_STRUCT) {
        fail(t);
    }
    return !t->bad;
}

int64_t hret_thrift_int(struct hret_thrift *t, uint8_t type)
{
    switch (type) {
    case HRET_THRIFT_BYTE:
        return (int8_t)read_byte(t);
    case HRET_THRIFT_I16:
    case HRET_THRIFT_I32:
    case HRET_THRIFT_I64:
        return zigzag(read_varint(t));
    default:
        fail(t);
        return 0;
    }
}

bool hret_thrift_bool(struct hret_thrift *t, uint8_t type)
{
    if (type != HRET_THRIFT_TRUE && type != HRET_THRIFT_FALSE) {
        fail(t);
    }
    return type == HRET_THRIFT_TRUE;
}

const uint8_t *hret_thrift_binary(struct hret_thrift *t, uint8_t type, size_t *len)
{
    *len = 0;
    if (type != HRET_THRIFT_BINARY) {
        fail(t);
        return NULL;
    }
    uint64_t n = read_varint(t);
    if (t->bad || n > (uint64_t)(t->end - t->p)) {
        fail(t);
        return NULL;
    }
    const uint8_t *p = t->p;
    t->p += n;
    *len = (size_t)n;
    return p;
}

bool hret_thrift_list(struct hret_thrift *t, uint8_t type, uint32_t *n, uint8_t *elem)
{
    *n = 0;
    if (type != HRET_THRIFT_LIST && type != HRET_THRIFT_SET) {
        fail(t);
        return false;
    }
    uint8_t b = read_byte(t);
    uint64_t count = b >> 4;
    if (count == 15) {
        count = read_varint(t);
    }
    *elem = b & 0x0f;
    if (t->bad || count > (uint64_t)(t->end - t->p) || *elem > HRET_THRIFT_STRUCT) {
        fail(t);
        return false;
    }
    *n = (uint32_t)count;
    return true;
}

bool hret_thrift_enter(struct hret_thrift *t, uint8_t type)
{
    if (type != HRET_THRIFT_STRUCT || t->depth >= HRET_THRIFT_MAX_DEPTH) {
        fail(t);
        return false;
    }
    t->depth++;
    return !t->bad;
}

void hret_thrift_leave(struct hret_thrift *t)
{
    t->depth--;
}

static void skip_struct(struct hret_thrift *t)
{
    if (!hret_thrift_enter(t, HRET_THRIFT_STRUCT)) {
        return;
    }
    int16_t last = 0, id;
    uint8_t type;
    while (hret_thrift_field(t, &last, &id, &type)) {
        hret_thrift_skip(t, type);
    }
    hret_thrift_leave(t);
}

/* A list element of type BOOL is one byte, unlike a bool field. */
static void skip_elem(struct hret_thrift *t, uint8_t type)
{
    if (type == HRET_THRIFT_TRUE || type == HRET_THRIFT_FALSE) {
        (void)read_byte(t);
    } else {
        hret_thrift_skip(t, type);
    }
}

static void skip_container(struct hret_thrift *t, uint8_t type)
{
    if (t->depth >= HRET_THRIFT_MAX_DEPTH) {
        fail(t);
        return;
    }
    t->depth++;
    if (type == HRET_THRIFT_MAP) {
        uint64_t n = read_varint(t);
        uint8_t kv = n > 0 ? read_byte(t) : 0;
        if (n > (uint64_t)(t->end - t->p)) {
            fail(t);
        }
        for (uint64_t i = 0; i < n && !t->bad; i++) {
            skip_elem(t, kv >> 4);
            skip_elem(t, kv & 0x0f);
        }
    } else {
        uint32_t n;
        uint8_t elem;
        hret_thrift_list(t, type, &n, &elem);
        for (uint32_t i = 0; i < n && !t->bad; i++) {
            skip_elem(t, elem);
        }
    }
    t->depth--;
}

void hret_thrift_skip(struct hret_thrift *t, uint8_t type)
{
    size_t len;
    switch (type) {
    case HRET_THRIFT_TRUE:
    case HRET_THRIFT_FALSE:
        break;
    case HRET_THRIFT_BYTE:
    case HRET_THRIFT_I16:
    case HRET_THRIFT_I32:
    case HRET_THRIFT_I64:
        (void)hret_thrift_int(t, type);
        break;
    case HRET_THRIFT_DOUBLE:
        if (t->end - t->p < 8) {
            fail(t);
        } else {
            t->p += 8;
        }
        break;
    case HRET_THRIFT_BINARY:
        (void)hret_thrift_binary(t, type, &len);
        break;
    case HRET_THRIFT_LIST:
    case HRET_THRIFT_SET:
    case HRET_THRIFT_MAP:
        skip_container(t, type);
        break;
    case HRET_THRIFT_STRUCT:
        skip_struct(t);
        break;
    default:
        fail(t);
        break;
    }
}
