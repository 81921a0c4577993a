/* KMMLU (HAERAE-HUB/KMMLU), HRET's datasets/kmmlu.py (reference/hret.md §2.2).
 *
 * Layouts accepted under data_dir, per (subset, split), first match wins:
 *   data/<Subset>-<split>.csv        as on the hub, e.g. data/Accounting-test.csv
 *   data/<subset>-<split>.csv        lower-cased: the hub stores Korean-History and Math as
 *                                    data/korean-history-test.csv and data/math-test.csv
 *   <Subset>/<split>.csv             one directory per config
 *   <Subset>/<split>-*.csv           shards (e.g. test-00000-of-00001.jsonl)
 * and the same with .tsv, .jsonl, .json or .parquet. Splits are train, dev (5 rows per subset: the
 * classic few-shot source) and test.
 *
 * Columns: question, A, B, C, D, answer (1-based). Category and Human Accuracy are not used and,
 * as in HRET, no metadata is kept. Rendering:
 *   question = question with every "### 정답" removed, then str.strip(); choices stripped;
 *   reference = "(A)".."(D)" for answer 1..4; a falsy answer (empty, null, 0) gives "(A)" and any
 *   other number ""; options are always the four labels. The template is not stripped. */
#include <stdlib.h>
#include <string.h>

#include "hret_dataset_loader.h"
#include "hret_mem.h"

static const char *const subsets[] = {"Accounting",
                                      "Agricultural-Sciences",
                                      "Aviation-Engineering-and-Maintenance",
                                      "Biology",
                                      "Chemical-Engineering",
                                      "Chemistry",
                                      "Civil-Engineering",
                                      "Computer-Science",
                                      "Construction",
                                      "Criminal-Law",
                                      "Ecology",
                                      "Economics",
                                      "Education",
                                      "Electrical-Engineering",
                                      "Electronics-Engineering",
                                      "Energy-Management",
                                      "Environmental-Science",
                                      "Fashion",
                                      "Food-Processing",
                                      "Gas-Technology-and-Engineering",
                                      "Geomatics",
                                      "Health",
                                      "Industrial-Engineer",
                                      "Information-Technology",
                                      "Interior-Architecture-and-Design",
                                      "Law",
                                      "Machine-Design-and-Manufacturing",
                                      "Management",
                                      "Maritime-Engineering",
                                      "Marketing",
                                      "Materials-Engineering",
                                      "Mechanical-Engineering",
                                      "Nondestructive-Testing",
                                      "Patent",
                                      "Political-Science-and-Sociology",
                                      "Psychology",
                                      "Public-Safety",
                                      "Railway-and-Automotive-Engineering",
                                      "Real-Estate",
                                      "Refrigerating-Machinery",
                                      "Social-Welfare",
                                      "Taxation",
                                      "Telecommunications-and-Wireless-Technology",
                                      "Korean-History",
                                      "Math",
                                      NULL};

static const char *const stems[] = {"data/{subset}-{split}", "data/{lower}-{split}",
                                    "{subset}/{split}", "{subset}/{split}-*", NULL};
static const char *const columns[] = {"question", "A", "B", "C", "D", "answer", NULL};
static const char *const placeholders[] = {"question", "choice_A", "choice_B",
                                           "choice_C", "choice_D", NULL};
static const char *const labels[] = {"(A)", "(B)", "(C)", "(D)"};
static const char *const no_params[] = {NULL};

/* HRET: options[int(answer) - 1] if answer else options[0]; "" when out of range. */
static enum hret_result reference_of(const struct hret_ds_row *row, char **out,
                                     struct hret_err *err)
{
    const char *answer = hret_ds_col(row, 5);
    long long n = 0;
    size_t len;
    hret_prompt_strip(answer, &len);
    if (len > 0 && !hret_ds_parse_int(answer, &n)) {
        return hret_err_set(err, HRET_E_INVAL, "%s:%lu: column 'answer': '%s' is not a number",
                            hret_table_name(row->table), hret_table_line(row->table, row->row),
                            answer);
    }
    long long idx = n == 0 ? 0 : n - 1;
    *out = hret_xstrdup(idx >= 0 && idx < 4 ? labels[idx] : "");
    return HRET_OK;
}

static enum hret_result kmmlu_row(struct hret_ds_load *ld, const struct hret_ds_row *row,
                                  struct hret_err *err)
{
    char *fields[5];
    fields[0] = hret_prompt_remove_strip(hret_ds_col(row, 0), "### 정답");
    for (size_t i = 1; i < 5; i++) {
        fields[i] = hret_prompt_strip_dup(hret_ds_col(row, i));
    }
    struct hret_prompt_var vars[5];
    for (size_t i = 0; i < 5; i++) {
        vars[i] = (struct hret_prompt_var){placeholders[i], fields[i]};
    }
    struct hret_sample s = {0};
    enum hret_result r = hret_ds_render(ld, row, vars, 5, &s.input, err);
    if (r == HRET_OK) {
        r = reference_of(row, &s.reference, err);
    }
    for (size_t i = 0; r == HRET_OK && i < 4; i++) {
        hret_strlist_push(&s.options, hret_xstrdup(labels[i]));
    }
    for (size_t i = 0; i < 5; i++) {
        free(fields[i]);
    }
    if (r != HRET_OK) {
        hret_sample_fini(&s);
        return r;
    }
    hret_ds_push(ld, row, &s);
    return HRET_OK;
}

static enum hret_result kmmlu_load(struct hret_ds_load *ld, const char *subset,
                                   struct hret_err *err)
{
    return hret_ds_read_rows(ld, subset, NULL, stems, columns, kmmlu_row, err);
}

const struct hret_dataset_loader hret_ds_kmmlu = {
    .name = "kmmlu",
    .hf_repo = "HAERAE-HUB/KMMLU",
    .subsets = subsets,
    .params = no_params,
    .placeholders = placeholders,
    .default_template = "다음은 객관식 문제입니다. 당신의 추론 과정을 간결하게 요약한 후, "
                        "\"따라서, 정답은: X\"라고 결론지으십시오. 여기서 X는 (A), (B), (C), (D) "
                        "중 하나입니다.\n\n질문: {question}\nA. {choice_A}\nB. {choice_B}\nC. "
                        "{choice_C}\nD. {choice_D}",
    .load = kmmlu_load,
};
