#include "hret_store_hf.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hret_http.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"

#define PAGE_ROWS 100
#define MAX_ROWS 5000000L
#define MAX_BODY ((size_t)32 << 20)

/* ---- URL ---- */

static char *decode(const char *s, size_t n)
{
    char *out = hret_xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            out[k++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[k++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[k] = '\0';
    return out;
}

static void query_param(const char *query, const char *key, char **out)
{
    size_t klen = strlen(key);
    for (const char *p = query; p && *p;) {
        size_t n = strcspn(p, "&");
        if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            free(*out);
            *out = decode(p + klen + 1, n - klen - 1);
        }
        p += n + (p[n] == '&');
    }
}

enum hret_result hret_store_hf_parse_url(const char *url, char **base, char **dataset,
                                         char **config, char **split, struct hret_err *err)
{
    *base = *dataset = *config = *split = NULL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        return hret_err_set(err, HRET_E_INVAL, "not an http(s) URL: %s", url);
    }
    const char *q = strchr(url, '?');
    size_t n = q ? (size_t)(q - url) : strlen(url);
    while (n > 0 && url[n - 1] == '/') {
        n--;
    }
    static const char *const endpoints[] = {"/rows", "/splits", "/first-rows"};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(endpoints[i]);
        if (n > len && strncmp(url + n - len, endpoints[i], len) == 0) {
            n -= len;
            break;
        }
    }
    query_param(q ? q + 1 : NULL, "dataset", dataset);
    query_param(q ? q + 1 : NULL, "config", config);
    query_param(q ? q + 1 : NULL, "split", split);
    if (*dataset == NULL || **dataset == '\0') {
        free(*dataset);
        free(*config);
        free(*split);
        *dataset = *config = *split = NULL;
        return hret_err_set(err, HRET_E_INVAL,
                            "%s: no dataset= parameter (expected e.g. "
                            "https://datasets-server.huggingface.co/rows?dataset=HAERAE-HUB/KMMLU)",
                            url);
    }
    *base = hret_xstrndup(url, n);
    return HRET_OK;
}

/* ---- HTTP ---- */

struct fetch {
    struct hret_http *http;
    int pool;
    const struct hret_store_hf_pages *pages; /* nullable */
    size_t resumed;
};

struct page {
    cJSON *doc; /* parsed body */
    bool done;
    struct hret_err err;
};

static enum hret_result on_page(void *user, const struct hret_http_result *r)
{
    struct page *p = user;
    if (r->code == HRET_OK) {
        p->doc = hret_json_parse(r->body, r->body_len, MAX_BODY, &p->err);
        if (p->doc == NULL) {
            return HRET_AGAIN; /* malformed: retried within the budget */
        }
    } else {
        hret_err_set(&p->err, r->code, "HTTP %ld: %s", r->status, r->error);
    }
    p->done = true;
    return HRET_OK;
}

/* GETs n URLs (borrowed) at once; pages[i] gets each document. First error wins. */
static enum hret_result get_all(struct fetch *f, char **urls, size_t n, struct page *pages,
                                struct hret_err *err)
{
    for (size_t i = 0; i < n; i++) {
        pages[i] = (struct page){NULL, false, HRET_ERR_INIT};
        struct hret_http_request req = {.url = urls[i]};
        if (hret_http_submit(f->http, f->pool, &req, on_page, &pages[i], err) != HRET_OK) {
            return err->code;
        }
    }
    while (hret_http_run(f->http, 200) > 0) {
    }
    for (size_t i = 0; i < n; i++) {
        if (!pages[i].done || pages[i].err.code != HRET_OK) {
            return hret_err_set(err, pages[i].err.code ? pages[i].err.code : HRET_E_UNAVAILABLE,
                                "%s: %s", urls[i], pages[i].err.msg);
        }
    }
    return HRET_OK;
}

static char *escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *copy = hret_xstrdup(e ? e : "");
    curl_free(e);
    return copy;
}

/* The (config, split) pairs from /splits: those of split, or every one when split is NULL. */
static enum hret_result list_configs(struct fetch *f, const char *base, const char *dataset,
                                     const char *split, struct hret_strlist *out,
                                     struct hret_strlist *pair_splits, struct hret_err *err)
{
    char *ds = escape(dataset);
    char *url = hret_xasprintf("%s/splits?dataset=%s", base, ds);
    struct page p;
    enum hret_result r = get_all(f, &url, 1, &p, err);
    if (r == HRET_OK) {
        r = hret_store_hf_splits(p.doc, split, out, pair_splits, err);
    }
    if (r == HRET_OK && out->count == 0) {
        r = hret_err_set(err, HRET_E_INVAL, "%s has no config with a '%s' split", dataset,
                         split ? split : "any");
    }
    cJSON_Delete(p.doc);
    free(url);
    free(ds);
    return r;
}

enum hret_result hret_store_hf_splits(const cJSON *doc, const char *split,
                                      struct hret_strlist *configs, struct hret_strlist *splits,
                                      struct hret_err *err)
{
    const cJSON *list = NULL;
    if (hret_json_get_array(doc, "splits", true, &list, err) != HRET_OK) {
        return err->code;
    }
    for (const cJSON *it = list->child; it != NULL; it = it->next) {
        const char *config = NULL, *s = NULL;
        hret_json_get_string(it, "config", false, &config, NULL);
        hret_json_get_string(it, "split", false, &s, NULL);
        if (config != NULL && s != NULL && (split == NULL || strcmp(s, split) == 0)) {
            hret_strlist_push(configs, hret_xstrdup(config));
            hret_strlist_push(splits, hret_xstrdup(s));
        }
    }
    return HRET_OK;
}

enum hret_result hret_store_hf_take_rows(const cJSON *doc, const char *config, const char *split,
                                         cJSON *out, struct hret_err *err)
{
    const cJSON *rows = NULL;
    if (hret_json_get_array(doc, "rows", true, &rows, err) != HRET_OK) {
        return err->code;
    }
    for (const cJSON *it = rows->child; it != NULL; it = it->next) {
        long long idx = 0;
        const cJSON *row = NULL, *truncated = NULL;
        if (hret_json_get_int(it, "row_idx", true, &idx, err) != HRET_OK ||
            hret_json_get_object(it, "row", true, &row, err) != HRET_OK ||
            hret_json_get_array(it, "truncated_cells", false, &truncated, err) != HRET_OK) {
            return err->code;
        }
        if (truncated != NULL && cJSON_GetArraySize(truncated) > 0) {
            return hret_err_set(err, HRET_E_PROTO,
                                "%s row %lld has truncated cells (the server shortens big cells); "
                                "download the dataset files and import the directory instead",
                                config, idx);
        }
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "config", config);
        cJSON_AddStringToObject(item, "split", split);
        cJSON_AddNumberToObject(item, "row_idx", (double)idx);
        cJSON_AddItemToObject(item, "row", cJSON_Duplicate(row, true));
        cJSON_AddItemToArray(out, item);
    }
    return HRET_OK;
}

static char *rows_url(const char *base, const char *ds, const char *config, const char *split,
                      long offset)
{
    char *c = escape(config), *s = escape(split);
    char *url = hret_xasprintf("%s/rows?dataset=%s&config=%s&split=%s&offset=%ld&length=%d", base,
                               ds, c, s, offset, PAGE_ROWS);
    free(c);
    free(s);
    return url;
}

/* Rows pages [0, n) at offsets offs: those kept by an earlier attempt from the page store, the
 * rest fetched together and kept (also when another page of the batch fails). */
static enum hret_result get_pages(struct fetch *f, const char *config, const char *split,
                                  char **urls, const long *offs, size_t n, struct page *pages,
                                  struct hret_err *err)
{
    char **want = hret_xcalloc(n ? n : 1, sizeof *want);
    size_t *slot = hret_xcalloc(n ? n : 1, sizeof *slot), nwant = 0;
    for (size_t i = 0; i < n; i++) {
        char *kept =
            f->pages && f->pages->get ? f->pages->get(f->pages->ctx, config, split, offs[i]) : NULL;
        pages[i] = (struct page){NULL, false, HRET_ERR_INIT};
        pages[i].doc = kept ? hret_json_parse(kept, strlen(kept), MAX_BODY, NULL) : NULL;
        f->resumed += pages[i].doc != NULL;
        if (pages[i].doc == NULL) {
            want[nwant] = urls[i];
            slot[nwant++] = i;
        }
        free(kept);
    }
    struct page *got = hret_xcalloc(nwant ? nwant : 1, sizeof *got);
    enum hret_result r = nwant ? get_all(f, want, nwant, got, err) : HRET_OK;
    for (size_t k = 0; k < nwant; k++) {
        if (got[k].doc != NULL && f->pages && f->pages->put) {
            char *text = hret_json_print(got[k].doc);
            f->pages->put(f->pages->ctx, config, split, offs[slot[k]], text);
            free(text);
        }
        pages[slot[k]].doc = got[k].doc;
    }
    free(got);
    free(slot);
    free(want);
    return r;
}

/* One config: the first page for the total, then the other pages together. */
static enum hret_result fetch_config(struct fetch *f, const char *base, const char *ds,
                                     const char *config, const char *split, cJSON *out,
                                     struct hret_err *err)
{
    char *first = rows_url(base, ds, config, split, 0);
    struct page p0;
    long off0 = 0;
    enum hret_result r = get_pages(f, config, split, &first, &off0, 1, &p0, err);
    free(first);
    long long total = 0;
    if (r == HRET_OK) {
        r = hret_json_get_int(p0.doc, "num_rows_total", true, &total, err);
    }
    if (r == HRET_OK && (total < 0 || total > MAX_ROWS)) {
        r = hret_err_set(err, HRET_E_PROTO, "%s: num_rows_total %lld is out of range", config,
                         total);
    }
    if (r == HRET_OK) {
        r = hret_store_hf_take_rows(p0.doc, config, split, out, err);
    }
    cJSON_Delete(p0.doc);
    size_t npages = total > PAGE_ROWS ? (size_t)((total - 1) / PAGE_ROWS) : 0;
    if (r != HRET_OK || npages == 0) {
        return r;
    }
    char **urls = hret_xcalloc(npages, sizeof *urls);
    struct page *pages = hret_xcalloc(npages, sizeof *pages);
    long *offs = hret_xcalloc(npages, sizeof *offs);
    for (size_t i = 0; i < npages; i++) {
        offs[i] = (long)(i + 1) * PAGE_ROWS;
        urls[i] = rows_url(base, ds, config, split, offs[i]);
    }
    r = get_pages(f, config, split, urls, offs, npages, pages, err);
    free(offs);
    for (size_t i = 0; i < npages; i++) {
        if (r == HRET_OK) {
            r = hret_store_hf_take_rows(pages[i].doc, config, split, out, err);
        }
        cJSON_Delete(pages[i].doc);
        free(urls[i]);
    }
    free(urls);
    free(pages);
    return r;
}

static enum hret_result open_fetch(struct fetch *f, struct hret_err *err)
{
    struct hret_http_limits lim = {
        .name = "huggingface",
        .max_inflight = 4,
        .timeout_ms = 60000,
        .connect_timeout_ms = 10000,
        .max_retries = 5,
        .retry_after_cap_ms = 60000,
        .max_response_bytes = MAX_BODY,
        .api_key_env = getenv("HF_TOKEN") ? "HF_TOKEN" : NULL,
    };
    f->http = hret_http_new(err);
    if (f->http == NULL) {
        return err->code;
    }
    f->pool = hret_http_add_pool(f->http, &lim, err);
    return f->pool < 0 ? err->code : HRET_OK;
}

enum hret_result hret_store_hf_fetch(const struct hret_store_hf_request *req,
                                     struct hret_store_hf_rows *out, struct hret_err *err)
{
    memset(out, 0, sizeof *out);
    char *base = NULL, *config = NULL, *split = NULL;
    if (hret_store_hf_parse_url(req->url, &base, &out->dataset, &config, &split, err) != HRET_OK) {
        return err->code;
    }
    const char *want = req->split ? req->split : split; /* NULL: every split */
    out->split = want ? hret_xstrdup(want) : NULL;
    out->rows = cJSON_CreateArray();
    struct fetch f = {NULL, -1, req->pages, 0};
    char *ds = escape(out->dataset);
    enum hret_result r = open_fetch(&f, err);
    struct hret_strlist listed = {0}, splits = {0};
    if (r == HRET_OK) {
        r = list_configs(&f, base, out->dataset, want, &listed, &splits, err);
    }
    const struct hret_strlist *named = req->subsets && req->subsets->count ? req->subsets : NULL;
    for (size_t i = 0; r == HRET_OK && i < listed.count; i++) { /* the named configs, or all */
        bool keep = named == NULL && config == NULL;
        for (size_t k = 0; named != NULL && k < named->count; k++) {
            keep = keep || strcmp(named->items[k], listed.items[i]) == 0;
        }
        keep = keep || (named == NULL && config != NULL && strcmp(config, listed.items[i]) == 0);
        if (keep) {
            hret_strlist_push(&out->configs, hret_xstrdup(listed.items[i]));
            hret_strlist_push(&out->splits, hret_xstrdup(splits.items[i]));
        }
    }
    for (size_t k = 0; r == HRET_OK && named != NULL && k < named->count; k++) {
        bool seen = false;
        for (size_t i = 0; i < out->configs.count; i++) {
            seen = seen || strcmp(out->configs.items[i], named->items[k]) == 0;
        }
        if (!seen) {
            r = hret_err_set(err, HRET_E_INVAL, "%s has no config '%s' with a '%s' split",
                             out->dataset, named->items[k], want ? want : "any");
        }
    }
    hret_strlist_fini(&listed);
    hret_strlist_fini(&splits);
    for (size_t i = 0; r == HRET_OK && i < out->configs.count; i++) {
        r = fetch_config(&f, base, ds, out->configs.items[i], out->splits.items[i], out->rows, err);
        hret_log_debug("hf", out->dataset, "%s: %d rows so far", out->configs.items[i],
                       cJSON_GetArraySize(out->rows));
    }
    out->resumed = f.resumed;
    hret_http_destroy(f.http);
    free(ds);
    free(base);
    free(config);
    free(split);
    return r;
}

void hret_store_hf_rows_fini(struct hret_store_hf_rows *r)
{
    free(r->dataset);
    free(r->split);
    hret_strlist_fini(&r->configs);
    hret_strlist_fini(&r->splits);
    cJSON_Delete(r->rows);
    memset(r, 0, sizeof *r);
}
