#!/usr/bin/env python3
"""The same rows as Parquet (as the Hugging Face hub serves them) and as CSV, for the loader
parity test (tests/integration/test_parquet_datasets.c) and the Parquet `hret run` e2e test.

    gen_hub.py OUT      (run with deploy/local/pyvenv.sh pyarrow's venv)

Writes OUT/parquet/<dataset>/... in the hub's layout (`<config>/<split>-0000K-of-0000N.parquet`
shards as push_to_hub writes them, BenchHub and K2-Eval under data/), OUT/csv/<dataset>/... with
the same rows in the same layout (one .csv per shard, cells as the Parquet reader gives them:
lists as JSON arrays, floats as repr), and OUT/cases.json: [{"name", "subsets", "split",
"params", "num_few_shot"}] to load from both.
"""
import csv
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return str(v)


def write(out, dataset, stem, rows, schema, shards=1):
    """rows split into shards files named <stem>-0000K-of-0000N.{parquet,csv}."""
    per = (len(rows) + shards - 1) // shards
    for k in range(shards):
        part = rows[k * per:(k + 1) * per]
        name = f"{stem}-{k:05d}-of-{shards:05d}"
        for kind in ("parquet", "csv"):
            path = os.path.join(out, kind, dataset, name + "." + kind)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if kind == "parquet":
                table = pa.Table.from_pylist(part, schema=schema)
                pq.write_table(table, path, compression="snappy", row_group_size=7)
                continue
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(schema.names)
                for row in part:
                    w.writerow([cell(row[n]) for n in schema.names])


def haerae(out):
    schema = pa.schema([("query", pa.string()), ("answer", pa.string()), ("options", pa.string())])
    for subset in ("general_knowledge", "loan_words"):
        rows = [{"query": f"{subset} 질문 {i}: 다음 중 옳은 것은?\n(A) 가\n(B) 나\n(C) 다\n"
                          f"(D) 라\n(E) 마\n### 정답:",
                 "answer": f" ({'ABCDE'[i % 5]}) ", "options": None} for i in range(23)]
        write(out, "haerae_bench", f"{subset}/test", rows, schema, shards=2)


def kormedmcqa(out):
    schema = pa.schema([("subject", pa.string()), ("year", pa.int64()), ("period", pa.int64()),
                        ("q_number", pa.int64()), ("question", pa.string()), ("A", pa.string()),
                        ("B", pa.string()), ("C", pa.string()), ("D", pa.string()),
                        ("E", pa.string()), ("answer", pa.int64()), ("cot", pa.string())])
    for subset in ("doctor", "nurse"):
        for split, n in (("test", 17), ("dev", 5)):
            rows = [{"subject": subset, "year": 2020 + i % 4, "period": 1 + i % 2, "q_number": i,
                     "question": f" {subset} 문제 {i}: 가장 적절한 처치는? ",
                     "A": f"처치 A{i}", "B": f"처치 B{i}", "C": f" 처치 C{i} ", "D": f"처치 D{i}",
                     "E": None if i % 3 == 0 else f"처치 E{i}", "answer": 1 + i % 5,
                     "cot": None if i % 2 else f"풀이 {i}"} for i in range(n)]
            write(out, "kormedmcqa", f"{subset}/{split}", rows, schema)


def benchhub(out):
    schema = pa.schema([("problem_type", pa.string()), ("context", pa.string()),
                        ("prompt", pa.string()), ("options", pa.list_(pa.string())),
                        ("answer", pa.string()), ("answer_str", pa.string()),
                        ("reference", pa.string()), ("task_type", pa.string()),
                        ("target_type", pa.string()), ("subject_type", pa.list_(pa.string())),
                        ("benchmark_name", pa.string()), ("split", pa.string())])
    rows = []
    for i in range(31):
        mcqa = i % 3 != 2
        rows.append({"problem_type": "MCQA" if mcqa else "Open-ended",
                     "context": "" if i % 2 else f"다음 글을 읽고 답하시오.\n글 {i}",
                     "prompt": f"질문 {i}?", "options": [f"보기 {k}" for k in range(4)] if mcqa
                     else [], "answer": str(1 + i % 4) if mcqa else "",
                     "answer_str": f"보기 {i % 4}" if mcqa else "",
                     "reference": "" if mcqa else f"정답 {i}",
                     "task_type": ["knowledge", "reasoning"][i % 2],
                     "target_type": ["general", "local"][i % 2],
                     "subject_type": [["culture", "korea"], ["science/math"], ["language"]][i % 3],
                     "benchmark_name": ["KMMLU", "HAE-RAE Bench", "CLIcK"][i % 3],
                     "split": "train"})
    write(out, "benchhub", "data/train", rows, schema, shards=3)


def k2_eval(out):
    schema = pa.schema([("instruction", pa.string()), ("subject", pa.string()),
                        ("ability", pa.string())])
    rows = [{"instruction": f"  한국의 명절 {i}에 대해 설명하시오. ", "subject": f" 문화 {i % 3} ",
             "ability": ["이해", "추론"][i % 2]} for i in range(19)]
    write(out, "k2_eval", "data/test", rows, schema)


def kudge(out):
    pair = pa.schema([("judge_query", pa.string()), ("chosen_response", pa.string()),
                      ("rejected_response", pa.string()), ("chosen_model", pa.string()),
                      ("rejected_model", pa.string()), ("winner", pa.string())])
    rows = [{"judge_query": f"두 응답을 비교하시오 {i}", "chosen_response": f"좋은 응답 {i}",
             "rejected_response": f"나쁜 응답 {i}", "chosen_model": "model-a",
             "rejected_model": "model-b", "winner": "AB"[i % 2]} for i in range(11)]
    write(out, "kudge", "Pairwise/test", rows, pair)
    point = pa.schema([("judge_query", pa.string()), ("response", pa.string()),
                       ("final_score", pa.float64())])
    rows = [{"judge_query": f"응답을 1-5점으로 평가하시오 {i}", "response": f"응답 {i}",
             "final_score": [1.0, 2.5, 4.0, 5.0][i % 4]} for i in range(13)]
    write(out, "kudge", "Pointwise/test", rows, point)


CASES = [
    {"name": "haerae_bench", "subsets": ["general_knowledge", "loan_words"], "split": "test"},
    {"name": "kormedmcqa", "subsets": ["doctor", "nurse"], "split": "test", "num_few_shot": 2,
     "few_shot_split": "dev"},
    {"name": "benchhub", "split": "train"},
    {"name": "benchhub", "split": "train", "params": {"problem_types": "MCQA",
                                                       "subject_types": ["korea", "math"]}},
    {"name": "k2_eval", "split": "test"},
    {"name": "kudge", "subsets": ["Pairwise"], "split": "test"},
    {"name": "kudge", "subsets": ["Pointwise"], "split": "test"},
]


def main():
    out = sys.argv[1]
    for gen in (haerae, kormedmcqa, benchhub, k2_eval, kudge):
        gen(out)
    with open(os.path.join(out, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(CASES, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
