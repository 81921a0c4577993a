#!/usr/bin/env python3
"""Generates a large synthetic KMMLU-shaped dataset and the answer key for the fake model server.

    python3 tests/data/gen_kmmlu_synth.py --out DIR [--items 35030] [--seed 1]

DIR gets the KMMLU layout hret's kmmlu loader reads (as `huggingface-cli download
HAERAE-HUB/KMMLU` leaves it): DIR/data/<Subset>-test.csv and DIR/data/<Subset>-dev.csv for the 45
subsets (Korean-History and Math as korean-history-*.csv and math-*.csv), columns question,
answer, A, B, C, D, Category, Human Accuracy. The test rows are spread over the subsets in
proportion to KMMLU's real per-subset test sizes (which sum to 35,030), by largest remainder, so
--items 35030 reproduces those sizes exactly; every subset also gets 5 dev rows. The text is
generated nonsense in Korean, not benchmark content.

DIR/answer_key.tsv has one line per test item, in the loader's order (subsets in KMMLU's list
order, rows in file order): "<hash>\\t<correct>", where <hash> is the 16-lowercase-hex FNV-1a-64
of the UTF-8 bytes of the prompt exactly as the loader renders it (zero-shot, HRET's default
template) and <correct> is HRET's reference form, e.g. "(B)". --prompt-suffix TEXT hashes the
prompt with TEXT appended (what a request's prompt_suffix sends); --wrong TEXT adds a third
column, the answer given when the fake model answers wrong. Standard library only.
"""
import argparse
import csv
import os
import random

# KMMLU's subsets in HRET's order with their real test-split sizes (sum 35,030).
SUBSETS = [
    ("Accounting", 100), ("Agricultural-Sciences", 1000), ("Aviation-Engineering-and-Maintenance", 1000),
    ("Biology", 1000), ("Chemical-Engineering", 1000), ("Chemistry", 600), ("Civil-Engineering", 1000),
    ("Computer-Science", 1000), ("Construction", 1000), ("Criminal-Law", 200), ("Ecology", 1000),
    ("Economics", 130), ("Education", 100), ("Electrical-Engineering", 1000),
    ("Electronics-Engineering", 1000), ("Energy-Management", 1000), ("Environmental-Science", 1000),
    ("Fashion", 1000), ("Food-Processing", 1000), ("Gas-Technology-and-Engineering", 1000),
    ("Geomatics", 1000), ("Health", 100), ("Industrial-Engineer", 1000), ("Information-Technology", 1000),
    ("Interior-Architecture-and-Design", 1000), ("Law", 1000), ("Machine-Design-and-Manufacturing", 1000),
    ("Management", 1000), ("Maritime-Engineering", 600), ("Marketing", 1000), ("Materials-Engineering", 1000),
    ("Mechanical-Engineering", 1000), ("Nondestructive-Testing", 1000), ("Patent", 100),
    ("Political-Science-and-Sociology", 300), ("Psychology", 1000), ("Public-Safety", 1000),
    ("Railway-and-Automotive-Engineering", 1000), ("Real-Estate", 200), ("Refrigerating-Machinery", 1000),
    ("Social-Welfare", 1000), ("Taxation", 200), ("Telecommunications-and-Wireless-Technology", 1000),
    ("Korean-History", 100), ("Math", 300),
]
TOTAL = sum(n for _, n in SUBSETS)
LOWER_FILES = {"Korean-History", "Math"}

TEMPLATE = (
    "다음은 객관식 문제입니다. 당신의 추론 과정을 간결하게 요약한 후, "
    "\"따라서, 정답은: X\"라고 결론지으십시오. 여기서 X는 (A), (B), (C), (D) 중 하나입니다.\n\n"
    "질문: {question}\n"
    "A. {choice_A}\n"
    "B. {choice_B}\n"
    "C. {choice_C}\n"
    "D. {choice_D}"
)
LABELS = ["(A)", "(B)", "(C)", "(D)"]

NOUNS = ["장치", "구조", "원리", "방법", "제도", "기준", "공정", "재료", "신호", "회로", "비용", "효율",
         "압력", "온도", "하중", "규정", "계약", "시장", "자료", "모형", "측정", "검사", "설계", "관리"]
VERBS = ["증가시킨다", "감소시킨다", "유지한다", "변환한다", "측정한다", "보호한다", "분석한다", "제한한다"]
ADJS = ["적절한", "옳은", "틀린", "가장 중요한", "일반적인", "주된", "올바르지 않은", "대표적인"]


def sizes_for(n):
    """Per-subset test sizes proportional to KMMLU's, summing to n (largest remainder)."""
    exact = [n * size / TOTAL for _, size in SUBSETS]
    base = [int(x) for x in exact]
    order = sorted(range(len(SUBSETS)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[: n - sum(base)]:
        base[i] += 1
    return base


def phrase(rng):
    return f"{rng.choice(NOUNS)}의 {rng.choice(NOUNS)}을(를) {rng.choice(VERBS)}"


def make_row(rng, subset, split, i):
    """One raw CSV row (question, answer, A, B, C, D, Category, Human Accuracy)."""
    q = (f"[{subset} {split} {i}] {rng.choice(NOUNS)}에 관한 설명으로 {rng.choice(ADJS)} 것은? "
         f"{phrase(rng)}는 경우를 고려하시오.")
    roll = rng.random()
    if roll < 0.05:
        q += "\n### 정답"  # removed by the loader, as HRET does
    elif roll < 0.10:
        q = "  " + q + " \n"  # stripped by the loader
    elif roll < 0.15:
        q += f"\n조건: \"{rng.choice(NOUNS)}\", {rng.randint(1, 999)}kPa, {rng.randint(1, 99)}%"
    choices = [phrase(rng) + ("," if rng.random() < 0.1 else "") for _ in range(4)]
    if rng.random() < 0.05:
        choices[rng.randrange(4)] = " " + choices[0] + "\u3000"
    answer = rng.randint(1, 4)
    return [q, answer, *choices, subset.lower(), f"{rng.random():.4f}"]


def render(row):
    q, _, a, b, c, d = row[:6]
    return TEMPLATE.format(question=q.replace("### 정답", "").strip(), choice_A=a.strip(),
                           choice_B=b.strip(), choice_C=c.strip(), choice_D=d.strip())


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def write_split(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["question", "answer", "A", "B", "C", "D", "Category", "Human Accuracy"])
        w.writerows(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--items", type=int, default=TOTAL, help="test items in all (default 35030)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--prompt-suffix", default="", help="text appended to each prompt before hashing")
    ap.add_argument("--wrong", default=None, help="the wrong answer (third column of the key)")
    args = ap.parse_args()
    if args.items < 0:
        ap.error("--items must be >= 0")
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.out, "data"), exist_ok=True)
    with open(os.path.join(args.out, "answer_key.tsv"), "w", encoding="utf-8", newline="\n") as key:
        for (subset, _), n in zip(SUBSETS, sizes_for(args.items)):
            stem = subset.lower() if subset in LOWER_FILES else subset
            dev = [make_row(rng, subset, "dev", i) for i in range(5)]
            write_split(os.path.join(args.out, "data", f"{stem}-dev.csv"), dev)
            test = [make_row(rng, subset, "test", i) for i in range(n)]
            write_split(os.path.join(args.out, "data", f"{stem}-test.csv"), test)
            for row in test:
                digest = fnv1a64((render(row) + args.prompt_suffix).encode("utf-8"))
                wrong = "" if args.wrong is None else f"\t{args.wrong}"
                key.write(f"{digest:016x}\t{LABELS[row[1] - 1]}{wrong}\n")


if __name__ == "__main__":
    main()
