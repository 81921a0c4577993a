/* HAE-RAE Bench 1.1 (HAERAE-HUB/HAE_RAE_BENCH_1.1), HRET's datasets/haerae.py
 * (reference/hret.md §2.3).
 *
 * Layouts accepted under data_dir, per (subset, split), first match wins:
 *   <subset>/<split>.csv             one directory per config
 *   <subset>/<split>-*.csv           shards, as `push_to_hub` writes them (Parquet)
 *   data/<subset>-<split>.csv
 *   data/<subset>/<split>-*.csv
 * and the same with .tsv, .jsonl, .json or .parquet.
 *
 * Columns: query (the question with its choices embedded), answer (already "(A)"-style).
 * Rendering: query with every "### 정답" removed, then str.strip(), placed after the instruction
 * and a single space; reference = answer.strip(); options are always "(A)".."(E)", even for
 * 4-choice items. */
#include <stdlib.h>

#include "hret_dataset_loader.h"
#include "hret_mem.h"

static const char *const subsets[] = {"correct_definition_matching",
                                      "csat_geo",
                                      "csat_law",
                                      "csat_socio",
                                      "date_understanding",
                                      "general_knowledge",
                                      "history",
                                      "loan_words",
                                      "lyrics_denoising",
                                      "proverbs_denoising",
                                      "rare_words",
                                      "standard_nomenclature",
                                      "reading_comprehension",
                                      NULL};

static const char *const stems[] = {"{subset}/{split}", "{subset}/{split}-*",
                                    "data/{subset}-{split}", "data/{subset}/{split}-*", NULL};
static const char *const columns[] = {"query", "answer", NULL};
static const char *const placeholders[] = {"query", NULL};
static const char *const labels[] = {"(A)", "(B)", "(C)", "(D)", "(E)"};
static const char *const no_params[] = {NULL};

static enum hret_result haerae_row(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                   struct hret_err *err)
{
    char *query = hret_prompt_remove_strip(hret_ds_col(row, 0), "### 정답");
    struct hret_prompt_var vars[] = {{"query", query}};
    struct hret_sample s = {0};
    enum hret_result r = hret_ds_render(ld, row, vars, 1, &s.input, err);
    free(query);
    if (r != HRET_OK) {
        return r;
    }
    s.reference = hret_prompt_strip_dup(hret_ds_col(row, 1));
    for (size_t i = 0; i < 5; i++) {
        hret_strlist_push(&s.options, hret_xstrdup(labels[i]));
    }
    hret_ds_push(ld, row, &s);
    return HRET_OK;
}

static enum hret_result haerae_load(struct hret_ds_load *ld, const char *subset,
                                    struct hret_err *err)
{
    return hret_ds_read_rows(ld, subset, NULL, stems, columns, haerae_row, err);
}

const struct hret_dataset_loader hret_ds_haerae_bench = {
    .name = "haerae_bench",
    .hf_repo = "HAERAE-HUB/HAE_RAE_BENCH_1.1",
    .subsets = subsets,
    .params = no_params,
    .placeholders = placeholders,
    .default_template = "다음은 객관식 문제입니다. 당신의 추론 과정을 간결하게 요약한 후, "
                        "\"따라서, 정답은: X\"라고 결론지으십시오. 여기서 X는 (A), (B), (C), (D), "
                        "(E) 중 하나입니다. {query}",
    .load = haerae_load,
};
