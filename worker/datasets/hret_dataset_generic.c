/* Generic local file, HRET's generic_file (datasets/dataset_loader.py, reference/hret.md §2.1).
 *
 * data_dir is the file itself: .csv, .tsv, .jsonl, .json (a JSON array of objects) or .parquet,
 * or any name with params.format = "csv" | "tsv" | "jsonl" | "json" | "parquet". Excel is not
 * read: export it to CSV. There are no subsets and the split is only a label.
 *
 * params: input_col (default "input"), reference_col (default "reference"), options_col
 * (optional: a JSON array, or a string split on '|'), id_col (optional: the sample id; default
 * the 0-based row number), format. The input and reference columns must exist.
 *
 * input = the input column, or the template filled with {input} and any column by name (HRET
 * only offers {input}); reference = the reference column; metadata = every other column (not
 * input, reference, options or id) as strings, null for JSON null. Divergences: HRET reads .tsv
 * with a comma (pandas' default) and shows missing values as "nan"; here .tsv uses a tab and a
 * missing value is "" (or null in metadata), and metadata values are text (JSON numbers become
 * their text). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "hret_dataset_loader.h"
#include "hret_mem.h"

static const char *const params[] = {"input_col", "reference_col", "options_col",
                                     "id_col",    "format",        NULL};

struct generic_cols {
    const char *names[4]; /* input, reference, options, id; options and id nullable */
    size_t idx[4];
    bool has[4];
};

static enum hret_result read_params(const struct hret_ds_load *ld, struct generic_cols *gc,
                                    enum hret_table_format *fmt, struct hret_err *err)
{
    static const char *const keys[] = {"input_col", "reference_col", "options_col", "id_col"};
    gc->names[0] = "input";
    gc->names[1] = "reference";
    gc->names[2] = gc->names[3] = NULL;
    enum hret_result r = HRET_OK;
    for (size_t i = 0; r == HRET_OK && i < 4; i++) {
        r = hret_ds_param_str(ld, keys[i], &gc->names[i], err);
    }
    const char *format = NULL;
    if (r == HRET_OK) {
        r = hret_ds_param_str(ld, "format", &format, err);
    }
    *fmt = format ? HRET_TABLE_AUTO : hret_table_format_of(ld->spec->data_dir);
    if (r == HRET_OK && format != NULL && !hret_table_format_parse(format, fmt)) {
        r = hret_err_set(err, HRET_E_CONFIG,
                         "generic: params.format '%s' is not csv, tsv, jsonl, json or parquet",
                         format);
    }
    const char *dot = strrchr(ld->spec->data_dir, '.');
    if (r == HRET_OK && *fmt == HRET_TABLE_AUTO) {
        bool excel = dot && (strcasecmp(dot, ".xlsx") == 0 || strcasecmp(dot, ".xls") == 0);
        r = hret_err_set(err, HRET_E_CONFIG,
                         excel ? "generic: %s: Excel is not supported: export the file to CSV"
                               : "generic: %s: unknown file type (use .csv, .tsv, .jsonl, .json "
                                 "or .parquet, or set params.format)",
                         ld->spec->data_dir);
    }
    return r;
}

static enum hret_result find_cols(const struct hret_table *t, struct generic_cols *gc,
                                  struct hret_err *err)
{
    for (size_t i = 0; i < 4; i++) {
        gc->has[i] = gc->names[i] && hret_table_find(t, gc->names[i], &gc->idx[i]);
        if (i < 2 && !gc->has[i]) {
            return hret_err_set(err, HRET_E_INVAL,
                                "%s: missing column '%s' (generic expects an input and a reference "
                                "column: set params.input_col and params.reference_col)",
                                hret_table_name(t), gc->names[i]);
        }
        if (i >= 2 && gc->names[i] && !gc->has[i]) {
            return hret_err_set(err, HRET_E_INVAL, "%s: missing column '%s' (params.%s)",
                                hret_table_name(t), gc->names[i],
                                i == 2 ? "options_col" : "id_col");
        }
    }
    return HRET_OK;
}

static bool is_special(const struct generic_cols *gc, size_t col)
{
    for (size_t i = 0; i < 4; i++) {
        if (gc->has[i] && gc->idx[i] == col) {
            return true;
        }
    }
    return false;
}

static enum hret_result generic_input(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                      const char *input, char **out, struct hret_err *err)
{
    if (ld->tmpl == NULL) {
        *out = hret_xstrdup(input);
        return HRET_OK;
    }
    size_t ncols = hret_table_cols(row->table);
    struct hret_prompt_var *vars = hret_xcalloc(ncols + 1, sizeof *vars);
    vars[0] = (struct hret_prompt_var){"input", input};
    for (size_t c = 0; c < ncols; c++) {
        vars[c + 1] = (struct hret_prompt_var){hret_table_col_name(row->table, c),
                                               hret_table_cell(row->table, row->row, c)};
    }
    enum hret_result r = hret_ds_render(ld, row, vars, ncols + 1, out, err);
    free(vars);
    return r;
}

static enum hret_result generic_row(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                    const struct generic_cols *gc, struct hret_err *err)
{
    const struct hret_table *t = row->table;
    struct hret_sample s = {0};
    const char *input = hret_table_cell(t, row->row, gc->idx[0]);
    enum hret_result r = generic_input(ld, row, input ? input : "", &s.input, err);
    if (r != HRET_OK) {
        return r;
    }
    const char *ref = hret_table_cell(t, row->row, gc->idx[1]);
    s.reference = hret_xstrdup(ref ? ref : "");
    if (gc->has[2]) {
        hret_ds_split_list(hret_table_cell(t, row->row, gc->idx[2]), &s.options);
    }
    const char *id = gc->has[3] ? hret_table_cell(t, row->row, gc->idx[3]) : NULL;
    s.id = id && id[0] ? hret_xstrdup(id) : hret_xasprintf("%zu", row->rowno);
    for (size_t c = 0; c < hret_table_cols(t); c++) {
        if (!is_special(gc, c)) {
            s.metadata = s.metadata ? s.metadata : hret_ds_object();
            hret_ds_meta_set(s.metadata, hret_table_col_name(t, c),
                             hret_table_cell(t, row->row, c));
        }
    }
    hret_ds_push(ld, row, &s);
    return HRET_OK;
}

static enum hret_result generic_load(struct hret_ds_load *ld, const char *subset,
                                     struct hret_err *err)
{
    (void)subset;
    struct generic_cols gc;
    enum hret_table_format fmt;
    struct hret_table *t = NULL;
    enum hret_result r = read_params(ld, &gc, &fmt, err);
    struct stat st;
    if (r == HRET_OK && lstat(ld->spec->data_dir, &st) == 0) {
        r = hret_ds_path_check(ld, ld->spec->data_dir, err); /* a missing file: the reader says */
    }
    if (r == HRET_OK) {
        r = hret_ds_table_read(ld, ld->spec->data_dir, fmt, &t, err);
    }
    if (r == HRET_OK) {
        r = find_cols(t, &gc, err);
    }
    for (size_t i = 0; r == HRET_OK && i < hret_table_rows(t); i++) {
        struct hret_ds_row row = {t, i, i, gc.idx, NULL};
        r = generic_row(ld, &row, &gc, err);
    }
    hret_table_destroy(t);
    return r;
}

const struct hret_dataset_loader hret_ds_generic = {
    .name = "generic",
    .hf_repo = "a local file",
    .subsets = NULL,
    .params = params,
    .placeholders = NULL,
    .default_template = NULL,
    .load = generic_load,
};
