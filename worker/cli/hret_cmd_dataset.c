/* hret dataset import|list|show|rm: dataset versions in PostgreSQL, the fleet's source of data.
 * import keeps the data files of a download directory (any format the loaders read) or the
 * rows API's pages as they are (hret_store_dsfiles.h); workers rebuild the tables from them. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_cli.h"
#include "hret_dataset_fileset.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_store_cli.h"
#include "hret_store_dataset.h"
#include "hret_store_dsfiles.h"
#include "hret_store_hf.h"

struct dataset_args {
    const char *config, *db, *from, *split, *version;
    struct hret_strlist subsets;
    bool json, all;
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"db", required_argument, NULL, 'B'},
    {"from", required_argument, NULL, 'f'},
    {"subset", required_argument, NULL, 's'},
    {"split", required_argument, NULL, 'S'},
    {"version", required_argument, NULL, 'V'},
    {"all", no_argument, NULL, 'a'},
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
        case 'V':
            a->version = optarg;
            break;
        case 'a':
            a->all = true;
            break;
        case 'j':
            a->json = true;
            break;
        case 's':
            hret_strlist_split(&a->subsets, optarg);
            break;
        default:
            return HRET_EXIT_USAGE;
        }
    }
    return HRET_EXIT_OK;
}

static size_t total_rows(const struct hret_dataset_fileset *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++) {
        n += hret_table_rows(set->tables[i]);
    }
    return n;
}

/* Stores set as a version of name and says what happened. */
static int store(struct hret_store *s, const char *name, const char *source,
                 const struct hret_strlist *subsets, const char *split,
                 const struct hret_dataset_fileset *set)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_store_dsfiles_info info = {name, source, subsets, split};
    char version[65];
    bool created = false;
    if (hret_store_dsfiles_import(s, &info, &set->view, version, &created, &err) != HRET_OK) {
        return hret_store_cli_fail("hret dataset import", &err);
    }
    size_t rows = total_rows(set);
    if (created) {
        printf("imported %s version %.12s: %zu rows in %zu files from %s\n", name, version, rows,
               set->count, source);
    } else {
        printf("%s version %.12s (%zu rows) is already imported: nothing to do\n", name, version,
               rows);
    }
    return HRET_EXIT_OK;
}

static int import_dir(struct hret_store *s, const char *name, const struct dataset_args *a)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_dataset_fileset set = {0};
    int status = HRET_EXIT_OK;
    if (hret_dataset_fileset_scan(&set, a->from, &err) != HRET_OK) {
        status = hret_store_cli_fail("hret dataset import", &err);
    } else {
        char *source = realpath(a->from, NULL); /* where it came from, from anywhere */
        status = store(s, name, source ? source : a->from, NULL, NULL, &set);
        free(source);
    }
    hret_dataset_fileset_fini(&set);
    return status;
}

/* One column per key in order of first appearance, as the JSON reader makes them. */
static size_t column_of(struct hret_strlist *cols, const char *key)
{
    for (size_t i = 0; i < cols->count; i++) {
        if (strcmp(cols->items[i], key) == 0) {
            return i;
        }
    }
    hret_strlist_push(cols, hret_xstrdup(key));
    return cols->count - 1;
}

/* The rows of one (config, split): n items from first on (a linked run of the rows array), as
 * the table <config>/<split>.jsonl. */
static enum hret_result rows_table(const cJSON *first, size_t n, const char *path,
                                   struct hret_table **out, struct hret_err *err)
{
    struct hret_strlist cols = {0};
    const cJSON *it = first;
    for (size_t i = 0; i < n; i++, it = it->next) {
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(it, "row"))
        {
            column_of(&cols, v->string);
        }
    }
    struct hret_table_builder *b = hret_table_builder_new(path);
    enum hret_result r =
        hret_table_builder_begin(b, (const char *const *)cols.items, cols.count, n, err);
    it = first;
    for (size_t i = 0; i < n && r == HRET_OK; i++, it = it->next) {
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(it, "row"))
        {
            if (r != HRET_OK || cJSON_IsNull(v)) {
                continue;
            }
            char *text = cJSON_IsString(v) ? hret_xstrdup(v->valuestring) : hret_json_print(v);
            r = hret_table_builder_cell(b, i, column_of(&cols, v->string), text, strlen(text), err);
            free(text);
        }
    }
    hret_strlist_fini(&cols);
    if (r != HRET_OK) {
        hret_table_builder_destroy(b);
        return r;
    }
    *out = hret_table_builder_finish(b);
    return HRET_OK;
}

static bool same_pair(const cJSON *a, const cJSON *b)
{
    return strcmp(cJSON_GetObjectItem(a, "config")->valuestring,
                  cJSON_GetObjectItem(b, "config")->valuestring) == 0 &&
           strcmp(cJSON_GetObjectItem(a, "split")->valuestring,
                  cJSON_GetObjectItem(b, "split")->valuestring) == 0;
}

/* hub:OWNER/NAME -> {datasets.hub_rows_url}/rows?dataset=OWNER/NAME (caller owns). */
static char *rows_api_url(const struct hret_config *cfg, const char *from)
{
    if (strncmp(from, "hub:", 4) == 0) {
        return hret_xasprintf("%s/rows?dataset=%s", cfg->datasets.hub_rows_url, from + 4);
    }
    return hret_xstrdup(from);
}

static int import_url(struct hret_store *s, const struct hret_config *cfg, const char *name,
                      const struct dataset_args *a)
{
    struct hret_err err = HRET_ERR_INIT;
    char *url = rows_api_url(cfg, a->from);
    struct hret_store_dsfiles_pages kept = {s, url}; /* resumes an earlier attempt */
    struct hret_store_hf_pages hooks;
    hret_store_dsfiles_page_hooks(&kept, &hooks);
    struct hret_store_hf_request req = {url, &a->subsets, a->split, &hooks};
    struct hret_store_hf_rows rows;
    struct hret_dataset_fileset set = {0};
    enum hret_result r = hret_store_hf_fetch(&req, &rows, &err);
    const cJSON *first = r == HRET_OK ? rows.rows->child : NULL;
    while (first != NULL && r == HRET_OK) { /* rows come grouped by (config, split) */
        size_t n = 1;
        const cJSON *end = first->next;
        for (; end != NULL && same_pair(first, end); end = end->next) {
            n++;
        }
        char *path =
            hret_xasprintf("%s/%s.jsonl", cJSON_GetObjectItem(first, "config")->valuestring,
                           cJSON_GetObjectItem(first, "split")->valuestring);
        struct hret_table *t = NULL;
        r = rows_table(first, n, path, &t, &err);
        if (r == HRET_OK) {
            hret_dataset_fileset_add(&set, path, t);
        }
        free(path);
        first = end;
    }
    if (r == HRET_OK && rows.resumed > 0) {
        printf("resumed with %zu pages kept from an earlier attempt\n", rows.resumed);
    }
    int status = r == HRET_OK ? store(s, name, url, &rows.configs, rows.split, &set)
                              : hret_store_cli_fail("hret dataset import", &err);
    if (status == HRET_EXIT_OK && hret_store_dsfiles_pages_done(s, url, &err) != HRET_OK) {
        fprintf(stderr, "hret dataset import: kept pages not forgotten: %s\n", err.msg);
    }
    hret_dataset_fileset_fini(&set);
    hret_store_hf_rows_fini(&rows);
    free(url);
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

static int show(struct hret_store *s, const char *name, const struct dataset_args *a)
{
    struct hret_err err = HRET_ERR_INIT;
    cJSON *files = NULL;
    char version[65];
    if (hret_store_dsfiles_manifest(s, name, a->version, &files, version, &err) != HRET_OK) {
        return hret_store_cli_fail("hret dataset show", &err);
    }
    if (version[0] == '\0') {
        fprintf(stderr, "hret dataset show: no version of %s%s%s is imported\n", name,
                a->version ? " matches " : "", a->version ? a->version : "");
        return HRET_EXIT_FAILURE;
    }
    if (a->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "version", version);
        cJSON_AddItemToObject(o, "files", files ? files : cJSON_CreateArray());
        char *text = hret_json_print(o);
        puts(text);
        free(text);
        cJSON_Delete(o);
        return HRET_EXIT_OK;
    }
    printf("%s version %s\n", name, version);
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        char *cols = hret_json_print(cJSON_GetObjectItem(f, "columns"));
        printf("  %-48s %8.0f rows  %s\n", cJSON_GetObjectItem(f, "path")->valuestring,
               cJSON_GetObjectItem(f, "rows")->valuedouble, cols);
        free(cols);
    }
    if (files == NULL) {
        printf("  (an older import of rendered samples or rows: not readable by runs)\n");
    }
    cJSON_Delete(files);
    return HRET_EXIT_OK;
}

static int rm(struct hret_store *s, const char *name, const struct dataset_args *a)
{
    struct hret_err err = HRET_ERR_INIT;
    size_t removed = 0;
    if (hret_store_dsfiles_rm(s, name, a->version, &removed, &err) != HRET_OK) {
        return hret_store_cli_fail("hret dataset rm", &err);
    }
    if (removed == 0) {
        fprintf(stderr, "hret dataset rm: no version of %s%s%s is imported\n", name,
                a->version ? " matches " : "", a->version ? a->version : "");
        return HRET_EXIT_FAILURE;
    }
    printf("removed %zu version%s of %s\n", removed, removed == 1 ? "" : "s", name);
    return HRET_EXIT_OK;
}

static int usage_error(const char *sub, const struct dataset_args *a, int rest)
{
    const char *msg = NULL;
    if (strcmp(sub, "import") == 0 && (rest != 1 || a->from == NULL)) {
        msg = "expected NAME --from DIR|URL|hub:OWNER/NAME";
    } else if (strcmp(sub, "list") == 0 && rest > 1) {
        msg = "expected at most one NAME";
    } else if (strcmp(sub, "show") == 0 && rest != 1) {
        msg = "expected NAME [--version V]";
    } else if (strcmp(sub, "rm") == 0 && (rest != 1 || (a->version == NULL) == !a->all)) {
        msg = "expected NAME and either --version V or --all";
    }
    if (msg != NULL) {
        fprintf(stderr, "hret dataset %s: %s\n", sub, msg);
        return HRET_EXIT_USAGE;
    }
    return HRET_EXIT_OK;
}

int hret_cmd_dataset(int argc, char **argv)
{
    static const char *const subs[] = {"import", "list", "show", "rm", NULL};
    const char *sub = argc > 1 ? argv[1] : "";
    bool known = false;
    for (size_t i = 0; subs[i] != NULL; i++) {
        known = known || strcmp(sub, subs[i]) == 0;
    }
    if (!known) {
        fprintf(stderr, "hret dataset: expected import, list, show or rm (see hret help "
                        "dataset)\n");
        return HRET_EXIT_USAGE;
    }
    bool import = strcmp(sub, "import") == 0;
    struct dataset_args a = {0};
    int status = parse_args(argc - 1, argv + 1, &a);
    int rest = argc - 1 - optind;
    const char *name = rest == 1 ? argv[1 + optind] : NULL;
    if (status == HRET_EXIT_OK) {
        status = usage_error(sub, &a, rest);
    }
    struct hret_store_cli cli = {0};
    if (status == HRET_EXIT_OK) {
        status = hret_store_cli_open(&cli, "hret dataset", a.config, a.db, import);
    }
    if (status == HRET_EXIT_OK) {
        bool url =
            import && (strncmp(a.from, "http://", 7) == 0 || strncmp(a.from, "https://", 8) == 0 ||
                       strncmp(a.from, "hub:", 4) == 0);
        status = strcmp(sub, "list") == 0   ? list(cli.store, name, a.json)
                 : strcmp(sub, "show") == 0 ? show(cli.store, name, &a)
                 : strcmp(sub, "rm") == 0   ? rm(cli.store, name, &a)
                 : url                      ? import_url(cli.store, &cli.cfg, name, &a)
                                            : import_dir(cli.store, name, &a);
    }
    hret_store_cli_close(&cli);
    hret_strlist_fini(&a.subsets);
    return status;
}
