/* Helpers shared by the dataset loaders: finding a subset's files in a Hugging Face download,
 * walking their rows, rendering and collecting samples. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hret_dataset_loader.h"
#include "hret_dataset_path.h"
#include "hret_dataset_spool.h"
#include "hret_json.h"
#include "hret_mem.h"

static const char *const data_exts[] = {"csv", "tsv", "jsonl", "json", "parquet", NULL};

/* ---- finding files ----------------------------------------------------------------------- */

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The in-memory file at path (data_dir + "/" + relative path), NULL if none. */
static const struct hret_table *mem_file(const struct hret_dataset_spec *spec, const char *path)
{
    size_t n = strlen(spec->data_dir);
    if (spec->files == NULL || strncmp(path, spec->data_dir, n) != 0 || path[n] != '/') {
        return NULL;
    }
    for (size_t i = 0; i < spec->files->count; i++) {
        if (strcmp(spec->files->items[i].path, path + n + 1) == 0) {
            return spec->files->items[i].table;
        }
    }
    return NULL;
}

static bool has_file(const struct hret_dataset_spec *spec, const char *path)
{
    return spec->files != NULL ? mem_file(spec, path) != NULL : is_file(path);
}

/* pattern with {subset} {lower} {split} {key} substituted; caller owns result. */
static char *expand(const char *pattern, const char *subset, const char *split, const char *key)
{
    struct hret_buf b;
    hret_buf_init(&b, 4096);
    for (const char *p = pattern; *p != '\0';) {
        const char *val = NULL;
        size_t skip = 0;
        bool lower = false;
        if (strncmp(p, "{subset}", 8) == 0) {
            val = subset, skip = 8;
        } else if (strncmp(p, "{lower}", 7) == 0) {
            val = subset, skip = 7, lower = true;
        } else if (strncmp(p, "{split}", 7) == 0) {
            val = split, skip = 7;
        } else if (strncmp(p, "{key}", 5) == 0) {
            val = key, skip = 5;
        }
        if (skip == 0) {
            (void)hret_buf_append(&b, p++, 1, NULL);
            continue;
        }
        for (const char *v = val ? val : ""; *v != '\0'; v++) {
            char c = lower ? (char)tolower((unsigned char)*v) : *v;
            (void)hret_buf_append(&b, &c, 1, NULL);
        }
        p += skip;
    }
    return hret_buf_take(&b);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e + 1 && name[n - e - 1] == '.' && strcmp(name + n - e, ext) == 0;
}

/* In-memory shards: paths "<dirname(stem)>/<basename(stem)>...<.ext>" without a further '/'. */
static void find_mem_shards(const struct hret_dataset_spec *spec, const char *stem, const char *ext,
                            struct hret_strlist *out)
{
    size_t n = strlen(stem);
    const char *slash = strrchr(stem, '/');
    size_t base = slash ? (size_t)(slash - stem) + 1 : 0;
    for (size_t i = 0; i < spec->files->count; i++) {
        const char *p = spec->files->items[i].path;
        if (strncmp(p, stem, n) == 0 && strchr(p + base, '/') == NULL && has_ext(p, ext)) {
            hret_strlist_push(out, hret_xasprintf("%s/%s", spec->data_dir, p));
        }
    }
}

/* Shards: files in dirname(stem) whose name starts with basename(stem) and ends in .ext. */
static void find_shards(const struct hret_dataset_spec *spec, const char *stem, const char *ext,
                        struct hret_strlist *out)
{
    const char *dir = spec->data_dir;
    size_t first = out->count;
    if (spec->files != NULL) {
        find_mem_shards(spec, stem, ext, out);
        if (out->count > first) {
            qsort(out->items + first, out->count - first, sizeof *out->items, cmp_str);
        }
        return;
    }
    const char *slash = strrchr(stem, '/');
    char *sdir =
        slash ? hret_xasprintf("%s/%.*s", dir, (int)(slash - stem), stem) : hret_xstrdup(dir);
    const char *prefix = slash ? slash + 1 : stem;
    DIR *d = opendir(sdir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && has_ext(e->d_name, ext)) {
            char *path = hret_xasprintf("%s/%s", sdir, e->d_name);
            if (is_file(path)) {
                hret_strlist_push(out, path);
            } else {
                free(path);
            }
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    if (out->count > first) {
        qsort(out->items + first, out->count - first, sizeof *out->items, cmp_str);
    }
    free(sdir);
}

/* The files for one expanded stem with one extension. */
static void find_stem(const struct hret_dataset_spec *spec, const char *stem, const char *ext,
                      struct hret_strlist *out)
{
    size_t n = strlen(stem);
    if (n > 0 && stem[n - 1] == '*') {
        char *prefix = hret_xstrndup(stem, n - 1);
        find_shards(spec, prefix, ext, out);
        free(prefix);
        return;
    }
    char *path = hret_xasprintf("%s/%s.%s", spec->data_dir, stem, ext);
    if (has_file(spec, path)) {
        hret_strlist_push(out, path);
    } else {
        free(path);
    }
}

static void describe_stems(char *dst, size_t cap, const char *const *stems, const char *subset,
                           const char *split, const char *key)
{
    size_t used = 0;
    dst[0] = '\0';
    for (; *stems != NULL && used < cap; stems++) {
        char *s = expand(*stems, subset, split, key);
        int n = snprintf(dst + used, cap - used, "%s%s.{csv,tsv,jsonl,json,parquet}",
                         used ? ", " : "", s);
        used += n > 0 ? (size_t)n : 0;
        free(s);
    }
}

static enum hret_result not_found(const struct hret_ds_load *ld, const char *const *stems,
                                  const char *subset, const char *key, struct hret_err *err)
{
    const char *dir = ld->spec->data_dir;
    char looked[320];
    describe_stems(looked, sizeof looked, stems, subset, ld->split, key);
    return hret_err_set(err, HRET_E_INVAL,
                        "%s: no data file for %s%s%ssplit '%s' in %s (layout of %s; looked for %s)",
                        ld->loader->name, subset ? "subset '" : "", subset ? subset : "",
                        subset ? "', " : "", ld->split, dir, ld->loader->hf_repo, looked);
}

static enum hret_result find_files(const struct hret_ds_load *ld, const char *subset,
                                   const char *key, const char *const *stems,
                                   struct hret_strlist *out, struct hret_err *err)
{
    const char *dir = ld->spec->data_dir;
    if (ld->spec->files == NULL && !is_dir(dir)) {
        return hret_err_set(err, HRET_E_INVAL,
                            "%s: data directory '%s' does not exist (expected `huggingface-cli "
                            "download --repo-type dataset %s --local-dir %s`)",
                            ld->loader->name, dir, ld->loader->hf_repo, dir);
    }
    for (const char *const *s = stems; *s != NULL && out->count == 0; s++) {
        char *stem = expand(*s, subset, ld->split, key);
        for (const char *const *e = data_exts; *e != NULL && out->count == 0; e++) {
            find_stem(ld->spec, stem, *e, out);
        }
        free(stem);
    }
    if (out->count == 0) {
        return not_found(ld, stems, subset, key, err);
    }
    for (size_t i = 0; ld->spec->files == NULL && i < out->count; i++) { /* disk files only */
        enum hret_result r = hret_ds_path_check(ld, out->items[i], err);
        if (r != HRET_OK) {
            return r;
        }
    }
    return HRET_OK;
}

enum hret_result hret_ds_path_check(const struct hret_ds_load *ld, const char *path,
                                    struct hret_err *err)
{
    const struct hret_dataset_spec *spec = ld->spec;
    return hret_dataset_path_check(spec->root ? spec->root : spec->data_dir, path,
                                   spec->follow_symlinks, err);
}

bool hret_ds_files_missing(const struct hret_ds_load *ld, const char *subset, const char *key,
                           const char *const *stems)
{
    if (ld->spec->files == NULL && !is_dir(ld->spec->data_dir)) {
        return false;
    }
    struct hret_strlist found = {0};
    bool missing = find_files(ld, subset, key, stems, &found, NULL) != HRET_OK;
    hret_strlist_fini(&found);
    return missing;
}

/* ---- rows -------------------------------------------------------------------------------- */

static enum hret_result resolve_cols(const struct hret_ds_load *ld, const struct hret_table *t,
                                     const char *const *required, size_t *cols,
                                     struct hret_err *err)
{
    for (size_t i = 0; required[i] != NULL; i++) {
        if (!hret_table_find(t, required[i], &cols[i])) {
            char want[200] = "";
            size_t used = 0;
            for (size_t j = 0; required[j] != NULL && used < sizeof want; j++) {
                int n =
                    snprintf(want + used, sizeof want - used, "%s%s", j ? ", " : "", required[j]);
                used += n > 0 ? (size_t)n : 0;
            }
            return hret_err_set(err, HRET_E_INVAL, "%s: missing column '%s' (%s expects %s)",
                                hret_table_name(t), required[i], ld->loader->name, want);
        }
    }
    return HRET_OK;
}

static enum hret_result read_table_rows(struct hret_ds_load *ld, const struct hret_table *t,
                                        const char *subset, const char *const *required,
                                        size_t *rowno, hret_ds_row_fn fn, struct hret_err *err)
{
    size_t ncols = 0;
    while (required[ncols] != NULL) {
        ncols++;
    }
    size_t *cols = hret_xcalloc(ncols + 1, sizeof *cols);
    enum hret_result r = resolve_cols(ld, t, required, cols, err);
    for (size_t i = 0; r == HRET_OK && i < hret_table_rows(t); i++) {
        struct hret_ds_row row = {t, i, (*rowno)++, cols, subset};
        r = fn(ld, &row, err);
    }
    free(cols);
    return r;
}

enum hret_result hret_ds_table_read(struct hret_ds_load *ld, const char *path,
                                    enum hret_table_format fmt, struct hret_table **out,
                                    struct hret_err *err)
{
    enum hret_result r = hret_table_read(path, fmt, out, err);
    unsigned long line = 0, col = 0;
    size_t bad = r == HRET_OK ? hret_table_invalid_utf8(*out, &line, &col) : 0;
    if (bad == 0) {
        return r;
    }
    if (ld->spec->invalid_utf8_replaced != NULL) {
        *ld->spec->invalid_utf8_replaced += bad;
        return HRET_OK;
    }
    hret_table_destroy(*out);
    *out = NULL;
    return hret_err_set(err, HRET_E_INVAL,
                        "%s:%lu:%lu: invalid UTF-8 (%zu byte%s in the file); fix the file, or "
                        "replace them by U+FFFD with --invalid-utf8 replace "
                        "(datasets.invalid_utf8: replace)",
                        path, line, col, bad, bad == 1 ? "" : "s");
}

enum hret_result hret_ds_read_rows(struct hret_ds_load *ld, const char *subset, const char *key,
                                   const char *const *stems, const char *const *required,
                                   hret_ds_row_fn fn, struct hret_err *err)
{
    struct hret_strlist paths = {0};
    enum hret_result r = find_files(ld, subset, key, stems, &paths, err);
    size_t rowno = 0;
    for (size_t f = 0; r == HRET_OK && f < paths.count; f++) {
        const struct hret_table *held = mem_file(ld->spec, paths.items[f]);
        struct hret_table *t = NULL;
        r = held ? HRET_OK : hret_ds_table_read(ld, paths.items[f], HRET_TABLE_AUTO, &t, err);
        if (r == HRET_OK) {
            r = read_table_rows(ld, held ? held : t, subset, required, &rowno, fn, err);
        }
        hret_table_destroy(t);
    }
    hret_strlist_fini(&paths);
    return r;
}

const char *hret_ds_col(const struct hret_ds_row *row, size_t i)
{
    const char *v = hret_table_cell(row->table, row->row, row->cols[i]);
    return v ? v : "";
}

const char *hret_ds_opt(const struct hret_ds_row *row, const char *name)
{
    size_t col;
    return hret_table_find(row->table, name, &col) ? hret_table_cell(row->table, row->row, col)
                                                   : NULL;
}

/* ---- rendering and collecting ------------------------------------------------------------ */

enum hret_result hret_ds_render(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                const struct hret_prompt_var *vars, size_t nvars, char **out,
                                struct hret_err *err)
{
    hret_buf_reset(&ld->buf);
    enum hret_result r = hret_prompt_format(&ld->buf, ld->tmpl, vars, nvars, NULL, err);
    if (r != HRET_OK) {
        hret_err_prefix(err, "%s:%lu", hret_table_name(row->table),
                        hret_table_line(row->table, row->row));
        return r;
    }
    *out = hret_xstrndup(ld->buf.data, ld->buf.len);
    return HRET_OK;
}

void hret_ds_push(struct hret_ds_load *ld, const struct hret_ds_row *row, struct hret_sample *s)
{
    if (s->subset == NULL && row->subset != NULL) {
        s->subset = hret_xstrdup(row->subset);
    }
    if (s->id == NULL) {
        s->id = row->subset ? hret_xasprintf("%s/%s/%zu", row->subset, ld->split, row->rowno)
                            : hret_xasprintf("%s/%zu", ld->split, row->rowno);
    }
    hret_ds_spool_push(ld->spool, s);
    hret_sample_fini(s);
}

/* ---- value helpers ----------------------------------------------------------------------- */

static void split_pipes(const char *value, struct hret_strlist *out)
{
    const char *p = value;
    for (;;) {
        const char *bar = strchr(p, '|');
        char *part = hret_xstrndup(p, bar ? (size_t)(bar - p) : strlen(p));
        char *stripped = hret_prompt_strip_dup(part);
        free(part);
        if (stripped[0] != '\0') {
            hret_strlist_push(out, stripped);
        } else {
            free(stripped);
        }
        if (bar == NULL) {
            break;
        }
        p = bar + 1;
    }
}

void hret_ds_split_list(const char *value, struct hret_strlist *out)
{
    if (value == NULL) {
        return;
    }
    size_t n;
    const char *s = hret_prompt_strip(value, &n);
    cJSON *arr = n > 0 && s[0] == '[' ? cJSON_ParseWithLength(s, n) : NULL;
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        split_pipes(value, out);
        return;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (cJSON_IsString(v)) {
            hret_strlist_push(out, hret_xstrdup(v->valuestring));
        } else if (!cJSON_IsNull(v)) {
            hret_strlist_push(out, hret_json_print(v));
        }
    }
    cJSON_Delete(arr);
}

bool hret_ds_parse_int(const char *s, long long *out)
{
    size_t n;
    const char *p = hret_prompt_strip(s, &n);
    if (n == 0 || n > 40) {
        return false;
    }
    char buf[48];
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (end != buf && *end == '\0' && errno == 0 && isdigit((unsigned char)end[-1])) {
        *out = v;
        return true;
    }
    double d = strtod(buf, &end);
    if (end != buf && *end == '\0' && d > -1e18 && d < 1e18 && d == (double)(long long)d) {
        *out = (long long)d;
        return true;
    }
    return false;
}

cJSON *hret_ds_object(void)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL) {
        abort(); /* out of memory: abort, as our own allocations do */
    }
    return obj;
}

void hret_ds_meta_set(cJSON *obj, const char *key, const char *value)
{
    cJSON *v = value ? cJSON_CreateString(value) : cJSON_CreateNull();
    if (v == NULL || !cJSON_AddItemToObject(obj, key, v)) {
        abort();
    }
}

cJSON *hret_ds_meta_columns(const struct hret_ds_row *row, const char *const *names)
{
    cJSON *meta = hret_ds_object();
    for (; *names != NULL; names++) {
        const char *v = hret_ds_opt(row, *names);
        if (v != NULL) {
            hret_ds_meta_set(meta, *names, v);
        }
    }
    return meta;
}

enum hret_result hret_ds_param_str(const struct hret_ds_load *ld, const char *key, const char **out,
                                   struct hret_err *err)
{
    return ld->spec->params ? hret_json_get_string(ld->spec->params, key, false, out, err)
                            : HRET_OK;
}

enum hret_result hret_ds_param_list(const struct hret_ds_load *ld, const char *key,
                                    const char **items, size_t cap, size_t *count,
                                    struct hret_err *err)
{
    const cJSON *v =
        ld->spec->params ? cJSON_GetObjectItemCaseSensitive(ld->spec->params, key) : NULL;
    *count = 0;
    if (v == NULL || cJSON_IsNull(v)) {
        return HRET_OK;
    }
    if (cJSON_IsString(v)) {
        items[(*count)++] = v->valuestring;
        return HRET_OK;
    }
    const cJSON *e;
    bool ok = cJSON_IsArray(v);
    cJSON_ArrayForEach(e, v)
    {
        ok = ok && cJSON_IsString(e) && *count < cap;
        if (ok) {
            items[(*count)++] = e->valuestring;
        }
    }
    return ok ? HRET_OK
              : hret_err_set(err, HRET_E_CONFIG,
                             "%s: params.%s must be a string or a list of at most %zu strings",
                             ld->loader->name, key, cap);
}
