#!/usr/bin/env bash
# hret run gives exactly the samples it gave before samples were streamed (issue 25, flat
# memory): on a seeded synthetic KMMLU set (tests/data/gen_kmmlu_synth.py) against fake-llm,
# with --limit, seeded --sample-size, few-shot from the same split (examples excluded from
# scoring) and from dev, subset filters and the whole set, every sample's position, id, prompt
# hash, reference, prediction and verdict, the metrics (timings aside) and the dataset version
# equal tests/data/run_stream/expected.json, which the code before streaming wrote.
# HRET_RUN_STREAM_WRITE=PATH writes the expectation there instead of comparing.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/syn" --items 2000 --seed 1 >/dev/null
start_fake keyed --answer-key "$work/syn/answer_key.tsv" --accuracy 0.6 --seed 3
cat >"$work/cfg.yaml" <<YAML
output_dir: $work/out
models:
  fake: {base_url: "http://127.0.0.1:$port/v1", model: fake-model, max_inflight: 16}
YAML

cases=(
  "whole|"
  "limit_fewshot_same|--limit 300 --num-few-shot 2"
  "sample_fewshot_dev|--sample-size 500 --seed 11 --limit 200 --num-few-shot 3 --few-shot-split dev"
  "subsets_sample|--subset Accounting,Math,Law --sample-size 150 --seed 5"
  "sample_fewshot_same|--sample-size 400 --seed 2 --num-few-shot 1"
)
for c in "${cases[@]}"; do
  name=${c%%|*}
  read -r -a opts <<<"${c#*|}"
  "$hret" run --config "$work/cfg.yaml" --dataset kmmlu --data-dir "$work/syn" --model fake \
    --quiet "${opts[@]}" --output "$work/$name.json" >"$work/$name.txt" 2>&1 ||
    fail "hret run $name: $(cat "$work/$name.txt")"
done

python3 - "$work" "$src/tests/data/run_stream/expected.json" "${HRET_RUN_STREAM_WRITE:-}" \
  "${cases[@]%%|*}" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import fnv_hex
work, expected_path, write, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
TIMED = ("latency", "elapsed", "_sec", "per_s", "duration")

def digest(doc):
    res = doc["results"][0]
    samples = [[i, s["id"], fnv_hex(s["input"]), s["reference"], s["_subset_name"],
                s["prediction"], s["evaluation"]["is_correct"]]
               for i, s in enumerate(res["samples"])]
    metrics = {k: v for k, v in doc["metrics"].items() if not any(t in k for t in TIMED)}
    info = res["info"]
    return {"samples": samples, "metrics": metrics,
            "dataset_version": info["dataset_version"],
            "num_few_shot_applied": info["num_few_shot_applied"],
            "planned": doc["run_metadata"]["planned_samples"]}

got = {n: digest(json.load(open(f"{work}/{n}.json", encoding="utf-8"))) for n in names}
if write:
    with open(write, "w", encoding="utf-8") as f:
        json.dump(got, f, ensure_ascii=False, indent=0, sort_keys=True)
        f.write("\n")
    print(f"wrote {write}")
    sys.exit(0)
want = json.load(open(expected_path, encoding="utf-8"))
assert sorted(want) == sorted(got), (sorted(want), sorted(got))
for n in names:
    w, g = want[n], got[n]
    assert len(w["samples"]) == len(g["samples"]), (n, len(w["samples"]), len(g["samples"]))
    for a, b in zip(w["samples"], g["samples"]):
        assert a == b, (n, "sample differs", a, b)
    for k in ("metrics", "dataset_version", "num_few_shot_applied", "planned"):
        assert w[k] == g[k], (n, k, w[k], g[k])
    acc = g["metrics"].get("accuracy")
    print(f"{n}: {len(g['samples'])} samples, accuracy {acc}, version {g['dataset_version']}: as before")
PY
