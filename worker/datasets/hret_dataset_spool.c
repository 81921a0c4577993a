/* Rendered samples in an unlinked temporary file (see hret_dataset_spool.h).
 *
 * An entry is its fields, each a little-endian u64 length (UINT64_MAX for NULL) and the bytes:
 * id, subset, input, reference, the option count as text and each option, the metadata's JSON. */
#include "hret_dataset_spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"
#include "hret_outfile.h"

#define FIELD_MAX ((uint64_t)1 << 31) /* a field longer than this is a corrupt spool */

struct hret_ds_spool {
    FILE *f;
    uint64_t *offs; /* count entries */
    size_t count, alloc;
    uint64_t end;    /* bytes written */
    bool writing;    /* the stream's last operation was a write */
    int write_errno; /* first write error, 0 = none */
};

enum hret_result hret_ds_spool_new(struct hret_ds_spool **out, struct hret_err *err)
{
    FILE *f = hret_outfile_scratch("sample spool", err);
    if (f == NULL) {
        return HRET_E_UNAVAILABLE;
    }
    struct hret_ds_spool *sp = hret_xcalloc(1, sizeof *sp);
    sp->f = f;
    sp->writing = true;
    *out = sp;
    return HRET_OK;
}

void hret_ds_spool_destroy(struct hret_ds_spool *sp)
{
    if (sp == NULL) {
        return;
    }
    fclose(sp->f);
    free(sp->offs);
    free(sp);
}

static void put_field(struct hret_ds_spool *sp, const char *s, size_t len)
{
    uint64_t n = s ? (uint64_t)len : UINT64_MAX;
    unsigned char le[8];
    for (int i = 0; i < 8; i++) {
        le[i] = (unsigned char)(n >> (8 * i));
    }
    if (fwrite(le, 1, 8, sp->f) != 8 || (s && len && fwrite(s, 1, len, sp->f) != len)) {
        sp->write_errno = sp->write_errno ? sp->write_errno : (errno ? errno : EIO);
    }
    sp->end += 8 + (s ? len : 0);
}

static void put_str(struct hret_ds_spool *sp, const char *s)
{
    put_field(sp, s, s ? strlen(s) : 0);
}

void hret_ds_spool_push(struct hret_ds_spool *sp, const struct hret_sample *s)
{
    if (!sp->writing) {
        fseeko(sp->f, (off_t)sp->end, SEEK_SET);
        sp->writing = true;
    }
    if (sp->count == sp->alloc) {
        sp->alloc = sp->alloc ? sp->alloc * 2 : 1024;
        sp->offs = hret_xrealloc(sp->offs, sp->alloc * sizeof *sp->offs);
    }
    sp->offs[sp->count++] = sp->end;
    put_str(sp, s->id);
    put_str(sp, s->subset);
    put_str(sp, s->input);
    put_str(sp, s->reference);
    char n[32];
    snprintf(n, sizeof n, "%zu", s->options.count);
    put_str(sp, n);
    for (size_t i = 0; i < s->options.count; i++) {
        put_str(sp, s->options.items[i]);
    }
    char *meta = s->metadata ? hret_json_print(s->metadata) : NULL;
    put_str(sp, meta);
    free(meta);
}

enum hret_result hret_ds_spool_check(const struct hret_ds_spool *sp, struct hret_err *err)
{
    if (sp->write_errno == 0) {
        return HRET_OK;
    }
    return hret_err_set(err, HRET_E_UNAVAILABLE, "writing the sample spool file (in %s): %s",
                        getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", strerror(sp->write_errno));
}

size_t hret_ds_spool_count(const struct hret_ds_spool *sp)
{
    return sp->count;
}

/* One field into a new string (*out NULL for a NULL field); false on a short read. */
static bool get_field(struct hret_ds_spool *sp, char **out)
{
    unsigned char le[8];
    if (fread(le, 1, 8, sp->f) != 8) {
        return false;
    }
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) {
        n |= (uint64_t)le[i] << (8 * i);
    }
    if (n == UINT64_MAX) {
        *out = NULL;
        return true;
    }
    if (n > FIELD_MAX) {
        return false;
    }
    *out = hret_xmalloc((size_t)n + 1);
    if (n > 0 && fread(*out, 1, (size_t)n, sp->f) != n) {
        free(*out);
        *out = NULL;
        return false;
    }
    (*out)[n] = '\0';
    return true;
}

enum hret_result hret_ds_spool_read(struct hret_ds_spool *sp, size_t i, struct hret_sample *out,
                                    struct hret_err *err)
{
    memset(out, 0, sizeof *out);
    if (sp->writing && fflush(sp->f) != 0) {
        return hret_err_set(err, HRET_E_UNAVAILABLE, "writing the sample spool file: %s",
                            strerror(errno));
    }
    sp->writing = false;
    char *count = NULL, *meta = NULL;
    bool ok = i < sp->count && fseeko(sp->f, (off_t)sp->offs[i], SEEK_SET) == 0 &&
              get_field(sp, &out->id) && get_field(sp, &out->subset) &&
              get_field(sp, &out->input) && get_field(sp, &out->reference) &&
              get_field(sp, &count) && count != NULL;
    size_t n = ok ? strtoul(count, NULL, 10) : 0;
    for (size_t k = 0; ok && k < n; k++) {
        char *opt = NULL;
        ok = get_field(sp, &opt) && opt != NULL;
        if (ok) {
            hret_strlist_push(&out->options, opt);
        }
    }
    ok = ok && get_field(sp, &meta);
    if (ok && meta != NULL) {
        out->metadata = cJSON_Parse(meta);
        ok = out->metadata != NULL;
    }
    free(count);
    free(meta);
    if (!ok) {
        hret_sample_fini(out);
        return hret_err_set(err, HRET_E_FATAL, "sample %zu: the sample spool file is unreadable",
                            i);
    }
    return HRET_OK;
}

void hret_ds_spool_keep(struct hret_ds_spool *sp, size_t first, const size_t *perm, size_t k)
{
    uint64_t *kept = hret_xmalloc((k ? k : 1) * sizeof *kept);
    for (size_t i = 0; i < k; i++) {
        kept[i] = sp->offs[first + perm[i]];
    }
    memcpy(sp->offs + first, kept, k * sizeof *kept);
    sp->count = first + k;
    free(kept);
}

/* ---- sampling: splitmix64 + partial Fisher-Yates ----------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0, without modulo bias. */
static uint64_t draw_below(uint64_t *state, uint64_t n)
{
    uint64_t threshold = (0 - n) % n; /* 2^64 mod n */
    for (;;) {
        uint64_t x = splitmix64(state);
        if (x >= threshold) {
            return x % n;
        }
    }
}

void hret_ds_draw(size_t *perm, size_t n, size_t k, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        perm[i] = i;
    }
    uint64_t state = seed;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)draw_below(&state, n - i);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
