/* HRM8K (HAERAE-HUB/HRM8K), HRET's datasets/hrm8k.py (reference/hret.md §2.4).
 *
 * Layouts accepted under data_dir, per (subset, split), first match wins:
 *   HRM8K/<file>_<split>.csv         as on the hub, where <file> is gsm8k, ksm, math_do,
 *                                    mmmlu, omni-math_do for GSM8K, KSM, MATH, MMMLU, OMNI_MATH
 *   <subset>/<split>.csv, <subset>/<split>-*.csv, data/<subset>-<split>.csv
 * and the same with .tsv, .jsonl, .json or .parquet. The hub has only a test split.
 *
 * Columns: question, answer. Rendering: the template is filled with the stripped question and
 * the result is stripped again; reference = str(answer).strip(); no options (math_match). */
#include <stdlib.h>
#include <string.h>

#include "hret_dataset_loader.h"
#include "hret_mem.h"

static const char *const subsets[] = {"GSM8K", "KSM", "MATH", "MMMLU", "OMNI_MATH", NULL};
static const char *const files[] = {"gsm8k", "ksm", "math_do", "mmmlu", "omni-math_do", NULL};

static const char *const stems[] = {"HRM8K/{key}_{split}", "{subset}/{split}", "{subset}/{split}-*",
                                    "data/{subset}-{split}", NULL};
static const char *const columns[] = {"question", "answer", NULL};
static const char *const placeholders[] = {"question", NULL};
static const char *const no_params[] = {NULL};

static enum hret_result hrm8k_row(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                  struct hret_err *err)
{
    char *question = hret_prompt_strip_dup(hret_ds_col(row, 0));
    struct hret_prompt_var vars[] = {{"question", question}};
    char *rendered = NULL;
    enum hret_result r = hret_ds_render(ld, row, vars, 1, &rendered, err);
    free(question);
    if (r != HRET_OK) {
        return r;
    }
    struct hret_sample s = {0};
    s.input = hret_prompt_strip_dup(rendered);
    s.reference = hret_prompt_strip_dup(hret_ds_col(row, 1));
    free(rendered);
    hret_ds_push(ld, row, &s);
    return HRET_OK;
}

static enum hret_result hrm8k_load(struct hret_ds_load *ld, const char *subset,
                                   struct hret_err *err)
{
    const char *key = NULL;
    for (size_t i = 0; subsets[i] != NULL && key == NULL; i++) {
        key = strcmp(subsets[i], subset) == 0 ? files[i] : NULL;
    }
    return hret_ds_read_rows(ld, subset, key, stems, columns, hrm8k_row, err);
}

const struct hret_dataset_loader hret_ds_hrm8k = {
    .name = "hrm8k",
    .hf_repo = "HAERAE-HUB/HRM8K",
    .subsets = subsets,
    .params = no_params,
    .placeholders = placeholders,
    .default_template = "put your final answer within \\boxed{{}}.\nQuestion: {question}",
    .load = hrm8k_load,
};
