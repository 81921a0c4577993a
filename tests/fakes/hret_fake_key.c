#include "hret_fake_key.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_fake_decide.h"
#include "hret_mem.h"

#define KEY_MAX_BYTES ((size_t)1 << 30)

struct entry {
    uint64_t hash;
    const char *correct; /* NULL marks an empty slot */
    const char *wrong;   /* NULL when the line has no third column */
};

/* Open addressing with linear probing; the strings point into text. */
struct hret_fake_key {
    char *text;
    struct entry *slots;
    size_t mask;
    size_t count;
};

static size_t slot_of(const struct hret_fake_key *key, uint64_t h)
{
    size_t i = (size_t)hret_fake_mix64(h) & key->mask;
    while (key->slots[i].correct != NULL && key->slots[i].hash != h) {
        i = (i + 1) & key->mask;
    }
    return i;
}

static bool parse_hex64(const char *s, size_t len, uint64_t *out)
{
    if (len != 16) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') {
            d = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (unsigned)(c - 'A' + 10);
        } else {
            return false;
        }
        v = (v << 4) | d;
    }
    *out = v;
    return true;
}

/* Splits one line (NUL-terminated in place) into the table. */
static enum hret_result add_line(struct hret_fake_key *key, char *line, const char *path,
                                 size_t lineno, struct hret_err *err)
{
    char *fields[3] = {line, NULL, NULL};
    size_t nfields = 1;
    for (char *tab = strchr(line, '\t'); tab != NULL; tab = strchr(tab + 1, '\t')) {
        if (nfields == 3) {
            return hret_err_set(err, HRET_E_CONFIG, "%s:%zu: more than 3 tab-separated fields",
                                path, lineno);
        }
        *tab = '\0';
        fields[nfields++] = tab + 1;
    }
    uint64_t h;
    if (!parse_hex64(fields[0], strlen(fields[0]), &h)) {
        return hret_err_set(err, HRET_E_CONFIG, "%s:%zu: the hash must be 16 hex digits", path,
                            lineno);
    }
    if (fields[1] == NULL || fields[1][0] == '\0') {
        return hret_err_set(err, HRET_E_CONFIG, "%s:%zu: missing the correct answer", path, lineno);
    }
    size_t i = slot_of(key, h);
    if (key->slots[i].correct == NULL) {
        key->count++;
    }
    bool has_wrong = fields[2] != NULL && fields[2][0] != '\0';
    key->slots[i] = (struct entry){h, fields[1], has_wrong ? fields[2] : NULL};
    return HRET_OK;
}

static enum hret_result parse_text(struct hret_fake_key *key, size_t len, const char *path,
                                   struct hret_err *err)
{
    char *p = key->text;
    char *end = key->text + len;
    for (size_t lineno = 1; p < end; lineno++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl != NULL ? nl : end;
        *line_end = '\0';
        if (line_end > p && line_end[-1] == '\r') {
            line_end[-1] = '\0';
        }
        if (*p != '\0' && *p != '#' && add_line(key, p, path, lineno, err) != HRET_OK) {
            return HRET_E_CONFIG;
        }
        p = line_end + 1;
    }
    return HRET_OK;
}

struct hret_fake_key *hret_fake_key_load(const char *path, struct hret_err *err)
{
    struct hret_buf buf;
    hret_buf_init(&buf, KEY_MAX_BYTES);
    if (hret_buf_append_file(&buf, path, err) != HRET_OK) {
        hret_buf_fini(&buf);
        hret_err_prefix(err, "answer key");
        return NULL;
    }
    size_t len = buf.len;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) {
        lines += buf.data[i] == '\n';
    }
    size_t cap = 16;
    while (cap < 2 * lines) {
        cap *= 2;
    }
    struct hret_fake_key *key = hret_xcalloc(1, sizeof *key);
    key->text = hret_buf_take(&buf);
    key->slots = hret_xcalloc(cap, sizeof *key->slots);
    key->mask = cap - 1;
    if (parse_text(key, len, path, err) != HRET_OK) {
        hret_fake_key_destroy(key);
        return NULL;
    }
    return key;
}

void hret_fake_key_destroy(struct hret_fake_key *key)
{
    if (key == NULL) {
        return;
    }
    free(key->slots);
    free(key->text);
    free(key);
}

size_t hret_fake_key_size(const struct hret_fake_key *key)
{
    return key != NULL ? key->count : 0;
}

static const char *wrong_answer(const struct entry *e, char scratch[HRET_FAKE_KEY_SCRATCH])
{
    if (e->wrong != NULL) {
        return e->wrong;
    }
    const char *c = e->correct;
    size_t n = strlen(c);
    bool paren = n == 3 && c[0] == '(' && c[2] == ')';
    char letter = paren ? c[1] : n == 1 ? c[0] : '\0';
    if (letter < 'A' || letter > 'E') {
        return HRET_FAKE_UNSURE;
    }
    /* A->B->C->D->A; E, outside the cycle, becomes A. */
    char next = letter >= 'D' ? 'A' : (char)(letter + 1);
    if (paren) {
        snprintf(scratch, HRET_FAKE_KEY_SCRATCH, "(%c)", next);
    } else {
        snprintf(scratch, HRET_FAKE_KEY_SCRATCH, "%c", next);
    }
    return scratch;
}

const char *hret_fake_key_answer(const struct hret_fake_key *key, uint64_t h, double accuracy,
                                 uint64_t seed, char scratch[HRET_FAKE_KEY_SCRATCH])
{
    if (key == NULL) {
        return NULL;
    }
    const struct entry *e = &key->slots[slot_of(key, h)];
    if (e->correct == NULL) {
        return NULL;
    }
    if (hret_fake_decide(h, seed) < accuracy) {
        return e->correct;
    }
    return wrong_answer(e, scratch);
}
