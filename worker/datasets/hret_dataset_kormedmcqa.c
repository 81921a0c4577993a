/* KorMedMCQA (sean0042/KorMedMCQA), HRET's datasets/kormedqa.py (reference/hret.md §2.1, §2.7).
 *
 * Layouts accepted under data_dir, per (subset, split), first match wins:
 *   <subset>/<split>-*.csv           the hub's current layout (Parquet shards)
 *   <subset>/<split>.csv
 *   data/<subset>-<split>.csv        the hub's older CSV layout (no dentist there)
 * and the same with .tsv, .jsonl, .json or .parquet. Splits: train, dev, test, fewshot.
 * As in HRET, a default subset with no file is skipped with a warning (older downloads lack
 * dentist), unless no subset has one; a subset named explicitly must exist.
 *
 * Columns: question, answer (1-based), A..E (each optional: an absent or empty choice is left
 * out), cot (kept as metadata.cot; null when absent or empty, as Hugging Face reads an empty
 * CSV cell). Rendering: question stripped; choices
 * stripped and listed as "(A) text" lines; options = the choice texts; reference = the text of
 * choice `answer` among the choices present, "" when absent or out of range. */
#include <stdlib.h>
#include <string.h>

#include "hret_dataset_loader.h"
#include "hret_log.h"
#include "hret_mem.h"

static const char *const subsets[] = {"dentist", "doctor", "nurse", "pharm", NULL};
static const char *const stems[] = {"{subset}/{split}-*", "{subset}/{split}",
                                    "data/{subset}-{split}", NULL};
static const char *const columns[] = {"question", "answer", NULL};
static const char *const placeholders[] = {"question", "choices_str", NULL};
static const char *const keys[] = {"A", "B", "C", "D", "E"};
static const char *const no_params[] = {NULL};

/* options gets the present choices; returns the "(A) text\n(B) text" listing (caller owns). */
static char *choices_of(const struct hret_ds_row *row, struct hret_strlist *options)
{
    struct hret_buf b;
    hret_buf_init(&b, (size_t)1 << 30);
    for (size_t i = 0; i < 5; i++) {
        const char *v = hret_ds_opt(row, keys[i]);
        if (v == NULL || v[0] == '\0') {
            continue;
        }
        char *text = hret_prompt_strip_dup(v);
        (void)hret_buf_appendf(&b, NULL, "%s(%s) %s", options->count ? "\n" : "", keys[i], text);
        hret_strlist_push(options, text);
    }
    return hret_buf_take(&b);
}

static enum hret_result kormed_row(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                   struct hret_err *err)
{
    struct hret_sample s = {0};
    char *question = hret_prompt_strip_dup(hret_ds_col(row, 0));
    char *choices = choices_of(row, &s.options);
    struct hret_prompt_var vars[] = {{"question", question}, {"choices_str", choices}};
    enum hret_result r = hret_ds_render(ld, row, vars, 2, &s.input, err);
    free(question);
    free(choices);
    if (r != HRET_OK) {
        hret_sample_fini(&s);
        return r;
    }
    long long n = 0;
    bool ok = hret_ds_parse_int(hret_ds_col(row, 1), &n);
    s.reference =
        hret_xstrdup(ok && n >= 1 && (size_t)n <= s.options.count ? s.options.items[n - 1] : "");
    s.metadata = hret_ds_object();
    const char *cot = hret_ds_opt(row, "cot");
    hret_ds_meta_set(s.metadata, "cot", cot && cot[0] ? cot : NULL);
    hret_ds_push(ld, row, &s);
    return HRET_OK;
}

/* Whether some subset of the default list has files for ld->split. */
static bool any_present(const struct hret_ds_load *ld)
{
    for (size_t i = 0; subsets[i] != NULL; i++) {
        if (!hret_ds_files_missing(ld, subsets[i], NULL, stems)) {
            return true;
        }
    }
    return false;
}

static enum hret_result kormed_load(struct hret_ds_load *ld, const char *subset,
                                    struct hret_err *err)
{
    bool defaulted = ld->spec->subsets == NULL || ld->spec->subsets->count == 0;
    if (defaulted && hret_ds_files_missing(ld, subset, NULL, stems) && any_present(ld)) {
        hret_log_warn("dataset", NULL, "kormedmcqa: no file for subset %s split %s in %s, skipped",
                      subset, ld->split, ld->spec->data_dir);
        return HRET_OK;
    }
    return hret_ds_read_rows(ld, subset, NULL, stems, columns, kormed_row, err);
}

const struct hret_dataset_loader hret_ds_kormedmcqa = {
    .name = "kormedmcqa",
    .hf_repo = "sean0042/KorMedMCQA",
    .subsets = subsets,
    .params = no_params,
    .placeholders = placeholders,
    .default_template = "The following is a multiple-choice question about specialized medical "
                        "knowledge. Choose the most appropriate answer from the options "
                        "provided.\n\nQuestion: {question}\n\n{choices_str}",
    .load = kormed_load,
};
