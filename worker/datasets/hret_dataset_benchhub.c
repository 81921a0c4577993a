/* BenchHub (BenchHub/BenchHub-Ko, BenchHub/BenchHub-En), HRET's datasets/benchhub.py at PR #171
 * (reference/hret.md §2.6). No subsets: the sample's subset is its benchmark_name.
 *
 * Layouts accepted under data_dir (a download of the Ko or En repository), per split, first
 * match wins: <split>.csv, data/<split>.csv, data/<split>-*.csv, <split>-*.csv,
 * default/<split>.csv, default/<split>-*.csv, and the same with .tsv, .jsonl, .json or .parquet.
 * The hub has a train split only: ask for split "train" (HRET's runner asks for "test").
 *
 * params: language ("ko" default, or "en": recorded in metadata); problem_types, task_types,
 * target_types, subject_types, benchmark_names (a string or a list: a row passes when, for every
 * filter given, some filter string is a case-insensitive substring of the field, or of any
 * element of a list field); sample_size and seed (HRET's own sampling, applied after filtering,
 * before few-shot; seed defaults to the spec's); chunk_size (accepted for compatibility, unused).
 *
 * Rendering: query = context + "\n" + prompt, or prompt alone when context is empty. Without a
 * template the input is the query. A template may use {query}, {options_str} ("1. a\n2. b", only
 * when the row has options) and any column (list columns joined with " | "); a placeholder the
 * row lacks falls back to the query, as HRET's KeyError handler does. reference = the first
 * non-empty of answer_str, answer, reference; options = the options list (a JSON array, or a
 * string split on '|'). Filters lower-case ASCII only (Python lower-cases all of Unicode). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hret_dataset_loader.h"
#include "hret_dataset_spool.h"
#include "hret_json.h"
#include "hret_mem.h"

#define MAX_FILTERS 64

static const char *const stems[] = {"{split}",   "data/{split}",    "data/{split}-*",
                                    "{split}-*", "default/{split}", "default/{split}-*",
                                    NULL};
static const char *const columns[] = {"prompt", NULL};
static const char *const params[] = {
    "language",        "problem_types", "task_types", "target_types", "subject_types",
    "benchmark_names", "sample_size",   "seed",       "chunk_size",   NULL};
static const char *const filter_keys[][2] = {{"problem_types", "problem_type"},
                                             {"task_types", "task_type"},
                                             {"target_types", "target_type"},
                                             {"subject_types", "subject_type"},
                                             {"benchmark_names", "benchmark_name"}};
#define NFILTERS (sizeof filter_keys / sizeof filter_keys[0])

static char *lower_dup(const char *s)
{
    char *d = hret_xstrdup(s ? s : "");
    for (char *p = d; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return d;
}

/* HRET's _contains_any_filter on one field. */
static bool field_matches(const char *value, const char **filters, size_t nfilters)
{
    struct hret_strlist elems = {0};
    if (value != NULL && value[0] == '[') {
        hret_ds_split_list(value, &elems);
    }
    bool hit = false;
    size_t n = elems.count ? elems.count : 1;
    for (size_t e = 0; e < n && !hit; e++) {
        char *hay = lower_dup(elems.count ? elems.items[e] : value);
        for (size_t f = 0; f < nfilters && !hit; f++) {
            char *needle = lower_dup(filters[f]);
            hit = strstr(hay, needle) != NULL;
            free(needle);
        }
        free(hay);
    }
    hret_strlist_fini(&elems);
    return hit;
}

static enum hret_result row_passes(const struct hret_ds_load *ld, const struct hret_ds_row *row,
                                   bool *pass, struct hret_err *err)
{
    *pass = true;
    for (size_t i = 0; i < NFILTERS && *pass; i++) {
        const char *filters[MAX_FILTERS];
        size_t n;
        enum hret_result r =
            hret_ds_param_list(ld, filter_keys[i][0], filters, MAX_FILTERS, &n, err);
        if (r != HRET_OK) {
            return r;
        }
        *pass = n == 0 || field_matches(hret_ds_opt(row, filter_keys[i][1]), filters, n);
    }
    return HRET_OK;
}

/* HRET's _fix_value_to_str: lists joined with " | ", null as "". Caller owns result. */
static char *value_str(const char *v)
{
    struct hret_strlist elems = {0};
    if (v != NULL && v[0] == '[') {
        hret_ds_split_list(v, &elems);
    }
    if (elems.count == 0) {
        return hret_xstrdup(v ? v : "");
    }
    struct hret_buf b;
    hret_buf_init(&b, (size_t)1 << 30);
    for (size_t i = 0; i < elems.count; i++) {
        (void)hret_buf_appendf(&b, NULL, "%s%s", i ? " | " : "", elems.items[i]);
    }
    hret_strlist_fini(&elems);
    return hret_buf_take(&b);
}

static char *options_str(const struct hret_strlist *options)
{
    struct hret_buf b;
    hret_buf_init(&b, (size_t)1 << 30);
    for (size_t i = 0; i < options->count; i++) {
        (void)hret_buf_appendf(&b, NULL, "%s%zu. %s", i ? "\n" : "", i + 1, options->items[i]);
    }
    return hret_buf_take(&b);
}

/* The template filled from every column plus query and options_str; the query when a
 * placeholder is missing. Caller owns *out. */
static enum hret_result render(struct hret_ds_load *ld, const struct hret_ds_row *row,
                               const char *query, const struct hret_strlist *options, char **out,
                               struct hret_err *err)
{
    size_t ncols = hret_table_cols(row->table);
    struct hret_prompt_var *vars = hret_xcalloc(ncols + 2, sizeof *vars);
    char **values = hret_xcalloc(ncols + 1, sizeof *values);
    char *opts = options->count ? options_str(options) : NULL;
    size_t n = 0;
    vars[n++] = (struct hret_prompt_var){"query", query};
    if (opts != NULL) {
        vars[n++] = (struct hret_prompt_var){"options_str", opts};
    }
    for (size_t c = 0; c < ncols; c++) {
        values[c] = value_str(hret_table_cell(row->table, row->row, c));
        vars[n++] = (struct hret_prompt_var){hret_table_col_name(row->table, c), values[c]};
    }
    struct hret_err local = HRET_ERR_INIT;
    bool missing = false;
    hret_buf_reset(&ld->buf);
    enum hret_result r = hret_prompt_format(&ld->buf, ld->tmpl, vars, n, &missing, &local);
    if (r == HRET_OK) {
        *out = hret_xstrndup(ld->buf.data, ld->buf.len);
    } else if (missing) {
        *out = hret_xstrdup(query);
        r = HRET_OK;
    } else {
        r = hret_err_set(err, r, "%s:%lu: %s", hret_table_name(row->table),
                         hret_table_line(row->table, row->row), local.msg);
    }
    for (size_t c = 0; c < ncols; c++) {
        free(values[c]);
    }
    free(values);
    free(opts);
    free(vars);
    return r;
}

static const char *first_nonempty(const struct hret_ds_row *row)
{
    static const char *const cols[] = {"answer_str", "answer", "reference"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = hret_ds_opt(row, cols[i]);
        if (v != NULL && v[0] != '\0') {
            return v;
        }
    }
    return "";
}

static cJSON *metadata_of(const struct hret_ds_row *row, const char *language)
{
    static const char *const scalar[][2] = {
        {"problem_type", "problem_type"},
        {"task_type", "task_type"},
        {"target_type", "target_type"},
        {"benchmark_name", "benchmark_name"},
        {"mcqa_meta", "mcqa_meta"},
        {"original_category", "original_category"},
        {"additional_info", "additional_info"},
        {"original_split", "split"},
    };
    cJSON *meta = hret_ds_object();
    for (size_t i = 0; i < sizeof scalar / sizeof scalar[0]; i++) {
        char *v = value_str(hret_ds_opt(row, scalar[i][1]));
        hret_ds_meta_set(meta, scalar[i][0], v);
        free(v);
        if (i == 2) { /* subject_type stays a list, after target_type as in HRET */
            struct hret_strlist subj = {0};
            hret_ds_split_list(hret_ds_opt(row, "subject_type"), &subj);
            cJSON *arr = cJSON_CreateArray();
            for (size_t j = 0; arr != NULL && j < subj.count; j++) {
                cJSON *item = cJSON_CreateString(subj.items[j]);
                if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
                    abort();
                }
            }
            if (arr == NULL || !cJSON_AddItemToObject(meta, "subject_type", arr)) {
                abort();
            }
            hret_strlist_fini(&subj);
        }
    }
    hret_ds_meta_set(meta, "language", language);
    char *ref = value_str(hret_ds_opt(row, "reference"));
    hret_ds_meta_set(meta, "original_benchhub_reference", ref);
    free(ref);
    return meta;
}

static enum hret_result benchhub_row(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                     struct hret_err *err)
{
    bool pass;
    enum hret_result r = row_passes(ld, row, &pass, err);
    if (r != HRET_OK || !pass) {
        return r;
    }
    struct hret_sample s = {0};
    char *context = value_str(hret_ds_opt(row, "context"));
    char *prompt = value_str(hret_ds_opt(row, "prompt"));
    char *query = context[0] ? hret_xasprintf("%s\n%s", context, prompt) : hret_xstrdup(prompt);
    free(context);
    free(prompt);
    hret_ds_split_list(hret_ds_opt(row, "options"), &s.options);
    if (ld->tmpl != NULL) {
        r = render(ld, row, query, &s.options, &s.input, err);
        free(query);
    } else {
        s.input = query;
    }
    if (r != HRET_OK) {
        hret_sample_fini(&s);
        return r;
    }
    s.reference = value_str(first_nonempty(row));
    const char *language = "ko";
    (void)hret_ds_param_str(ld, "language", &language, NULL);
    s.metadata = metadata_of(row, strcasecmp(language, "en") == 0 ? "en" : "ko");
    const char *bench = hret_ds_opt(row, "benchmark_name");
    s.subset = value_str(bench && bench[0] ? bench : "benchhub_default_subset");
    hret_ds_push(ld, row, &s);
    return HRET_OK;
}

static enum hret_result check_params(const struct hret_ds_load *ld, long long *sample_size,
                                     long long *seed, struct hret_err *err)
{
    const char *language = "ko";
    enum hret_result r = hret_ds_param_str(ld, "language", &language, err);
    if (r == HRET_OK && strcasecmp(language, "ko") != 0 && strcasecmp(language, "en") != 0) {
        r = hret_err_set(err, HRET_E_CONFIG, "benchhub: params.language must be 'ko' or 'en'");
    }
    const cJSON *p = ld->spec->params;
    *sample_size = 0;
    *seed = (long long)ld->spec->seed;
    if (r == HRET_OK && p != NULL) {
        r = hret_json_get_int(p, "sample_size", false, sample_size, err);
    }
    if (r == HRET_OK && p != NULL) {
        r = hret_json_get_int(p, "seed", false, seed, err);
    }
    if (r == HRET_OK && *sample_size < 0) {
        r = hret_err_set(err, HRET_E_CONFIG, "benchhub: params.sample_size must be >= 0");
    }
    return r;
}

static enum hret_result benchhub_load(struct hret_ds_load *ld, const char *subset,
                                      struct hret_err *err)
{
    long long sample_size, seed;
    size_t first = hret_ds_spool_count(ld->spool);
    enum hret_result r = check_params(ld, &sample_size, &seed, err);
    if (r == HRET_OK) {
        r = hret_ds_read_rows(ld, subset, NULL, stems, columns, benchhub_row, err);
    }
    size_t n = hret_ds_spool_count(ld->spool) - first;
    if (r == HRET_OK && sample_size > 0 && (unsigned long long)sample_size < n) {
        size_t *perm = hret_xmalloc(n * sizeof *perm);
        hret_ds_draw(perm, n, (size_t)sample_size, (uint64_t)seed);
        hret_ds_spool_keep(ld->spool, first, perm, (size_t)sample_size);
        free(perm);
    }
    return r;
}

const struct hret_dataset_loader hret_ds_benchhub = {
    .name = "benchhub",
    .hf_repo = "BenchHub/BenchHub-Ko",
    .subsets = NULL,
    .params = params,
    .placeholders = NULL,
    .default_template = NULL,
    .load = benchhub_load,
};
