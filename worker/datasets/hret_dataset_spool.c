/* Rendered samples in an unlinked temporary file (see hret_dataset_spool.h).
 *
 * An entry is its fields, each a little-endian u64 length (UINT64_MAX for NULL) and the bytes:
 * id, subset, input, reference, the option count as text and each option, the metadata's JSON.
 * Entries are gathered in a write buffer and written in chunks of about WRITE_CHUNK bytes; an
 * entry is read back with one pread of its recorded length. */
#include "hret_dataset_spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"
#include "hret_outfile.h"

#define FIELD_MAX ((uint64_t)1 << 31) /* a field longer than this is a corrupt spool */
#define WRITE_CHUNK ((size_t)1 << 20)

struct entry {
    uint64_t off;
    uint32_t len;  /* bytes */
    uint32_t file; /* index in files */
};

struct hret_ds_spool {
    FILE **files; /* scratch files, written and read through their descriptors only; new
                     entries go to the first, the others come from joined spools */
    size_t nfiles;
    struct entry *ents; /* count of them */
    size_t count, alloc;
    uint64_t written; /* bytes in the first file */
    char *wbuf;       /* entries not yet written, from offset `written` */
    size_t wlen, wcap;
    char *rbuf; /* the last entry read */
    size_t rcap;
    int write_errno; /* first write error, 0 = none */
};

enum hret_result hret_ds_spool_new(struct hret_ds_spool **out, struct hret_err *err)
{
    FILE *f = hret_outfile_scratch("sample spool", err);
    if (f == NULL) {
        return HRET_E_UNAVAILABLE;
    }
    struct hret_ds_spool *sp = hret_xcalloc(1, sizeof *sp);
    sp->files = hret_xmalloc(sizeof *sp->files);
    sp->files[0] = f;
    sp->nfiles = 1;
    *out = sp;
    return HRET_OK;
}

void hret_ds_spool_destroy(struct hret_ds_spool *sp)
{
    if (sp == NULL) {
        return;
    }
    for (size_t i = 0; i < sp->nfiles; i++) {
        fclose(sp->files[i]);
    }
    free(sp->files);
    free(sp->ents);
    free(sp->wbuf);
    free(sp->rbuf);
    free(sp);
}

/* Writes the buffered entries out; the first error is kept (their bytes are then lost). */
static void flush_writes(struct hret_ds_spool *sp)
{
    if (sp->wlen > 0 && sp->write_errno == 0 &&
        !hret_outfile_pwrite(fileno(sp->files[0]), sp->wbuf, sp->wlen, sp->written)) {
        sp->write_errno = errno;
    }
    sp->written += sp->wlen;
    sp->wlen = 0;
}

static void put_field(struct hret_ds_spool *sp, const char *s, size_t len)
{
    size_t need = 8 + (s ? len : 0);
    if (sp->wlen + need > sp->wcap) {
        sp->wcap = sp->wlen + need > 2 * WRITE_CHUNK ? sp->wlen + need : 2 * WRITE_CHUNK;
        sp->wbuf = hret_xrealloc(sp->wbuf, sp->wcap);
    }
    uint64_t n = s ? (uint64_t)len : UINT64_MAX;
    unsigned char *le = (unsigned char *)sp->wbuf + sp->wlen;
    for (int i = 0; i < 8; i++) {
        le[i] = (unsigned char)(n >> (8 * i));
    }
    if (s != NULL && len > 0) {
        memcpy(sp->wbuf + sp->wlen + 8, s, len);
    }
    sp->wlen += need;
}

static void put_str(struct hret_ds_spool *sp, const char *s)
{
    put_field(sp, s, s ? strlen(s) : 0);
}

void hret_ds_spool_push(struct hret_ds_spool *sp, const struct hret_sample *s)
{
    if (sp->count == sp->alloc) {
        sp->alloc = sp->alloc ? sp->alloc * 2 : 1024;
        sp->ents = hret_xrealloc(sp->ents, sp->alloc * sizeof *sp->ents);
    }
    size_t start = sp->wlen;
    sp->ents[sp->count] = (struct entry){.off = sp->written + start};
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
    if (sp->wlen - start > UINT32_MAX) { /* no prompt is 4 GB: a corrupt row */
        sp->write_errno = sp->write_errno ? sp->write_errno : EFBIG;
        sp->wlen = start;
    }
    sp->ents[sp->count++].len = (uint32_t)(sp->wlen - start);
    if (sp->wlen >= WRITE_CHUNK) {
        flush_writes(sp);
    }
}

enum hret_result hret_ds_spool_check(struct hret_ds_spool *sp, struct hret_err *err)
{
    flush_writes(sp);
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

/* Reads entry e into sp->rbuf; false on a short read. */
static bool read_entry(struct hret_ds_spool *sp, const struct entry *e)
{
    if (e->len > sp->rcap) {
        sp->rcap = e->len;
        sp->rbuf = hret_xrealloc(sp->rbuf, sp->rcap);
    }
    return hret_outfile_pread(fileno(sp->files[e->file]), sp->rbuf, e->len, e->off);
}

/* The field at *at of the entry in rbuf (len bytes) into a new string (*out NULL for a NULL
 * field); false when it runs past the entry. */
static bool get_field(const struct hret_ds_spool *sp, size_t len, size_t *at, char **out)
{
    if (len - *at < 8) {
        return false;
    }
    const unsigned char *le = (const unsigned char *)sp->rbuf + *at;
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) {
        n |= (uint64_t)le[i] << (8 * i);
    }
    *at += 8;
    if (n == UINT64_MAX) {
        *out = NULL;
        return true;
    }
    if (n > FIELD_MAX || n > len - *at) {
        return false;
    }
    *out = hret_xstrndup(sp->rbuf + *at, (size_t)n);
    *at += (size_t)n;
    return true;
}

enum hret_result hret_ds_spool_read(struct hret_ds_spool *sp, size_t i, struct hret_sample *out,
                                    struct hret_err *err)
{
    memset(out, 0, sizeof *out);
    if (i < sp->count && sp->ents[i].file == 0 && sp->ents[i].off + sp->ents[i].len > sp->written) {
        flush_writes(sp);
    }
    if (sp->write_errno != 0) {
        return hret_err_set(err, HRET_E_UNAVAILABLE, "writing the sample spool file: %s",
                            strerror(sp->write_errno));
    }
    size_t len = i < sp->count ? sp->ents[i].len : 0, at = 0;
    char *count = NULL, *meta = NULL;
    bool ok = i < sp->count && read_entry(sp, &sp->ents[i]) && get_field(sp, len, &at, &out->id) &&
              get_field(sp, len, &at, &out->subset) && get_field(sp, len, &at, &out->input) &&
              get_field(sp, len, &at, &out->reference) && get_field(sp, len, &at, &count) &&
              count != NULL;
    size_t n = ok ? strtoul(count, NULL, 10) : 0;
    for (size_t k = 0; ok && k < n; k++) {
        char *opt = NULL;
        ok = get_field(sp, len, &at, &opt) && opt != NULL;
        if (ok) {
            hret_strlist_push(&out->options, opt);
        }
    }
    ok = ok && get_field(sp, len, &at, &meta);
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
    struct entry *kept = hret_xmalloc((k ? k : 1) * sizeof *kept);
    for (size_t i = 0; i < k; i++) {
        kept[i] = sp->ents[first + perm[i]];
    }
    memcpy(sp->ents + first, kept, k * sizeof *kept);
    sp->count = first + k;
    free(kept);
}

enum hret_result hret_ds_spool_join(struct hret_ds_spool **parts, size_t nparts,
                                    const struct hret_ds_spool_range *ranges, size_t nranges,
                                    struct hret_err *err)
{
    enum hret_result r = HRET_OK;
    for (size_t p = 0; p < nparts && r == HRET_OK; p++) {
        r = hret_ds_spool_check(parts[p], err);
    }
    if (r != HRET_OK) {
        return r;
    }
    struct hret_ds_spool *sp = parts[0];
    size_t total = 0, *file0 = hret_xcalloc(nparts, sizeof *file0);
    for (size_t i = 0; i < nranges; i++) {
        total += ranges[i].count;
    }
    struct entry *ents = hret_xmalloc((total ? total : 1) * sizeof *ents);
    for (size_t p = 1; p < nparts; p++) { /* the other parts' files move to the first */
        file0[p] = sp->nfiles;
        sp->files = hret_xrealloc(sp->files, (sp->nfiles + parts[p]->nfiles) * sizeof *sp->files);
        memcpy(sp->files + sp->nfiles, parts[p]->files, parts[p]->nfiles * sizeof *sp->files);
        sp->nfiles += parts[p]->nfiles;
        parts[p]->nfiles = 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < nranges; i++) {
        const struct hret_ds_spool *from = parts[ranges[i].part];
        for (size_t k = 0; k < ranges[i].count; k++) {
            ents[n] = from->ents[ranges[i].first + k];
            ents[n++].file += (uint32_t)file0[ranges[i].part];
        }
    }
    for (size_t p = 1; p < nparts; p++) {
        hret_ds_spool_destroy(parts[p]);
        parts[p] = NULL;
    }
    free(sp->ents);
    sp->ents = ents;
    sp->count = sp->alloc = total;
    free(file0);
    return HRET_OK;
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
