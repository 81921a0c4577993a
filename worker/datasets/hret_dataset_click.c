/* CLIcK (EunsuKim/CLIcK), HRET's datasets/click.py (reference/hret.md §2.1): no subsets; the hub
 * ships one train split (ask for split "train"; HRET's runner asks for "test").
 *
 * Layouts accepted under data_dir, per split, first match wins:
 *   <split>.jsonl, data/<split>.jsonl, data/<split>-*.jsonl, <split>-*.jsonl
 * and the same with .csv, .tsv or .json (the extensions are tried csv, tsv, jsonl, json).
 *
 * Columns: paragraph, question, choices (a JSON array; in CSV a JSON-array string or
 * "a | b | c"), answer (the choice text); id is used for the sample id when present.
 * Rendering: paragraph and question stripped, choices joined with ", " (not stripped);
 * options = choices; reference = answer.strip(). */
#include <stdlib.h>
#include <string.h>

#include "hret_dataset_loader.h"
#include "hret_mem.h"

static const char *const stems[] = {"{split}", "data/{split}", "data/{split}-*", "{split}-*", NULL};
static const char *const columns[] = {"paragraph", "question", "choices", "answer", NULL};
static const char *const placeholders[] = {"paragraph", "question", "choices", NULL};
static const char *const no_params[] = {NULL};

static char *join_choices(const struct hret_strlist *choices)
{
    struct hret_buf b;
    hret_buf_init(&b, (size_t)1 << 30);
    for (size_t i = 0; i < choices->count; i++) {
        if (i > 0) {
            (void)hret_buf_append(&b, ", ", 2, NULL);
        }
        (void)hret_buf_append(&b, choices->items[i], strlen(choices->items[i]), NULL);
    }
    return hret_buf_take(&b);
}

static enum hret_result click_row(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                  struct hret_err *err)
{
    struct hret_sample s = {0};
    hret_ds_split_list(hret_ds_col(row, 2), &s.options);
    char *paragraph = hret_prompt_strip_dup(hret_ds_col(row, 0));
    char *question = hret_prompt_strip_dup(hret_ds_col(row, 1));
    char *choices = join_choices(&s.options);
    struct hret_prompt_var vars[] = {
        {"paragraph", paragraph}, {"question", question}, {"choices", choices}};
    enum hret_result r = hret_ds_render(ld, row, vars, 3, &s.input, err);
    free(paragraph);
    free(question);
    free(choices);
    if (r != HRET_OK) {
        hret_sample_fini(&s);
        return r;
    }
    s.reference = hret_prompt_strip_dup(hret_ds_col(row, 3));
    const char *id = hret_ds_opt(row, "id");
    s.id = id && id[0] ? hret_xstrdup(id) : NULL;
    hret_ds_push(ld, row, &s);
    return HRET_OK;
}

static enum hret_result click_load(struct hret_ds_load *ld, const char *subset,
                                   struct hret_err *err)
{
    return hret_ds_read_rows(ld, subset, NULL, stems, columns, click_row, err);
}

const struct hret_dataset_loader hret_ds_click = {
    .name = "click",
    .hf_repo = "EunsuKim/CLIcK",
    .subsets = NULL,
    .params = no_params,
    .placeholders = placeholders,
    .default_template = "Paragraph: {paragraph}\nQuestion: {question}\nChoices: {choices}",
    .load = click_load,
};
