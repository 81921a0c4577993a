/* K2-Eval (HAERAE-HUB/K2-Eval), HRET's datasets/k2_eval.py (reference/hret.md §2.4): open-ended
 * generation scored only by llm_judge (HRET's evaluation_only).
 *
 * Layouts accepted under data_dir, per (subset, split), first match wins:
 *   <subset>/<split>.csv, <subset>/<split>-*.csv, data/<subset>-<split>.csv,
 *   data/<split>-*.csv, <split>.csv
 * and the same with .tsv, .jsonl, .json or .parquet.
 *
 * Columns: instruction, subject, ability. input = instruction.strip(); reference = "";
 * metadata = {subject, ability} (stripped; HRET puts them at the top level of the sample).
 * Deliberate fix: HRET silently ignores a user template (its constructor resets it); here a
 * prompt_template with {instruction} is applied. */
#include <stdlib.h>

#include "hret_dataset_loader.h"
#include "hret_mem.h"

static const char *const subsets[] = {"generation", NULL};
static const char *const stems[] = {"{subset}/{split}",
                                    "{subset}/{split}-*",
                                    "data/{subset}-{split}",
                                    "data/{split}-*",
                                    "{split}",
                                    NULL};
static const char *const columns[] = {"instruction", "subject", "ability", NULL};
static const char *const placeholders[] = {"instruction", NULL};
static const char *const no_params[] = {NULL};

static enum hret_result k2_row(struct hret_ds_load *ld, const struct hret_ds_row *row,
                               struct hret_err *err)
{
    struct hret_sample s = {0};
    char *instruction = hret_prompt_strip_dup(hret_ds_col(row, 0));
    if (ld->tmpl != NULL) {
        struct hret_prompt_var vars[] = {{"instruction", instruction}};
        enum hret_result r = hret_ds_render(ld, row, vars, 1, &s.input, err);
        free(instruction);
        if (r != HRET_OK) {
            return r;
        }
    } else {
        s.input = instruction;
    }
    s.reference = hret_xstrdup("");
    s.metadata = hret_ds_object();
    for (size_t i = 1; i < 3; i++) {
        char *v = hret_prompt_strip_dup(hret_ds_col(row, i));
        hret_ds_meta_set(s.metadata, columns[i], v);
        free(v);
    }
    hret_ds_push(ld, row, &s);
    return HRET_OK;
}

static enum hret_result k2_load(struct hret_ds_load *ld, const char *subset, struct hret_err *err)
{
    return hret_ds_read_rows(ld, subset, NULL, stems, columns, k2_row, err);
}

const struct hret_dataset_loader hret_ds_k2_eval = {
    .name = "k2_eval",
    .hf_repo = "HAERAE-HUB/K2-Eval",
    .subsets = subsets,
    .params = no_params,
    .placeholders = placeholders,
    .default_template = NULL,
    .load = k2_load,
};
