/* KUDGE (HAERAE-HUB/KUDGE), HRET's datasets/kudge.py (reference/hret.md §2.5): judge
 * meta-evaluation, scored only by llm_judge. A subset must be named; the split must be "test".
 *
 * Layouts accepted under data_dir, per subset, first match wins:
 *   <subset>/test.csv, <subset>/test-*.csv, data/<subset>-test.csv, data/<subset>/test-*.csv
 * and the same with .tsv, .jsonl, .json or .parquet.
 *
 *   subset           prediction column          reference column       extra metadata
 *   Pairwise         chosen_response            winner                 model_response_b =
 *                                                                      rejected_response,
 *                                                                      model_a = chosen_model,
 *                                                                      model_b = rejected_model
 *   Pairwise-False   response_with_false_info   winner                 model_response_b =
 *                                                                      original_response
 *   Pointwise        response                   final_score
 *   Pointwise-False  response                   original_human_score
 * judge_type is "response_comparison" (Pairwise*) or "rubric_and_response" (Pointwise*): as in
 * HRET, an extra field whose column is absent holds the column's name, which is how judge_type
 * gets its constant.
 *
 * input = judge_query. HRET pre-fills the sample's `prediction` with the response to judge; a
 * struct hret_sample has no prediction, so it is kept as metadata.prediction together with the
 * extra fields: the judge path must read the prediction from there (and must not call the model
 * under test, which would overwrite it in HRET). A prompt_template may use {judge_query}. */
#include <stdlib.h>
#include <string.h>

#include "hret_dataset_loader.h"
#include "hret_mem.h"

static const char *const subsets[] = {"Pairwise", "Pairwise-False", "Pointwise", "Pointwise-False",
                                      NULL};
static const char *const stems[] = {"{subset}/{split}", "{subset}/{split}-*",
                                    "data/{subset}-{split}", "data/{subset}/{split}-*", NULL};
static const char *const placeholders[] = {"judge_query", NULL};
static const char *const no_params[] = {NULL};

struct rule {
    const char *subset;
    const char *columns[4];  /* judge_query, prediction, reference, NULL */
    const char *extra[4][2]; /* metadata key, column (or the constant when absent) */
};

static const struct rule rules[] = {
    {"Pairwise",
     {"judge_query", "chosen_response", "winner", NULL},
     {{"model_response_b", "rejected_response"},
      {"judge_type", "response_comparison"},
      {"model_a", "chosen_model"},
      {"model_b", "rejected_model"}}},
    {"Pairwise-False",
     {"judge_query", "response_with_false_info", "winner", NULL},
     {{"model_response_b", "original_response"}, {"judge_type", "response_comparison"}}},
    {"Pointwise",
     {"judge_query", "response", "final_score", NULL},
     {{"judge_type", "rubric_and_response"}}},
    {"Pointwise-False",
     {"judge_query", "response", "original_human_score", NULL},
     {{"judge_type", "rubric_and_response"}}},
};

static const struct rule *rule_of(const char *subset)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (strcmp(rules[i].subset, subset) == 0) {
            return &rules[i];
        }
    }
    return NULL;
}

static enum hret_result kudge_row(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                  struct hret_err *err)
{
    const struct rule *rule = rule_of(row->subset);
    struct hret_sample s = {0};
    if (ld->tmpl != NULL) {
        struct hret_prompt_var vars[] = {{"judge_query", hret_ds_col(row, 0)}};
        enum hret_result r = hret_ds_render(ld, row, vars, 1, &s.input, err);
        if (r != HRET_OK) {
            return r;
        }
    } else {
        s.input = hret_xstrdup(hret_ds_col(row, 0));
    }
    s.reference = hret_xstrdup(hret_ds_col(row, 2));
    s.metadata = hret_ds_object();
    hret_ds_meta_set(s.metadata, "prediction", hret_ds_col(row, 1));
    for (size_t i = 0; i < 4 && rule->extra[i][0] != NULL; i++) {
        const char *v = hret_ds_opt(row, rule->extra[i][1]);
        hret_ds_meta_set(s.metadata, rule->extra[i][0], v ? v : rule->extra[i][1]);
    }
    hret_ds_push(ld, row, &s);
    return HRET_OK;
}

static enum hret_result kudge_load(struct hret_ds_load *ld, const char *subset,
                                   struct hret_err *err)
{
    if (strcmp(ld->split, "test") != 0) {
        return hret_err_set(err, HRET_E_CONFIG,
                            "kudge: split '%s' requested, but KUDGE is evaluation-only: use 'test'",
                            ld->split);
    }
    const struct rule *rule = rule_of(subset);
    return hret_ds_read_rows(ld, subset, NULL, stems, rule->columns, kudge_row, err);
}

const struct hret_dataset_loader hret_ds_kudge = {
    .name = "kudge",
    .hf_repo = "HAERAE-HUB/KUDGE",
    .subsets = subsets,
    .subset_required = true,
    .params = no_params,
    .placeholders = placeholders,
    .default_template = NULL,
    .load = kudge_load,
};
