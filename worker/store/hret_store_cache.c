#include "hret_store_cache.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hret_pg_copy.h"
#include "hret_backend.h"
#include "hret_hash.h"
#include "hret_log.h"
#include "hret_mem.h"

#define FLUSH_EVERY 256
#define WINDOW "512"                      /* bodies fetched per round trip */
#define BODY_BYTES_MAX ((size_t)64 << 20) /* bodies held in memory before they are dropped */

struct entry {
    uint8_t key[32];
    bool used;
    char *body; /* NULL until fetched */
    size_t len;
};

struct pending {
    char key[65];
    char *body;
    size_t len;
};

struct hret_store_cache {
    struct hret_store *store;
    char *model_name, *model_id; /* copied: the cache may outlive the configuration */
    char endpoint[65];
    struct entry *table; /* open addressing, power-of-two size */
    size_t size, used, body_bytes;
    bool broken;
    struct pending pending[FLUSH_EVERY];
    size_t npending;
    struct hret_store_cache_stats stats;
};

static bool parse_key(const char *hex, uint8_t out[32])
{
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = hex[2 * i + k];
            unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                         : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                                                  : 16;
            if (d == 16) {
                return false;
            }
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return hex[64] == '\0';
}

static struct entry *slot_for(struct entry *table, size_t size, const uint8_t key[32])
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    for (size_t i = (size_t)h & (size - 1);; i = (i + 1) & (size - 1)) {
        if (!table[i].used || memcmp(table[i].key, key, 32) == 0) {
            return &table[i];
        }
    }
}

static void grow(struct hret_store_cache *c)
{
    size_t size = c->size ? c->size * 2 : 1024;
    struct entry *table = hret_xcalloc(size, sizeof *table);
    for (size_t i = 0; i < c->size; i++) {
        if (c->table[i].used) {
            *slot_for(table, size, c->table[i].key) = c->table[i];
        }
    }
    free(c->table);
    c->table = table;
    c->size = size;
}

static struct entry *find(struct hret_store_cache *c, const uint8_t key[32])
{
    if (c->size == 0) {
        return NULL;
    }
    struct entry *e = slot_for(c->table, c->size, key);
    return e->used ? e : NULL;
}

static struct entry *add(struct hret_store_cache *c, const uint8_t key[32])
{
    if ((c->used + 1) * 2 > c->size) {
        grow(c);
    }
    struct entry *e = slot_for(c->table, c->size, key);
    if (!e->used) {
        memcpy(e->key, key, 32);
        e->used = true;
        c->used++;
    }
    return e;
}

static void drop_bodies(struct hret_store_cache *c)
{
    for (size_t i = 0; i < c->size; i++) {
        free(c->table[i].body);
        c->table[i].body = NULL;
    }
    c->body_bytes = 0;
}

struct hret_store_cache *hret_store_cache_new(struct hret_store *store,
                                              const struct hret_model_config *model)
{
    struct hret_store_cache *c = hret_xcalloc(1, sizeof *c);
    c->store = store;
    c->model_name = hret_xstrdup(model->name);
    c->model_id = hret_xstrdup(model->model);
    char *identity = hret_xasprintf("%s\n%s\n%s\n", hret_backend_for(model)->name, model->base_url,
                                    model->model);
    hret_hash_sha256_hex(identity, strlen(identity), c->endpoint);
    free(identity);
    return c;
}

static void note_failure(struct hret_store_cache *c, const struct hret_err *err)
{
    hret_log_warn("cache", c->model_name, "response cache unavailable: %s", err->msg);
}

/* Bodies of the window of entries stored from hex_key on; none when hex_key is not stored. */
static void fetch_window(struct hret_store_cache *c, const char *hex_key)
{
    static const char sql[] =
        "SELECT cache_key, body FROM response_cache WHERE endpoint = $1 AND seq >="
        " (SELECT seq FROM response_cache WHERE cache_key = $2) ORDER BY seq LIMIT " WINDOW;
    PGresult *res = NULL;
    struct hret_err err = HRET_ERR_INIT;
    const char *params[] = {c->endpoint, hex_key};
    c->stats.round_trips++;
    if (hret_pg_query(hret_store_pg(c->store), "cache bodies", sql, 2, params, true, &res, &err) !=
        HRET_OK) {
        note_failure(c, &err);
        c->broken = true;
        return;
    }
    if (c->body_bytes > BODY_BYTES_MAX) {
        drop_bodies(c);
    }
    uint8_t key[32];
    char hex[65];
    c->stats.rows += (size_t)PQntuples(res);
    for (int i = 0; i < PQntuples(res); i++) {
        int n = PQgetlength(res, i, 0);
        snprintf(hex, sizeof hex, "%.*s", n, PQgetvalue(res, i, 0));
        struct entry *e = n == 64 && parse_key(hex, key) ? add(c, key) : NULL;
        if (e != NULL && e->body == NULL) {
            e->len = (size_t)PQgetlength(res, i, 1);
            e->body = hret_xmalloc(e->len + 1);
            memcpy(e->body, PQgetvalue(res, i, 1), e->len);
            e->body[e->len] = '\0';
            c->body_bytes += e->len;
        }
    }
    PQclear(res);
}

static char *lookup(void *user, const char *hex_key, size_t *len)
{
    struct hret_store_cache *c = user;
    uint8_t key[32];
    c->stats.lookups++;
    if (c->broken || !parse_key(hex_key, key)) {
        return NULL;
    }
    struct entry *e = find(c, key);
    if (e == NULL || e->body == NULL) {
        fetch_window(c, hex_key);
        e = find(c, key); /* the table may have grown */
    }
    if (e == NULL || e->body == NULL) {
        return NULL;
    }
    c->stats.hits++;
    *len = e->len;
    char *copy = hret_xmalloc(e->len + 1);
    memcpy(copy, e->body, e->len + 1);
    return copy;
}

static enum hret_result flush_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct hret_store_cache *c = user;
    struct hret_pg_copy copy;
    if (hret_pg_exec_static(pg, "cache staging",
                            "CREATE TEMP TABLE IF NOT EXISTS hret_stage_cache (ord integer,"
                            " cache_key text, endpoint text, model_id text, body bytea)"
                            " ON COMMIT DELETE ROWS",
                            err) != HRET_OK ||
        hret_pg_copy_begin(pg, &copy,
                           "COPY hret_stage_cache (ord, cache_key, endpoint, model_id, body)"
                           " FROM STDIN",
                           err) != HRET_OK) {
        return err->code;
    }
    for (size_t i = 0; i < c->npending; i++) {
        hret_pg_copy_int(&copy, (long long)i);
        hret_pg_copy_text(&copy, c->pending[i].key);
        hret_pg_copy_text(&copy, c->endpoint);
        hret_pg_copy_text(&copy, c->model_id);
        hret_pg_copy_bytea(&copy, c->pending[i].body, c->pending[i].len);
        if (hret_pg_copy_end_row(&copy, err) != HRET_OK) {
            hret_pg_copy_abort(&copy);
            return err->code;
        }
    }
    if (hret_pg_copy_finish(&copy, err) != HRET_OK) {
        return err->code;
    }
    return hret_pg_query(pg, "store cache",
                         "INSERT INTO response_cache (cache_key, endpoint, model_id, body)"
                         " SELECT cache_key, endpoint, model_id, body FROM hret_stage_cache"
                         " ORDER BY ord ON CONFLICT (cache_key) DO NOTHING",
                         0, NULL, false, NULL, err);
}

enum hret_result hret_store_cache_flush(struct hret_store_cache *c, struct hret_err *err)
{
    if (c->npending == 0) {
        return HRET_OK;
    }
    struct hret_err e = HRET_ERR_INIT;
    c->stats.round_trips++;
    enum hret_result r =
        hret_pg_transaction_once(hret_store_pg(c->store), "store cache", flush_txn, c, &e);
    if (r == HRET_OK) {
        c->stats.stored += c->npending;
    } else {
        c->stats.dropped += c->npending;
        note_failure(c, &e);
        hret_err_set(err, r, "%s", e.msg);
    }
    for (size_t i = 0; i < c->npending; i++) {
        free(c->pending[i].body);
    }
    c->npending = 0;
    return r;
}

static void store(void *user, const char *hex_key, const char *body, size_t len)
{
    struct hret_store_cache *c = user;
    uint8_t key[32];
    if (!parse_key(hex_key, key)) {
        return;
    }
    struct pending *p = &c->pending[c->npending++];
    memcpy(p->key, hex_key, 65);
    p->body = hret_xmalloc(len + 1);
    memcpy(p->body, body, len);
    p->body[len] = '\0';
    p->len = len;
    if (c->npending == FLUSH_EVERY) {
        hret_store_cache_flush(c, NULL);
    }
}

void hret_store_cache_hooks(struct hret_store_cache *c, struct hret_run_cache *out)
{
    out->lookup = lookup;
    out->store = store;
    out->user = c;
}

void hret_store_cache_get_stats(const struct hret_store_cache *c,
                                struct hret_store_cache_stats *out)
{
    *out = c->stats;
}

void hret_store_cache_destroy(struct hret_store_cache *c)
{
    if (c == NULL) {
        return;
    }
    hret_store_cache_flush(c, NULL);
    drop_bodies(c);
    free(c->table);
    free(c->model_name);
    free(c->model_id);
    free(c);
}
