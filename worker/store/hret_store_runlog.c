#include "hret_store_runlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_store_cache.h"

struct hret_store_runlog {
    struct hret_store *store;
    struct hret_store_cache *cache; /* NULL when off */
    struct hret_run_cache hooks;
    char run_id[37];
    bool begun, ended, end_failed;
};

enum hret_result hret_store_runlog_open(const struct hret_config *cfg, const char *db,
                                        const struct hret_model_config *model, bool use_cache,
                                        struct hret_store_runlog **out, struct hret_err *err)
{
    *out = NULL;
    const char *conninfo = db ? db : cfg->postgres.conninfo;
    if (conninfo == NULL || *conninfo == '\0') {
        return HRET_OK;
    }
    struct hret_store *store = NULL;
    if (hret_store_open(conninfo, cfg->postgres.password_env, true, &store, err) != HRET_OK) {
        return err->code;
    }
    struct hret_store_runlog *l = hret_xcalloc(1, sizeof *l);
    l->store = store;
    hret_store_new_run_id(l->run_id);
    if (use_cache) {
        l->cache = hret_store_cache_new(store, model);
        hret_store_cache_hooks(l->cache, &l->hooks);
    }
    *out = l;
    return HRET_OK;
}

void hret_store_runlog_destroy(struct hret_store_runlog *l)
{
    if (l == NULL) {
        return;
    }
    /* Never leave a run "running" behind, unless storing it just failed for want of the
     * database (then trying again here would only wait out the retries a second time). */
    if (l->begun && !l->ended && !l->end_failed) {
        struct hret_err err = HRET_ERR_INIT;
        if (hret_store_run_abandon(l->store, l->run_id,
                                   "hret run ended before its results were stored",
                                   &err) != HRET_OK) {
            hret_log_warn("store", l->run_id, "cannot mark the run failed: %s", err.msg);
        }
    }
    hret_store_cache_destroy(l->cache);
    hret_store_destroy(l->store);
    free(l);
}

const struct hret_run_cache *hret_store_runlog_cache(struct hret_store_runlog *l)
{
    return l->cache ? &l->hooks : NULL;
}

void hret_store_runlog_heartbeat(struct hret_store_runlog *l)
{
    struct hret_err err = HRET_ERR_INIT;
    if (l->begun && !l->ended && hret_store_run_heartbeat(l->store, l->run_id, &err) != HRET_OK) {
        hret_log_warn("store", l->run_id, "heartbeat not stored: %s", err.msg);
    }
}

struct hret_store *hret_store_runlog_store(struct hret_store_runlog *l)
{
    return l->store;
}

const char *hret_store_runlog_id(const struct hret_store_runlog *l)
{
    return l->run_id;
}

enum hret_result hret_store_runlog_begin(struct hret_store_runlog *l,
                                         const struct hret_store_run *run, struct hret_err *err)
{
    struct hret_store_run r = *run;
    r.run_id = l->run_id;
    enum hret_result res = hret_store_run_begin(l->store, &r, err);
    l->begun = res == HRET_OK;
    return res;
}

enum hret_result hret_store_runlog_end(struct hret_store_runlog *l,
                                       const struct hret_sample *samples,
                                       const struct hret_outcome *outcomes, size_t count,
                                       const struct hret_store_result *res, struct hret_err *err)
{
    if (l->cache != NULL) {
        hret_store_cache_flush(l->cache, NULL); /* best effort; logged */
        struct hret_store_cache_stats st;
        hret_store_cache_get_stats(l->cache, &st);
        hret_log_debug("cache", l->run_id,
                       "lookups %zu hits %zu stored %zu dropped %zu round trips %zu", st.lookups,
                       st.hits, st.stored, st.dropped, st.round_trips);
    }
    size_t inserted = 0;
    enum hret_result r =
        hret_store_run_complete(l->store, l->run_id, samples, outcomes, count, res, &inserted, err);
    l->end_failed = r != HRET_OK;
    if (r == HRET_OK) {
        l->ended = true;
        hret_log_debug("store", l->run_id, "stored run: %zu samples, status %s", inserted,
                       res->status);
    }
    return r;
}

bool hret_store_meta_add(cJSON *obj, const char *kv, const char *who)
{
    const char *eq = strchr(kv, '=');
    const char *dots = strstr(kv, "..");
    if (eq == NULL || eq == kv || kv[0] == '.' || eq[-1] == '.' || (dots != NULL && dots < eq)) {
        fprintf(stderr, "%s: --meta expects key=value (key may be dotted: a.b=1), got '%s'\n", who,
                kv);
        return false;
    }
    cJSON *node = obj;
    for (const char *p = kv;;) {
        size_t n = strcspn(p, ".=");
        char *key = hret_xstrndup(p, n);
        if (p[n] == '=') {
            cJSON *value = hret_json_parse(eq + 1, strlen(eq + 1), 1 << 20, NULL);
            cJSON_DeleteItemFromObjectCaseSensitive(node, key);
            cJSON_AddItemToObject(node, key, value ? value : cJSON_CreateString(eq + 1));
            free(key);
            return true;
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(node, key);
        if (!cJSON_IsObject(child)) {
            cJSON_DeleteItemFromObjectCaseSensitive(node, key);
            child = cJSON_AddObjectToObject(node, key);
        }
        free(key);
        node = child;
        p += n + 1;
    }
}
