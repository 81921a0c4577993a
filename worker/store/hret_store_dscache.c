/* Dataset source choice and the imported-version cache (see hret_store_dscache.h). */
#include "hret_clock.h"
#include "hret_store_dscache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_http.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_store_dsfiles.h"

struct hret_store_dscache_entry {
    long long id;
    struct hret_dataset_fileset files;
    size_t refs;
    unsigned long long used; /* tick of the last use */
    bool listed;             /* in the cache (else owned by its one user) */
    struct hret_store_dscache_entry *next;
};

static struct {
    pthread_mutex_t mu;
    struct hret_store_dscache_entry *head;
    size_t bytes;
    unsigned long long tick;
} cache = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static void entry_free(struct hret_store_dscache_entry *e)
{
    hret_dataset_fileset_fini(&e->files);
    free(e);
}

/* Drops unused entries, least recently used first, while the cache is past max. Locked. */
static void evict_locked(size_t max)
{
    while (cache.bytes > max) {
        struct hret_store_dscache_entry **victim = NULL;
        for (struct hret_store_dscache_entry **p = &cache.head; *p != NULL; p = &(*p)->next) {
            if ((*p)->refs == 0 && (victim == NULL || (*p)->used < (*victim)->used)) {
                victim = p;
            }
        }
        if (victim == NULL) {
            return; /* everything left is in use */
        }
        struct hret_store_dscache_entry *e = *victim;
        *victim = e->next;
        cache.bytes -= e->files.bytes;
        entry_free(e);
    }
}

static struct hret_store_dscache_entry *lookup_locked(long long id)
{
    for (struct hret_store_dscache_entry *e = cache.head; e != NULL; e = e->next) {
        if (e->id == id) {
            e->refs++;
            e->used = ++cache.tick;
            return e;
        }
    }
    return NULL;
}

/* The entry of version id, from the cache or loaded (outside the lock) and added. */
static enum hret_result cache_get(struct hret_store *s, long long id, size_t max,
                                  struct hret_store_dscache_entry **out, bool *hit,
                                  struct hret_err *err)
{
    pthread_mutex_lock(&cache.mu);
    *out = lookup_locked(id);
    pthread_mutex_unlock(&cache.mu);
    *hit = *out != NULL;
    if (*hit) {
        return HRET_OK;
    }
    struct hret_store_dscache_entry *e = hret_xcalloc(1, sizeof *e);
    e->id = id;
    e->refs = 1;
    if (hret_store_dsfiles_load(s, id, &e->files, err) != HRET_OK) {
        entry_free(e);
        return err->code;
    }
    pthread_mutex_lock(&cache.mu);
    struct hret_store_dscache_entry *other = lookup_locked(id); /* loaded meanwhile by another */
    if (other != NULL) {
        pthread_mutex_unlock(&cache.mu);
        entry_free(e);
        *out = other;
        return HRET_OK;
    }
    if (max > 0) {
        e->listed = true;
        e->used = ++cache.tick;
        e->next = cache.head;
        cache.head = e;
        cache.bytes += e->files.bytes;
        evict_locked(max);
    }
    pthread_mutex_unlock(&cache.mu);
    *out = e;
    return HRET_OK;
}

static void cache_release(struct hret_store_dscache_entry *e, size_t max)
{
    if (e == NULL) {
        return;
    }
    pthread_mutex_lock(&cache.mu);
    bool own = !e->listed;
    e->refs--;
    if (e->listed) {
        evict_locked(max); /* a version bigger than the bound goes once unused */
    }
    pthread_mutex_unlock(&cache.mu);
    if (own) {
        entry_free(e);
    }
}

/* ---- the source ------------------------------------------------------------------------- */

static enum hret_result from_files(const char *name, const char *want,
                                   struct hret_store_dsopen *out, struct hret_err *err)
{
    if (want != NULL) {
        return hret_err_set(err, HRET_E_INVAL,
                            "dataset %s: version %s asked, but the dataset is read from files "
                            "(datasets.source or an explicit data_dir): versions are imported "
                            "ones (hret dataset import)",
                            name, want);
    }
    out->from_store = false;
    return HRET_OK;
}

enum hret_result hret_store_dataset_open(struct hret_store *s,
                                         const struct hret_datasets_config *cfg, const char *name,
                                         const char *want, bool explicit_dir,
                                         struct hret_store_dsopen *out, struct hret_err *err)
{
    memset(out, 0, sizeof *out);
    if (cfg->source == HRET_DATASETS_FILES ||
        (cfg->source == HRET_DATASETS_AUTO && (explicit_dir || (s == NULL && want == NULL)))) {
        return from_files(name, want, out, err);
    }
    if (s == NULL) {
        return hret_err_set(err, HRET_E_CONFIG,
                            "dataset %s: imported versions need a database (postgres.conninfo)",
                            name);
    }
    double t0 = hret_clock_now_ms();
    long long id = 0;
    bool found = false;
    if (hret_store_dsfiles_find(s, name, want, &id, out->version, &found, err) != HRET_OK) {
        return err->code;
    }
    if (!found && want == NULL && cfg->source == HRET_DATASETS_AUTO) {
        return from_files(name, want, out, err);
    }
    if (!found) {
        return want ? hret_err_set(err, HRET_E_INVAL,
                                   "dataset %s: version %s is no longer in the store (removed with "
                                   "hret dataset rm) or was never imported",
                                   name, want)
                    : hret_err_set(err, HRET_E_INVAL,
                                   "dataset %s is not imported (datasets.source is postgres): "
                                   "hret dataset import %s --from DIR|URL",
                                   name, name);
    }
    size_t max = (size_t)cfg->cache_mb << 20;
    if (cache_get(s, id, max, &out->entry, &out->cached, err) != HRET_OK) {
        return err->code;
    }
    out->from_store = true;
    out->files = &out->entry->files.view;
    out->load_ms = hret_clock_now_ms() - t0;
    hret_log_info("dataset", NULL,
                  "%s version %.12s from postgres: %zu files, %zu bytes, %s in %.1f ms", name,
                  out->version, out->files->count, out->entry->files.bytes,
                  out->cached ? "cached" : "loaded", out->load_ms);
    out->cache_max = max;
    return HRET_OK;
}

void hret_store_dataset_close(struct hret_store_dsopen *o)
{
    cache_release(o->entry, o->cache_max);
    o->entry = NULL;
    o->files = NULL;
}

enum hret_result hret_store_dataset_load(struct hret_store *s,
                                         const struct hret_datasets_config *cfg,
                                         struct hret_dataset_spec *spec, const char *want,
                                         bool explicit_dir, bool stream, char data_version[65],
                                         struct hret_dataset **out, struct hret_err *err)
{
    data_version[0] = '\0';
    struct hret_store_dsopen src;
    enum hret_result r = hret_store_dataset_open(s, cfg, spec->name, want, explicit_dir, &src, err);
    if (r != HRET_OK) {
        return r;
    }
    const char *dir = spec->data_dir;
    char *label = NULL;
    if (src.from_store) {
        label = hret_xasprintf("postgres:%s@%.12s", spec->name, src.version);
        spec->data_dir = label;
        spec->files = src.files;
        snprintf(data_version, 65, "%s", src.version);
    }
    r = stream ? hret_dataset_open(spec, out, err) : hret_dataset_load(spec, out, err);
    size_t n = strlen(spec->name);
    if (r != HRET_OK && (strncmp(err->msg, spec->name, n) != 0 || err->msg[n] != ':')) {
        hret_err_prefix(err, "dataset %s", spec->name); /* the loader's own say "NAME: ..." */
    }
    spec->data_dir = dir;
    spec->files = NULL;
    hret_store_dataset_close(&src);
    free(label);
    return r;
}
