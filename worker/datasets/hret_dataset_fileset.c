/* Data files in memory (see hret_dataset_fileset.h). */
#include "hret_dataset_fileset.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hret_mem.h"

#define SCAN_MAX_DEPTH 8
#define SCAN_MAX_FILES 100000

void hret_dataset_fileset_add(struct hret_dataset_fileset *set, const char *path,
                              struct hret_table *t)
{
    if (set->count == set->alloc) {
        set->alloc = set->alloc ? set->alloc * 2 : 16;
        set->items = hret_xrealloc(set->items, set->alloc * sizeof *set->items);
        set->paths = hret_xrealloc(set->paths, set->alloc * sizeof *set->paths);
        set->tables = hret_xrealloc(set->tables, set->alloc * sizeof *set->tables);
    }
    set->paths[set->count] = hret_xstrdup(path);
    set->tables[set->count] = t;
    set->bytes += hret_table_bytes(t);
    set->count++;
    for (size_t i = 0; i < set->count; i++) { /* the arrays may have moved */
        set->items[i] = (struct hret_dataset_file){set->paths[i], set->tables[i]};
    }
    set->view = (struct hret_dataset_files){set->items, set->count};
}

void hret_dataset_fileset_fini(struct hret_dataset_fileset *set)
{
    for (size_t i = 0; i < set->count; i++) {
        free(set->paths[i]);
        hret_table_destroy(set->tables[i]);
    }
    free(set->items);
    free(set->paths);
    free(set->tables);
    memset(set, 0, sizeof *set);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Relative paths of the data files under dir/rel, appended to out. */
static void walk(const char *dir, const char *rel, int depth, struct hret_strlist *out)
{
    char *here = rel ? hret_xasprintf("%s/%s", dir, rel) : hret_xstrdup(dir);
    DIR *d = depth <= SCAN_MAX_DEPTH ? opendir(here) : NULL;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL && out->count < SCAN_MAX_FILES) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char *sub = rel ? hret_xasprintf("%s/%s", rel, e->d_name) : hret_xstrdup(e->d_name);
        char *full = hret_xasprintf("%s/%s", dir, sub);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            walk(dir, sub, depth + 1, out);
            free(sub);
        } else if (lstat(full, &st) == 0 && S_ISREG(st.st_mode) &&
                   hret_table_format_of(sub) != HRET_TABLE_AUTO) {
            hret_strlist_push(out, sub);
        } else {
            free(sub);
        }
        free(full);
    }
    if (d != NULL) {
        closedir(d);
    }
    free(here);
}

enum hret_result hret_dataset_fileset_scan(struct hret_dataset_fileset *set, const char *dir,
                                           struct hret_err *err)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return hret_err_set(err, HRET_E_INVAL, "%s: not a directory", dir);
    }
    struct hret_strlist rels = {0};
    walk(dir, NULL, 0, &rels);
    if (rels.count > 0) {
        qsort(rels.items, rels.count, sizeof *rels.items, cmp_str);
    }
    enum hret_result r = rels.count > 0 ? HRET_OK
                                        : hret_err_set(err, HRET_E_INVAL,
                                                       "%s: no data file (.csv .tsv .json .jsonl "
                                                       ".parquet) under it",
                                                       dir);
    for (size_t i = 0; i < rels.count && r == HRET_OK; i++) {
        char *full = hret_xasprintf("%s/%s", dir, rels.items[i]);
        struct hret_table *t = NULL;
        r = hret_table_read(full, HRET_TABLE_AUTO, &t, err);
        if (r == HRET_OK) {
            hret_dataset_fileset_add(set, rels.items[i], t);
        }
        free(full);
    }
    hret_strlist_fini(&rels);
    return r;
}
