/* Dataset versions as files (see hret_store_dsfiles.h). */
#include "hret_pg_copy.h"
#include "hret_store_dsfiles.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_hash.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_table.h"

#define ROW_MAX_BYTES ((size_t)1 << 30)

/* ---- import ------------------------------------------------------------------------------ */

static cJSON *manifest_of(const struct hret_dataset_files *files)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t f = 0; f < files->count; f++) {
        const struct hret_table *t = files->items[f].table;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", files->items[f].path);
        cJSON *cols = cJSON_AddArrayToObject(o, "columns");
        for (size_t c = 0; c < hret_table_cols(t); c++) {
            cJSON_AddItemToArray(cols, cJSON_CreateString(hret_table_col_name(t, c)));
        }
        cJSON_AddNumberToObject(o, "rows", (double)hret_table_rows(t));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* Every row as its JSON array of cells, one after another (off[i] .. off[i+1]). */
static void rows_text(const struct hret_dataset_files *files, struct hret_buf *b, size_t **off,
                      size_t *n)
{
    size_t total = 0;
    for (size_t f = 0; f < files->count; f++) {
        total += hret_table_rows(files->items[f].table);
    }
    *off = hret_xcalloc(total + 1, sizeof **off);
    (*off)[0] = b->len;
    *n = 0;
    for (size_t f = 0; f < files->count; f++) {
        const struct hret_table *t = files->items[f].table;
        for (size_t r = 0; r < hret_table_rows(t); r++) {
            cJSON *row = cJSON_CreateArray();
            for (size_t c = 0; c < hret_table_cols(t); c++) {
                const char *v = hret_table_cell(t, r, c);
                cJSON_AddItemToArray(row, v ? cJSON_CreateString(v) : cJSON_CreateNull());
            }
            char *text = hret_json_print(row);
            (void)hret_buf_append(b, text, strlen(text), NULL);
            free(text);
            cJSON_Delete(row);
            (*off)[++*n] = b->len;
        }
    }
}

struct import_job {
    const struct hret_store_dsfiles_info *info;
    const struct hret_dataset_files *files;
    const char *manifest, *version;
    const struct hret_buf *rows;
    const size_t *off;
    size_t n;
    bool created;
};

static enum hret_result copy_rows(struct hret_pg *pg, const char *id, const struct import_job *j,
                                  struct hret_err *err)
{
    struct hret_pg_copy c;
    if (hret_pg_copy_begin(pg, &c,
                           "COPY dataset_items (dataset_id, item_idx, item_id, data) FROM STDIN",
                           err) != HRET_OK) {
        return err->code;
    }
    size_t i = 0;
    for (size_t f = 0; f < j->files->count; f++) {
        size_t rows = hret_table_rows(j->files->items[f].table);
        for (size_t r = 0; r < rows; r++, i++) {
            hret_pg_copy_text(&c, id);
            hret_pg_copy_int(&c, (long long)i);
            hret_pg_copy_text(&c, j->files->items[f].path);
            hret_pg_copy_textn(&c, j->rows->data + j->off[i], j->off[i + 1] - j->off[i]);
            if (hret_pg_copy_end_row(&c, err) != HRET_OK) {
                hret_pg_copy_abort(&c);
                return err->code;
            }
        }
    }
    return hret_pg_copy_finish(&c, err);
}

static enum hret_result import_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct import_job *j = user;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; j->info->subsets != NULL && i < j->info->subsets->count; i++) {
        cJSON_AddItemToArray(arr, cJSON_CreateString(j->info->subsets->items[i]));
    }
    char *subsets = hret_json_print(arr);
    cJSON_Delete(arr);
    char count[32];
    snprintf(count, sizeof count, "%zu", j->n);
    const char *params[] = {j->info->name,  j->version, j->info->source, subsets,
                            j->info->split, count,      j->manifest};
    PGresult *res = NULL;
    enum hret_result r = hret_pg_query(
        pg, "create dataset version",
        "INSERT INTO datasets (name, version, kind, source, subsets, split, item_count, files)"
        " VALUES ($1, $2, 'files', $3, $4::jsonb, $5, $6::integer, $7::jsonb)"
        " ON CONFLICT (name, version) DO NOTHING RETURNING dataset_id",
        7, params, false, &res, err);
    free(subsets);
    j->created = r == HRET_OK && PQntuples(res) == 1;
    if (j->created) {
        r = copy_rows(pg, PQgetvalue(res, 0, 0), j, err);
    }
    PQclear(res);
    return r;
}

enum hret_result hret_store_dsfiles_import(struct hret_store *s,
                                           const struct hret_store_dsfiles_info *info,
                                           const struct hret_dataset_files *files, char version[65],
                                           bool *created, struct hret_err *err)
{
    cJSON *manifest = manifest_of(files);
    char *mtext = hret_json_print(manifest);
    cJSON_Delete(manifest);
    struct hret_buf rows;
    hret_buf_init(&rows, (size_t)-1);
    (void)hret_buf_append(&rows, mtext, strlen(mtext) + 1, NULL); /* the manifest is hashed too */
    size_t *off = NULL, n = 0;
    rows_text(files, &rows, &off, &n);
    hret_hash_sha256_hex(rows.data, rows.len, version);
    struct import_job j = {info, files, mtext, version, &rows, off, n, false};
    enum hret_result r =
        hret_pg_transaction(hret_store_pg(s), "import dataset files", import_txn, &j, err);
    *created = r == HRET_OK && j.created;
    free(off);
    free(mtext);
    hret_buf_fini(&rows);
    return r;
}

/* ---- find, load, remove ------------------------------------------------------------------ */

/* A version argument: 8 to 64 lowercase hex digits (no LIKE wildcards get through). */
static bool version_ok(const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)v[i]) || isupper((unsigned char)v[i])) {
            return false;
        }
    }
    return n >= 8 && n <= 64;
}

static enum hret_result bad_version(const char *v, struct hret_err *err)
{
    return hret_err_set(err, HRET_E_INVAL,
                        "dataset version '%s': expected 8 to 64 lowercase hex digits", v);
}

enum hret_result hret_store_dsfiles_find(struct hret_store *s, const char *name,
                                         const char *version, long long *id, char out[65],
                                         bool *found, struct hret_err *err)
{
    *found = false;
    if (version != NULL && !version_ok(version)) {
        return bad_version(version, err);
    }
    const char *params[] = {name, version};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s), "find dataset version",
                      "SELECT dataset_id, version FROM datasets WHERE name = $1 AND kind = 'files'"
                      " AND ($2::text IS NULL OR version LIKE $2 || '%')"
                      " ORDER BY created_at DESC, dataset_id DESC LIMIT 2",
                      2, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    enum hret_result r = HRET_OK;
    if (version != NULL && PQntuples(res) > 1) {
        r = hret_err_set(err, HRET_E_INVAL, "dataset %s: version prefix %s is ambiguous", name,
                         version);
    } else if (PQntuples(res) >= 1) {
        *found = true;
        *id = atoll(PQgetvalue(res, 0, 0));
        snprintf(out, 65, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return r;
}

/* One stored row (a JSON array of text or null) into row r of the builder. */
static enum hret_result load_row(struct hret_table_builder *b, const char *path, size_t r,
                                 size_t ncols, const char *text, size_t len, struct hret_err *err)
{
    cJSON *row = hret_json_parse(text, len, ROW_MAX_BYTES, err);
    if (row == NULL || !cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != ncols) {
        cJSON_Delete(row);
        return hret_err_set(err, HRET_E_INVAL, "%s row %zu: stored row is not %zu cells", path, r,
                            ncols);
    }
    enum hret_result res = HRET_OK;
    size_t c = 0;
    for (const cJSON *v = row->child; v != NULL && res == HRET_OK; v = v->next, c++) {
        if (cJSON_IsString(v)) {
            res = hret_table_builder_cell(b, r, c, v->valuestring, strlen(v->valuestring), err);
        }
    }
    cJSON_Delete(row);
    return res;
}

/* File f of the manifest, its rows at res rows [*next, *next + rows). */
static enum hret_result load_file(const cJSON *m, PGresult *res, int *next,
                                  struct hret_dataset_fileset *out, struct hret_err *err)
{
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(m, "path");
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(m, "columns");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(m, "rows");
    if (!cJSON_IsString(path) || !cJSON_IsArray(cols) || !cJSON_IsNumber(rows) ||
        rows->valuedouble < 0 || *next + rows->valuedouble > PQntuples(res)) {
        return hret_err_set(err, HRET_E_INVAL, "stored dataset: corrupt file manifest");
    }
    size_t ncols = (size_t)cJSON_GetArraySize(cols), nrows = (size_t)rows->valuedouble;
    const char **names = hret_xcalloc(ncols + 1, sizeof *names);
    size_t c = 0;
    for (const cJSON *v = cols->child; v != NULL; v = v->next) {
        names[c++] = cJSON_IsString(v) ? v->valuestring : "";
    }
    struct hret_table_builder *b = hret_table_builder_new(path->valuestring);
    enum hret_result r = hret_table_builder_begin(b, names, ncols, nrows, err);
    for (size_t i = 0; i < nrows && r == HRET_OK; i++, (*next)++) {
        r = load_row(b, path->valuestring, i, ncols, PQgetvalue(res, *next, 0),
                     (size_t)PQgetlength(res, *next, 0), err);
    }
    free(names);
    if (r != HRET_OK) {
        hret_table_builder_destroy(b);
        return r;
    }
    hret_dataset_fileset_add(out, path->valuestring, hret_table_builder_finish(b));
    return HRET_OK;
}

enum hret_result hret_store_dsfiles_load(struct hret_store *s, long long id,
                                         struct hret_dataset_fileset *out, struct hret_err *err)
{
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *params[] = {idtext};
    PGresult *meta = NULL, *rows = NULL;
    struct hret_pg *pg = hret_store_pg(s);
    enum hret_result r = hret_pg_query(pg, "dataset manifest",
                                       "SELECT files::text FROM datasets WHERE dataset_id = $1"
                                       " AND kind = 'files'",
                                       1, params, false, &meta, err);
    if (r == HRET_OK && PQntuples(meta) != 1) {
        r = hret_err_set(err, HRET_E_INVAL, "dataset version %lld is no longer stored", id);
    }
    if (r == HRET_OK) {
        r = hret_pg_query(pg, "dataset rows",
                          "SELECT data::text FROM dataset_items WHERE dataset_id = $1"
                          " ORDER BY item_idx",
                          1, params, false, &rows, err);
    }
    cJSON *m = r == HRET_OK ? hret_json_parse(PQgetvalue(meta, 0, 0),
                                              (size_t)PQgetlength(meta, 0, 0), ROW_MAX_BYTES, err)
                            : NULL;
    if (r == HRET_OK && !cJSON_IsArray(m)) {
        r = hret_err_set(err, HRET_E_INVAL, "dataset version %lld: corrupt file manifest", id);
    }
    int next = 0;
    for (const cJSON *f = m ? m->child : NULL; f != NULL && r == HRET_OK; f = f->next) {
        r = load_file(f, rows, &next, out, err);
    }
    if (r == HRET_OK && next != PQntuples(rows)) {
        r = hret_err_set(err, HRET_E_INVAL, "dataset version %lld: %d rows stored, %d listed", id,
                         PQntuples(rows), next);
    }
    cJSON_Delete(m);
    PQclear(meta);
    PQclear(rows);
    return r;
}

enum hret_result hret_store_dsfiles_rm(struct hret_store *s, const char *name, const char *version,
                                       size_t *removed, struct hret_err *err)
{
    *removed = 0;
    if (version != NULL && !version_ok(version)) {
        return bad_version(version, err);
    }
    const char *params[] = {name, version};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s), "remove dataset version",
                      "DELETE FROM datasets WHERE name = $1"
                      " AND ($2::text IS NULL OR version LIKE $2 || '%') RETURNING version",
                      2, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    *removed = (size_t)PQntuples(res);
    PQclear(res);
    return HRET_OK;
}

enum hret_result hret_store_dsfiles_manifest(struct hret_store *s, const char *name,
                                             const char *version, cJSON **out, char found[65],
                                             struct hret_err *err)
{
    *out = NULL;
    found[0] = '\0';
    if (version != NULL && !version_ok(version)) {
        return bad_version(version, err);
    }
    const char *params[] = {name, version};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s), "dataset manifest",
                      "SELECT version, files::text FROM datasets WHERE name = $1"
                      " AND ($2::text IS NULL OR version LIKE $2 || '%')"
                      " ORDER BY created_at DESC, dataset_id DESC LIMIT 1",
                      2, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    if (PQntuples(res) == 1) {
        snprintf(found, 65, "%s", PQgetvalue(res, 0, 0));
        if (!PQgetisnull(res, 0, 1)) {
            *out = hret_json_parse(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1),
                                   ROW_MAX_BYTES, NULL);
        }
    }
    PQclear(res);
    return HRET_OK;
}

/* ---- pages kept between attempts of a rows API import ----------------------------------- */

static char *page_get(void *ctx, const char *config, const char *split, long offset)
{
    struct hret_store_dsfiles_pages *at = ctx;
    char off[32];
    snprintf(off, sizeof off, "%ld", offset);
    const char *params[] = {at->source, config, split, off};
    PGresult *res = NULL;
    struct hret_err err = HRET_ERR_INIT;
    char *body = NULL;
    if (hret_pg_query(hret_store_pg(at->s), "kept page",
                      "SELECT body FROM dataset_import_pages WHERE source = $1 AND config = $2"
                      " AND split = $3 AND page_offset = $4::bigint",
                      4, params, false, &res, &err) == HRET_OK &&
        PQntuples(res) == 1) {
        body = hret_xstrdup(PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return body; /* a failed lookup fetches the page again */
}

static void page_put(void *ctx, const char *config, const char *split, long offset,
                     const char *body)
{
    struct hret_store_dsfiles_pages *at = ctx;
    char off[32];
    snprintf(off, sizeof off, "%ld", offset);
    const char *params[] = {at->source, config, split, off, body};
    struct hret_err err = HRET_ERR_INIT;
    (void)hret_pg_query(
        hret_store_pg(at->s), "keep page",
        "INSERT INTO dataset_import_pages (source, config, split, page_offset, body)"
        " VALUES ($1, $2, $3, $4::bigint, $5) ON CONFLICT DO NOTHING",
        5, params, false, NULL, &err); /* best effort: only resuming needs it */
}

void hret_store_dsfiles_page_hooks(struct hret_store_dsfiles_pages *at,
                                   struct hret_store_hf_pages *hooks)
{
    *hooks = (struct hret_store_hf_pages){at, page_get, page_put};
}

enum hret_result hret_store_dsfiles_pages_done(struct hret_store *s, const char *source,
                                               struct hret_err *err)
{
    const char *params[] = {source};
    return hret_pg_query(hret_store_pg(s), "forget kept pages",
                         "DELETE FROM dataset_import_pages WHERE source = $1", 1, params, false,
                         NULL, err);
}
