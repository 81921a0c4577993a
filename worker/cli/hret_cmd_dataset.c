/* hret dataset import|list: benchmark versions in PostgreSQL, from a download directory (through
 * hret's loaders) or from the Hugging Face datasets-server rows API. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cli.h"
#include "hret_dataset.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_store_cli.h"
#include "hret_store_dataset.h"
#include "hret_store_hf.h"

struct dataset_args {
    const char *config, *db, *from, *split;
    struct hret_strlist subsets;
    bool json;
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"db", required_argument, NULL, 'B'},
    {"from", required_argument, NULL, 'f'},
    {"subset", required_argument, NULL, 's'},
    {"split", required_argument, NULL, 'S'},
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

static int parse_args(int argc, char **argv, struct dataset_args *a)
{
    optind = 0;
    for (int c; (c = getopt_long(argc, argv, "c:f:", long_options, NULL)) != -1;) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'B':
            a->db = optarg;
            break;
        case 'f':
            a->from = optarg;
            break;
        case 'S':
            a->split = optarg;
            break;
        case 'j':
            a->json = true;
            break;
        case 's':
            for (const char *p = optarg; *p;) {
                size_t n = strcspn(p, ",");
                if (n > 0) {
                    hret_strlist_push(&a->subsets, hret_xstrndup(p, n));
                }
                p += n + (p[n] == ',');
            }
            break;
        default:
            return HRET_EXIT_USAGE;
        }
    }
    return HRET_EXIT_OK;
}

static int report(const char *name, const char *version, bool created, size_t n, const char *source)
{
    if (created) {
        printf("imported %s version %.12s: %zu items from %s\n", name, version, n, source);
    } else {
        printf("%s version %.12s (%zu items) is already imported: nothing to do\n", name, version,
               n);
    }
    return HRET_EXIT_OK;
}

static int import_dir(struct hret_store *s, const char *name, const struct dataset_args *a)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_dataset_spec spec = {
        .name = name, .data_dir = a->from, .subsets = &a->subsets, .split = a->split};
    struct hret_dataset *ds = NULL;
    if (hret_dataset_load(&spec, &ds, &err) != HRET_OK) {
        return hret_store_cli_fail("hret dataset import", &err);
    }
    struct hret_store_item *items = hret_xcalloc(ds->count ? ds->count : 1, sizeof *items);
    cJSON **options = hret_xcalloc(ds->count ? ds->count : 1, sizeof *options);
    const char *split = a->split ? a->split : "test";
    for (size_t i = 0; i < ds->count; i++) {
        const struct hret_sample *smp = &ds->samples[i];
        options[i] = cJSON_CreateStringArray((const char *const *)smp->options.items,
                                             (int)smp->options.count);
        items[i] = (struct hret_store_item){smp->id,        smp->subset, split,        smp->input,
                                            smp->reference, options[i],  smp->metadata};
    }
    char *source = realpath(a->from, NULL); /* where it came from, from anywhere */
    struct hret_store_dataset_info info = {name, "samples", source ? source : a->from, &a->subsets,
                                           split};
    char version[65];
    bool created = false;
    int status =
        hret_store_dataset_import(s, &info, items, ds->count, version, &created, &err) == HRET_OK
            ? report(name, version, created, ds->count, info.source)
            : hret_store_cli_fail("hret dataset import", &err);
    free(source);
    for (size_t i = 0; i < ds->count; i++) {
        cJSON_Delete(options[i]);
    }
    free(options);
    free(items);
    hret_dataset_destroy(ds);
    return status;
}

static int import_url(struct hret_store *s, const char *name, const struct dataset_args *a)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_store_hf_request req = {a->from, &a->subsets, a->split};
    struct hret_store_hf_rows rows;
    if (hret_store_hf_fetch(&req, &rows, &err) != HRET_OK) {
        hret_store_hf_rows_fini(&rows);
        return hret_store_cli_fail("hret dataset import", &err);
    }
    size_t n = (size_t)cJSON_GetArraySize(rows.rows), i = 0;
    struct hret_store_item *items = hret_xcalloc(n ? n : 1, sizeof *items);
    char **ids = hret_xcalloc(n ? n : 1, sizeof *ids);
    for (const cJSON *it = rows.rows->child; it != NULL; it = it->next, i++) {
        const char *config = cJSON_GetObjectItemCaseSensitive(it, "config")->valuestring;
        double idx = cJSON_GetObjectItemCaseSensitive(it, "row_idx")->valuedouble;
        ids[i] = hret_xasprintf("%s/%s/%.0f", config, rows.split, idx);
        items[i] = (struct hret_store_item){.item_id = ids[i],
                                            .subset = config,
                                            .split = rows.split,
                                            .data = cJSON_GetObjectItemCaseSensitive(it, "row")};
    }
    struct hret_store_dataset_info info = {name, "rows", a->from, &rows.configs, rows.split};
    char version[65];
    bool created = false;
    int status = hret_store_dataset_import(s, &info, items, n, version, &created, &err) == HRET_OK
                     ? report(name, version, created, n, a->from)
                     : hret_store_cli_fail("hret dataset import", &err);
    for (i = 0; i < n; i++) {
        free(ids[i]);
    }
    free(ids);
    free(items);
    hret_store_hf_rows_fini(&rows);
    return status;
}

static int list(struct hret_store *s, const char *name, bool json)
{
    struct hret_store_dataset_row *rows = NULL;
    size_t n = 0;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_datasets_list(s, name, &rows, &n, &err) != HRET_OK) {
        return hret_store_cli_fail("hret dataset list", &err);
    }
    cJSON *arr = cJSON_CreateArray();
    if (!json) {
        printf("%-16s  %-12s  %-7s  %8s  %-7s  %-20s  %s\n", "NAME", "VERSION", "KIND", "ITEMS",
               "SPLIT", "IMPORTED", "SOURCE");
    }
    for (size_t i = 0; i < n; i++) {
        const struct hret_store_dataset_row *r = &rows[i];
        if (!json) {
            printf("%-16s  %-12.12s  %-7s  %8lld  %-7s  %-20s  %s\n", r->name, r->version, r->kind,
                   r->items, r->split ? r->split : "-", r->created_at, r->source);
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->name);
        cJSON_AddStringToObject(o, "version", r->version);
        cJSON_AddStringToObject(o, "kind", r->kind);
        cJSON_AddNumberToObject(o, "items", (double)r->items);
        cJSON_AddItemToObject(o, "split",
                              r->split ? cJSON_CreateString(r->split) : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "subsets",
                              r->subsets ? cJSON_Duplicate(r->subsets, true) : cJSON_CreateArray());
        cJSON_AddStringToObject(o, "source", r->source);
        cJSON_AddStringToObject(o, "imported_at", r->created_at);
        cJSON_AddItemToArray(arr, o);
    }
    if (json) {
        char *text = hret_json_print(arr);
        puts(text);
        free(text);
    }
    cJSON_Delete(arr);
    hret_store_dataset_rows_free(rows, n);
    return HRET_EXIT_OK;
}

int hret_cmd_dataset(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    bool import = strcmp(sub, "import") == 0;
    if (!import && strcmp(sub, "list") != 0) {
        fprintf(stderr, "hret dataset: expected import or list (see hret help dataset)\n");
        return HRET_EXIT_USAGE;
    }
    struct dataset_args a = {0};
    int status = parse_args(argc - 1, argv + 1, &a);
    int rest = argc - 1 - optind;
    const char *name = rest == 1 ? argv[1 + optind] : NULL;
    if (status == HRET_EXIT_OK && (import ? rest != 1 || a.from == NULL : rest > 1)) {
        fprintf(stderr, "hret dataset %s: %s\n", sub,
                import ? "expected NAME --from DIR|URL" : "expected at most one NAME");
        status = HRET_EXIT_USAGE;
    }
    struct hret_store_cli cli = {0};
    if (status == HRET_EXIT_OK) {
        status = hret_store_cli_open(&cli, "hret dataset", a.config, a.db, import);
    }
    if (status == HRET_EXIT_OK) {
        bool url =
            import && (strncmp(a.from, "http://", 7) == 0 || strncmp(a.from, "https://", 8) == 0);
        status = !import ? list(cli.store, name, a.json)
                 : url   ? import_url(cli.store, name, &a)
                         : import_dir(cli.store, name, &a);
    }
    hret_store_cli_close(&cli);
    hret_strlist_fini(&a.subsets);
    return status;
}
