#!/usr/bin/env python3
"""Writes the golden cases tests/data/golden/*.json that tests/unit/test_dataset.c replays.

The expectations are computed here, independently of the C code, by re-implementing HRET's
Python rendering (llm_eval/datasets/*.py and runner.py's FewShotHandler, reference/hret.md
§1.5, §2) with Python's own str.format / str.replace / str.strip, plus the service's documented
additions (sampling, limit, ids, generic column placeholders). Run it after changing test data:

    python3 tests/data/golden/make_golden.py

A case is {"description", "spec": {...hret_dataset_spec fields...}, "expect": {"count",
"num_few_shot_applied", "items": [{"idx", "id", "subset", "input", "reference", "options",
"metadata"}]}} or {"expect": {"error": {"code", "contains": [...]}}}. data_dir is relative to the
source tree. Cases with "hand_written": true are not generated.
"""
import csv
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DS = "tests/data/datasets"

FEW_SHOT_INSTRUCTION = "다음은 문제와 정답의 몇 가지 예시입니다.\n\n"
FEW_SHOT_TEMPLATE = "{input}\n정답: {reference}\n\n"

KMMLU_T = (
    "다음은 객관식 문제입니다. 당신의 추론 과정을 간결하게 요약한 후, "
    "\"따라서, 정답은: X\"라고 결론지으십시오. 여기서 X는 (A), (B), (C), (D) 중 하나입니다.\n\n"
    "질문: {question}\n"
    "A. {choice_A}\n"
    "B. {choice_B}\n"
    "C. {choice_C}\n"
    "D. {choice_D}"
)
HAERAE_T = (
    "다음은 객관식 문제입니다. 당신의 추론 과정을 간결하게 요약한 후, "
    "\"따라서, 정답은: X\"라고 결론지으십시오. 여기서 X는 (A), (B), (C), (D), (E) 중 하나입니다. {query}"
)
HRM8K_T = "put your final answer within \\boxed{{}}.\nQuestion: {question}"
CLICK_T = "Paragraph: {paragraph}\nQuestion: {question}\nChoices: {choices}"
KORMED_T = (
    "The following is a multiple-choice question about specialized medical knowledge. "
    "Choose the most appropriate answer from the options provided.\n\n"
    "Question: {question}\n\n{choices_str}"
)


# ---- reading, as Hugging Face datasets would hand rows to HRET ------------------------------

def read_rows(path):
    if path.endswith(".jsonl"):
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t" if path.endswith(".tsv") else ","))


def item(idx, id_, subset, input_, reference, options=None, metadata=None):
    return {"idx": idx, "id": id_, "subset": subset, "input": input_, "reference": reference,
            "options": options or [], "metadata": metadata}


# ---- HRET's loaders -------------------------------------------------------------------------

def kmmlu(subsets, split, template=None):
    out = []
    for sub in subsets:
        name = sub.lower() if sub in ("Korean-History", "Math") else sub
        rows = read_rows(f"{SRC}/{DS}/kmmlu/data/{name}-{split}.csv")
        options = ["(A)", "(B)", "(C)", "(D)"]
        for i, row in enumerate(rows):
            ans = int(row["answer"]) if row["answer"] != "" else None  # HF: int column, NaN -> None
            q = row["question"].replace("### 정답", "").strip()
            text = (template or KMMLU_T).format(
                question=q, choice_A=row["A"].strip(), choice_B=row["B"].strip(),
                choice_C=row["C"].strip(), choice_D=row["D"].strip())
            idx = int(ans) - 1 if ans else 0
            ref = options[idx] if 0 <= idx < len(options) else ""
            out.append(item(0, f"{sub}/{split}/{i}", sub, text, ref.strip(), options))
    return out


def haerae(subsets, split):
    out = []
    for sub in subsets:
        for i, row in enumerate(read_rows(f"{SRC}/{DS}/haerae_bench/{sub}/{split}.jsonl")):
            q = row["query"].replace("### 정답", "").strip()
            out.append(item(0, f"{sub}/{split}/{i}", sub, HAERAE_T.format(query=q),
                            row["answer"].strip(), ["(A)", "(B)", "(C)", "(D)", "(E)"]))
    return out


def hrm8k(subsets, split):
    files = {"GSM8K": "gsm8k", "KSM": "ksm"}
    out = []
    for sub in subsets:
        for i, row in enumerate(read_rows(f"{SRC}/{DS}/hrm8k/HRM8K/{files[sub]}_{split}.csv")):
            text = HRM8K_T.format(question=row["question"].strip())
            out.append(item(0, f"{sub}/{split}/{i}", sub, text.strip(), str(row["answer"]).strip()))
    return out


def click(split):
    out = []
    for i, row in enumerate(read_rows(f"{SRC}/{DS}/click/data/{split}.jsonl")):
        text = CLICK_T.format(paragraph=row["paragraph"].strip(), question=row["question"].strip(),
                              choices=", ".join(row["choices"]))
        out.append(item(0, row["id"], None, text, row["answer"].strip(), row["choices"]))
    return out


def k2_eval(split, template=None):
    out = []
    for i, row in enumerate(read_rows(f"{SRC}/{DS}/k2_eval/generation/{split}.jsonl")):
        ins = row["instruction"].strip()
        text = template.format(instruction=ins) if template else ins
        out.append(item(0, f"generation/{split}/{i}", "generation", text, "",
                        metadata={"subject": row["subject"].strip(), "ability": row["ability"].strip()}))
    return out


KUDGE_RULES = {
    "Pairwise": ("chosen_response", "winner", [("model_response_b", "rejected_response"),
                                               ("judge_type", "response_comparison"),
                                               ("model_a", "chosen_model"), ("model_b", "rejected_model")]),
    "Pointwise": ("response", "final_score", [("judge_type", "rubric_and_response")]),
}


def kudge(sub, ext):
    pred, ref, extra = KUDGE_RULES[sub]
    out = []
    for i, row in enumerate(read_rows(f"{SRC}/{DS}/kudge/{sub}/test.{ext}")):
        meta = {"prediction": str(row.get(pred, ""))}
        for key, field in extra:
            meta[key] = str(row[field]) if field in row else field
        out.append(item(0, f"{sub}/test/{i}", sub, str(row["judge_query"]), str(row.get(ref, "")),
                        metadata=meta))
    return out


def kormed(subsets, split):
    files = {"doctor": "jsonl", "nurse": "csv"}
    out = []
    for sub in subsets:
        for i, row in enumerate(read_rows(f"{SRC}/{DS}/kormedmcqa/{sub}/{split}-00000-of-00001.{files[sub]}")):
            if files[sub] == "csv":  # HF reads empty CSV cells as None and numbers as ints
                row = {k: (None if v == "" else v) for k, v in row.items()}
            texts, parts = [], []
            for key in "ABCDE":
                c = row.get(key)
                if c is not None:
                    c = str(c).strip()
                    texts.append(c)
                    parts.append(f"({key}) {c}")
            text = KORMED_T.format(question=row["question"].strip(), choices_str="\n".join(parts))
            ref = ""
            if row.get("answer") is not None:
                k = int(row["answer"]) - 1
                ref = texts[k] if 0 <= k < len(texts) else ""
            out.append(item(0, f"{sub}/{split}/{i}", sub, text, ref, texts, {"cot": row.get("cot")}))
    return out


def fix_str(v):
    if isinstance(v, list):
        return " | ".join(map(str, v))
    return "" if v is None else str(v)


def ensure_list(v):
    if v is None:
        return []
    if isinstance(v, list):
        return [fix_str(x) for x in v if x is not None]
    return [x.strip() for x in v.split("|") if x.strip()]


def contains_any(value, filters):
    fl = [f.lower() for f in filters]
    if isinstance(value, list):
        return any(any(f in fix_str(x).lower() for f in fl) for x in value)
    return any(f in fix_str(value).lower() for f in fl)


def benchhub(split, params=None, template=None):
    params = params or {}
    out = []
    for i, row in enumerate(read_rows(f"{SRC}/{DS}/benchhub/data/{split}.jsonl")):
        ok = True
        for key, field in (("problem_types", "problem_type"), ("task_types", "task_type"),
                           ("target_types", "target_type"), ("subject_types", "subject_type"),
                           ("benchmark_names", "benchmark_name")):
            if params.get(key):  # a lone string is one filter (HRET would iterate its characters)
                filters = [params[key]] if isinstance(params[key], str) else params[key]
                ok = ok and contains_any(row.get(field), filters)
        if not ok:
            continue
        context, prompt = fix_str(row.get("context")), fix_str(row.get("prompt"))
        query = "\n".join(([context] if context else []) + [prompt])
        text = query
        if template:
            args = {k: fix_str(v) for k, v in row.items()}
            args["query"] = query
            opts = ensure_list(row.get("options"))
            if opts:
                args["options_str"] = "\n".join(f"{j + 1}. {o}" for j, o in enumerate(opts))
            try:
                text = template.format_map(args)
            except KeyError:
                text = query
        meta = {
            "problem_type": fix_str(row.get("problem_type")), "task_type": fix_str(row.get("task_type")),
            "target_type": fix_str(row.get("target_type")), "subject_type": ensure_list(row.get("subject_type")),
            "benchmark_name": fix_str(row.get("benchmark_name")), "mcqa_meta": fix_str(row.get("mcqa_meta")),
            "original_category": fix_str(row.get("original_category")),
            "additional_info": fix_str(row.get("additional_info")), "original_split": fix_str(row.get("split")),
            "language": params.get("language", "ko"), "original_benchhub_reference": fix_str(row.get("reference")),
        }
        ref = fix_str(row.get("answer_str") or row.get("answer") or row.get("reference"))
        out.append(item(0, f"{split}/{i}", fix_str(row.get("benchmark_name")) or "benchhub_default_subset",
                        text, ref, ensure_list(row.get("options")), meta))
    if params.get("sample_size") and params["sample_size"] < len(out):
        out = sample(out, params["sample_size"], params.get("seed", 0))
    return out


def cell_text(v):
    if v is None or isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def generic(path, params=None, template=None):
    params = params or {}
    inc, refc = params.get("input_col", "input"), params.get("reference_col", "reference")
    optc, idc = params.get("options_col"), params.get("id_col")
    out = []
    rows = read_rows(f"{SRC}/{path}")
    columns = list(dict.fromkeys(k for row in rows for k in row))  # union, as pandas makes it
    for i, row in enumerate(rows):
        row = {k: cell_text(row.get(k)) for k in columns}
        raw = row[inc] or ""
        fields = {k: v or "" for k, v in row.items()}
        fields["input"] = raw
        text = template.format(**fields) if template else raw
        opts = []
        if optc:
            v = row[optc]
            opts = json.loads(v) if v.startswith("[") else [x.strip() for x in v.split("|") if x.strip()]
        meta = {k: v for k, v in row.items() if k not in (inc, refc, optc, idc)}
        out.append(item(0, row[idc] if idc else str(i), None, text, row[refc] or "", opts, meta or None))
    return out


# ---- the service's shared steps (hret_dataset.h) -------------------------------------------

M64 = (1 << 64) - 1


def sample(items, k, seed):
    """Partial Fisher-Yates driven by splitmix64, bounded draws by rejection."""
    state = seed & M64

    def nxt():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    perm = list(range(len(items)))
    for i in range(k):
        n = len(items) - i
        threshold = ((1 << 64) - n) % n
        while True:
            x = nxt()
            if x >= threshold:
                break
        j = i + x % n
        perm[i], perm[j] = perm[j], perm[i]
    return [items[p] for p in perm[:k]]


def prefix_of(examples, instruction, template):
    parts = [instruction] if instruction else []
    valid = 0
    for ex in examples:
        if not ex["input"]:
            continue
        parts.append(template.format(input=ex["input"], reference=ex["reference"]))
        valid += 1
    return "".join(parts) if valid else ""


def shape(items, spec, fs_items=None):
    if spec.get("sample_size"):
        if spec["sample_size"] < len(items):
            items = sample(items, spec["sample_size"], spec.get("seed", 0))
    k = max(spec.get("num_few_shot", 0), 0)
    instr = spec.get("few_shot_instruction")
    instr = FEW_SHOT_INSTRUCTION if instr is None else instr
    tmpl = spec.get("few_shot_template") or FEW_SHOT_TEMPLATE
    prefix = ""
    split = spec.get("split") or "test"
    if k > 0 and spec.get("few_shot_split") in (None, split):
        prefix = prefix_of(items[:k], instr, tmpl)
        items = items[k:]
    elif k > 0:
        prefix = prefix_of(fs_items[:k], instr, tmpl)
    if spec.get("limit"):
        items = items[:spec["limit"]]
    out = []
    for i, it in enumerate(items):
        it = dict(it, idx=i, input=prefix + it["input"])
        out.append(it)
    return out, (k if prefix else 0)


def case(name, description, spec, items, fs_items=None, show=None):
    shaped, applied = shape(items, spec, fs_items)
    listed = shaped if show is None else [shaped[i] for i in show if i < len(shaped)]
    doc = {"description": description, "spec": spec,
           "expect": {"count": len(shaped), "num_few_shot_applied": applied, "items": listed}}
    write(name, doc)


def error_case(name, description, spec, code, contains):
    write(name, {"description": description, "spec": spec,
                 "expect": {"error": {"code": code, "contains": contains}}})


def write(name, doc):
    with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")


def main():
    three = ["Accounting", "Biology", "Korean-History"]
    kdir = f"{DS}/kmmlu"
    case("kmmlu_zero_shot", "KMMLU, three subsets, HRET's default template; ### 정답 removal, "
         "Unicode strip, falsy/out-of-range answers, quoted CSV, BOM + CRLF file, lower-case file name",
         {"name": "kmmlu", "data_dir": kdir, "subsets": three}, kmmlu(three, "test"))
    case("kmmlu_dev_5shot", "KMMLU 5-shot from the dev split (first 5 dev rows, all Accounting)",
         {"name": "kmmlu", "data_dir": kdir, "subsets": three, "num_few_shot": 5, "few_shot_split": "dev"},
         kmmlu(three, "test"), kmmlu(three, "dev"), show=[0, 8, 23])
    case("kmmlu_same_split_3shot", "KMMLU 3-shot from the test split itself: first 3 rows not scored",
         {"name": "kmmlu", "data_dir": kdir, "subsets": ["Accounting"], "num_few_shot": 3},
         kmmlu(["Accounting"], "test"))
    tmpl = "Q: {question}\n(A) {choice_A} (B) {choice_B} (C) {choice_C} (D) {choice_D}\n{{A}}:"
    case("kmmlu_user_template_limit", "KMMLU with a user template (escaped braces) and limit 3",
         {"name": "kmmlu", "data_dir": kdir, "subsets": ["biology"], "prompt_template": tmpl, "limit": 3},
         kmmlu(["Biology"], "test", tmpl))
    case("kmmlu_sample", "KMMLU seeded sample of 5 over three subsets",
         {"name": "kmmlu", "data_dir": kdir, "subsets": three, "sample_size": 5, "seed": 42},
         kmmlu(three, "test"))
    case("kmmlu_sample_fewshot_limit",
         "sample 10 (seed 7), then 2-shot from the sample with a custom instruction and template, then limit 4",
         {"name": "kmmlu", "data_dir": kdir, "subsets": three, "sample_size": 10, "seed": 7,
          "num_few_shot": 2, "few_shot_instruction": "", "few_shot_template": "Q: {input} A: {reference}\n",
          "limit": 4}, kmmlu(three, "test"))
    gk = ["general_knowledge", "loan_words"]
    case("haerae_zero_shot", "HAE-RAE: single space before the query, five fixed options",
         {"name": "haerae_bench", "data_dir": f"{DS}/haerae_bench", "subsets": gk}, haerae(gk, "test"))
    case("haerae_same_split_1shot", "HAE-RAE 1-shot from the same split, default instruction",
         {"name": "haerae_bench", "data_dir": f"{DS}/haerae_bench", "subsets": gk, "num_few_shot": 1},
         haerae(gk, "test"))
    case("hrm8k", "HRM8K as on the hub (HRM8K/<file>_test.csv), boxed template, stripped",
         {"name": "hrm8k", "data_dir": f"{DS}/hrm8k", "subsets": ["GSM8K", "KSM"]},
         hrm8k(["GSM8K", "KSM"], "test"))
    case("click", "CLIcK train split, own ids, choices joined with ', '",
         {"name": "click", "data_dir": f"{DS}/click", "split": "train"}, click("train"))
    case("k2_eval", "K2-Eval: raw stripped instruction, subject/ability as metadata",
         {"name": "k2_eval", "data_dir": f"{DS}/k2_eval"}, k2_eval("test"))
    case("k2_eval_template", "K2-Eval honours a user template (HRET ignores it: deliberate fix)",
         {"name": "k2_eval", "data_dir": f"{DS}/k2_eval", "prompt_template": "[지시]\n{instruction}"},
         k2_eval("test", "[지시]\n{instruction}"))
    case("kudge_pairwise", "KUDGE Pairwise: prediction and extra fields kept as metadata",
         {"name": "KUDGE", "data_dir": f"{DS}/kudge", "subsets": ["Pairwise"]}, kudge("Pairwise", "jsonl"))
    case("kudge_pointwise", "KUDGE Pointwise from CSV: judge_type constant from the absent column",
         {"name": "kudge", "data_dir": f"{DS}/kudge", "subsets": ["Pointwise"]}, kudge("Pointwise", "csv"))
    case("kormedmcqa_default", "KorMedMCQA default subsets: dentist/pharm absent and skipped; E null/empty "
         "left out; out-of-range answer gives ''",
         {"name": "kormedmcqa", "data_dir": f"{DS}/kormedmcqa"}, kormed(["doctor", "nurse"], "test"))
    case("kormedmcqa_dev_1shot", "KorMedMCQA doctor 1-shot from dev",
         {"name": "kormedmcqa", "data_dir": f"{DS}/kormedmcqa", "subsets": ["doctor"], "num_few_shot": 1,
          "few_shot_split": "dev"}, kormed(["doctor"], "test"), kormed(["doctor"], "dev"))
    bdir = f"{DS}/benchhub"
    case("benchhub_all", "BenchHub train: query building, reference order, options from list and '|' string",
         {"name": "benchhub", "data_dir": bdir, "split": "train"}, benchhub("train"))
    p = {"benchmark_names": ["kmmlu"], "subject_types": "CULTURE", "language": "en"}
    case("benchhub_filters", "BenchHub filters: case-insensitive substring, any element of a list field",
         {"name": "benchhub", "data_dir": bdir, "split": "train", "params": p}, benchhub("train", p))
    t = "{query}\n{options_str}\n[{benchmark_name}] {subject_type}"
    case("benchhub_template", "BenchHub template with options_str and columns; rows without options "
         "fall back to the raw query (KeyError)",
         {"name": "benchhub", "data_dir": bdir, "split": "train", "prompt_template": t},
         benchhub("train", None, t))
    p = {"sample_size": 3, "seed": 11}
    case("benchhub_sample_params", "BenchHub params.sample_size/seed (HRET's own sampling)",
         {"name": "benchhub", "data_dir": bdir, "split": "train", "params": p}, benchhub("train", p))
    case("generic_csv", "generic CSV: default columns, quoted newline, other columns as metadata",
         {"name": "generic", "data_dir": f"{DS}/generic/qa.csv"}, generic(f"{DS}/generic/qa.csv"))
    p = {"input_col": "question", "reference_col": "answer", "options_col": "choices", "id_col": "qid"}
    case("generic_tsv", "generic TSV with custom, options and id columns",
         {"name": "generic_file", "data_dir": f"{DS}/generic/qa.tsv", "params": p},
         generic(f"{DS}/generic/qa.tsv", p))
    case("generic_header_only", "a file with a header and no rows, with few-shot: nothing to score",
         {"name": "generic", "data_dir": f"{DS}/generic/header_only.csv", "num_few_shot": 2},
         generic(f"{DS}/generic/header_only.csv"))
    t = "문제: {input} (난이도 {level})"
    case("generic_jsonl_template", "generic JSONL: numbers and lists as text, a template using {input} and a column",
         {"name": "generic", "data_dir": f"{DS}/generic/qa.jsonl", "prompt_template": t},
         generic(f"{DS}/generic/qa.jsonl", None, t))

    error_case("error_missing_column", "a KMMLU file without column D",
               {"name": "kmmlu", "data_dir": f"{DS}/broken/kmmlu_missing_col", "subsets": ["Accounting"]},
               "invalid", ["data/Accounting-test.csv: missing column 'D'", "question, A, B, C, D, answer"])
    error_case("error_missing_file", "KMMLU default subsets: the second subset has no file",
               {"name": "kmmlu", "data_dir": kdir}, "invalid",
               ["no data file for subset 'Agricultural-Sciences'", "data/Agricultural-Sciences-test.{csv",
                "HAERAE-HUB/KMMLU"])
    error_case("error_missing_dir", "a data directory that does not exist",
               {"name": "kmmlu", "data_dir": f"{DS}/no_such_dir", "subsets": ["Accounting"]}, "invalid",
               ["no_such_dir' does not exist", "huggingface-cli download"])
    error_case("error_unknown_subset", "a subset KMMLU does not have",
               {"name": "kmmlu", "data_dir": kdir, "subsets": ["Astrology"]}, "config",
               ["unknown subset 'Astrology'", "valid: Accounting, Agricultural-Sciences"])
    error_case("error_parquet_only", "a .parquet data file that is not Parquet",
               {"name": "kmmlu", "data_dir": f"{DS}/broken/kmmlu_parquet", "subsets": ["Accounting"]},
               "invalid", ["Accounting-test.parquet", "not a Parquet file"])
    error_case("error_bad_jsonl_line", "generic JSONL with a broken third line",
               {"name": "generic", "data_dir": f"{DS}/generic/bad_line.jsonl"}, "invalid",
               ["bad_line.jsonl:3: invalid JSON"])
    error_case("error_bad_answer", "a KMMLU answer that is not a number",
               {"name": "kmmlu", "data_dir": f"{DS}/broken/kmmlu_bad_answer", "subsets": ["Accounting"]},
               "invalid", ["Accounting-test.csv:2: column 'answer': '둘' is not a number"])
    error_case("error_unknown_param", "params keys are checked",
               {"name": "kmmlu", "data_dir": kdir, "params": {"revision": "main"}}, "config",
               ["kmmlu: unknown params key 'revision'"])
    error_case("error_unknown_dataset", "a dataset name not in the registry",
               {"name": "kbl", "data_dir": kdir}, "config", ["unknown dataset 'kbl'", "kmmlu, haerae_bench"])
    error_case("error_template_placeholder", "a template field the dataset does not offer",
               {"name": "kmmlu", "data_dir": kdir, "prompt_template": "{question} {choice_E}"}, "config",
               ["unknown placeholder {choice_E}", "{choice_D}"])
    error_case("error_kudge_no_subset", "KUDGE needs a subset",
               {"name": "kudge", "data_dir": f"{DS}/kudge"}, "config", ["name a subset", "Pairwise-False"])
    error_case("error_kudge_split", "KUDGE is test-only",
               {"name": "kudge", "data_dir": f"{DS}/kudge", "subsets": ["Pairwise"], "split": "dev"}, "config",
               ["evaluation-only"])
    error_case("error_kormed_explicit_missing", "an explicitly named KorMedMCQA subset must exist",
               {"name": "kormedmcqa", "data_dir": f"{DS}/kormedmcqa", "subsets": ["dentist"]}, "invalid",
               ["no data file for subset 'dentist'", "dentist/test-*"])
    error_case("error_kormed_no_subset_present", "KorMedMCQA default subsets, none has the split",
               {"name": "kormedmcqa", "data_dir": f"{DS}/kormedmcqa", "split": "train"}, "invalid",
               ["no data file for subset 'dentist', split 'train'"])
    error_case("error_generic_missing_reference", "generic file without the reference column",
               {"name": "generic", "data_dir": f"{DS}/generic/no_reference.csv"}, "invalid",
               ["no_reference.csv: missing column 'reference'", "params.reference_col"])
    error_case("error_fewshot_split_missing", "a few-shot split that has no files",
               {"name": "kmmlu", "data_dir": kdir, "subsets": ["Accounting"], "num_few_shot": 2,
                "few_shot_split": "validation"}, "invalid",
               ["few-shot split 'validation'", "data/Accounting-validation"])


if __name__ == "__main__":
    main()
