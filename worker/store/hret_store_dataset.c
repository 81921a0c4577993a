#include "hret_store_dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_pg_copy.h"
#include "hret_hash.h"
#include "hret_json.h"
#include "hret_mem.h"

static void field(struct hret_buf *b, const char *s)
{
    /* NULL and "" differ: a NULL field is one 0x01 byte, each field ends with 0x00. */
    if (s == NULL) {
        hret_buf_append(b, "\x01", 1, NULL);
    } else {
        hret_buf_append(b, s, strlen(s), NULL);
    }
    hret_buf_append(b, "", 1, NULL);
}

static void json_field(struct hret_buf *b, const cJSON *j)
{
    char *text = j ? hret_json_print(j) : NULL;
    field(b, text);
    free(text);
}

void hret_store_dataset_version(const struct hret_store_item *items, size_t n, char out[65])
{
    struct hret_buf b;
    hret_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct hret_store_item *it = &items[i];
        field(&b, it->item_id);
        field(&b, it->subset);
        field(&b, it->split);
        field(&b, it->input);
        field(&b, it->reference);
        json_field(&b, it->options);
        json_field(&b, it->data);
    }
    hret_hash_sha256_hex(b.data ? b.data : "", b.len, out);
    hret_buf_fini(&b);
}

struct import_job {
    const struct hret_store_dataset_info *d;
    const struct hret_store_item *items;
    size_t n;
    const char *version;
    bool created;
};

static void copy_json(struct hret_pg_copy *c, const cJSON *j)
{
    char *text = j ? hret_json_print(j) : NULL;
    hret_pg_copy_text(c, text);
    free(text);
}

static enum hret_result copy_items(struct hret_pg *pg, const char *id, const struct import_job *j,
                                   struct hret_err *err)
{
    struct hret_pg_copy c;
    if (hret_pg_copy_begin(pg, &c,
                           "COPY dataset_items (dataset_id, item_idx, item_id, subset, split,"
                           " input, reference, options, data) FROM STDIN",
                           err) != HRET_OK) {
        return err->code;
    }
    for (size_t i = 0; i < j->n; i++) {
        const struct hret_store_item *it = &j->items[i];
        hret_pg_copy_text(&c, id);
        hret_pg_copy_int(&c, (long long)i);
        hret_pg_copy_text(&c, it->item_id);
        hret_pg_copy_text(&c, it->subset);
        hret_pg_copy_text(&c, it->split);
        hret_pg_copy_text(&c, it->input);
        hret_pg_copy_text(&c, it->reference);
        copy_json(&c, it->options);
        copy_json(&c, it->data);
        if (hret_pg_copy_end_row(&c, err) != HRET_OK) {
            hret_pg_copy_abort(&c);
            return err->code;
        }
    }
    return hret_pg_copy_finish(&c, err);
}

static enum hret_result import_txn(struct hret_pg *pg, void *user, struct hret_err *err)
{
    struct import_job *j = user;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; j->d->subsets != NULL && i < j->d->subsets->count; i++) {
        cJSON_AddItemToArray(arr, cJSON_CreateString(j->d->subsets->items[i]));
    }
    char *subsets_json = hret_json_print(arr);
    cJSON_Delete(arr);
    char count[32];
    snprintf(count, sizeof count, "%zu", j->n);
    const char *params[] = {j->d->name,   j->version,  j->d->kind, j->d->source,
                            subsets_json, j->d->split, count};
    PGresult *res = NULL;
    enum hret_result r = hret_pg_query(
        pg, "create dataset version",
        "INSERT INTO datasets (name, version, kind, source, subsets, split, item_count)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::integer)"
        " ON CONFLICT (name, version) DO NOTHING RETURNING dataset_id",
        7, params, false, &res, err);
    free(subsets_json);
    j->created = r == HRET_OK && PQntuples(res) == 1;
    if (j->created) {
        r = copy_items(pg, PQgetvalue(res, 0, 0), j, err);
    }
    PQclear(res);
    return r;
}

enum hret_result hret_store_dataset_import(struct hret_store *s,
                                           const struct hret_store_dataset_info *d,
                                           const struct hret_store_item *items, size_t n,
                                           char version[65], bool *created, struct hret_err *err)
{
    hret_store_dataset_version(items, n, version);
    struct import_job j = {d, items, n, version, false};
    enum hret_result r =
        hret_pg_transaction(hret_store_pg(s), "import dataset", import_txn, &j, err);
    *created = r == HRET_OK && j.created;
    return r;
}

enum hret_result hret_store_datasets_list(struct hret_store *s, const char *name,
                                          struct hret_store_dataset_row **rows, size_t *n,
                                          struct hret_err *err)
{
    *rows = NULL;
    *n = 0;
    const char *params[] = {name};
    PGresult *res = NULL;
    if (hret_pg_query(hret_store_pg(s), "list datasets",
                      "SELECT name, version, kind, source, split,"
                      " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                      " subsets, item_count FROM datasets WHERE ($1::text IS NULL OR name = $1)"
                      " ORDER BY name, created_at DESC",
                      1, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    *n = (size_t)PQntuples(res);
    *rows = hret_xcalloc(*n ? *n : 1, sizeof **rows);
    for (int i = 0; i < (int)*n; i++) {
        struct hret_store_dataset_row *r = &(*rows)[i];
        char **strings[] = {&r->name, &r->version, &r->kind, &r->source, &r->split, &r->created_at};
        for (int k = 0; k < 6; k++) {
            *strings[k] = PQgetisnull(res, i, k) ? NULL : hret_xstrdup(PQgetvalue(res, i, k));
        }
        r->subsets = hret_json_parse(PQgetvalue(res, i, 6), (size_t)PQgetlength(res, i, 6),
                                     (size_t)1 << 24, NULL);
        r->items = strtoll(PQgetvalue(res, i, 7), NULL, 10);
    }
    PQclear(res);
    return HRET_OK;
}

void hret_store_dataset_rows_free(struct hret_store_dataset_row *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++) {
        free(rows[i].name);
        free(rows[i].version);
        free(rows[i].kind);
        free(rows[i].source);
        free(rows[i].split);
        free(rows[i].created_at);
        cJSON_Delete(rows[i].subsets);
    }
    free(rows);
}
