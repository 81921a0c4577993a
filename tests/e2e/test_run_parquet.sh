#!/usr/bin/env bash
# hret run on a directory of Parquet shards as the hub serves HAE-RAE Bench (two configs, two
# shards each, tests/data/parquet/gen_hub.py in deploy/local/pyvenv.sh pyarrow's venv) against
# fake-llm: the same predictions, verdicts and metrics as the same rows given as CSV.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

venv=$(bash "$src/deploy/local/pyvenv.sh" pyarrow)
"$venv/bin/python" "$src/tests/data/parquet/gen_hub.py" "$work/hub"
ls "$work/hub/parquet/haerae_bench/loan_words/test-00001-of-00002.parquet" >/dev/null
[ -z "$(find "$work/hub/parquet" -name '*.csv')" ] || fail "the Parquet tree holds CSV"

# An answer key from the prompts: correct = the reference, wrong = another label.
start_fake plain
cat >"$work/plain.yaml" <<YAML
output_dir: $work/out
models:
  fake: {base_url: "http://127.0.0.1:$port/v1", model: fake-model}
YAML
"$hret" run --config "$work/plain.yaml" --dataset haerae_bench --data-dir "$work/hub/csv/haerae_bench" \
  --subset general_knowledge,loan_words --model fake --output "$work/key_run.json" >/dev/null
python3 - "$work" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import fnv_hex
work = sys.argv[1]
doc = json.load(open(f"{work}/key_run.json", encoding="utf-8"))
with open(f"{work}/key.tsv", "w", encoding="utf-8") as f:
    for s in doc["results"][0]["samples"]:
        wrong = "(B)" if s["reference"] != "(B)" else "(C)"
        f.write(f"{fnv_hex(s['input'])}\t정답: {s['reference']}\t정답: {wrong}\n")
PY

start_fake keyed --answer-key "$work/key.tsv" --accuracy 0.6 --seed 3
cat >"$work/keyed.yaml" <<YAML
output_dir: $work/out
models:
  fake: {base_url: "http://127.0.0.1:$port/v1", model: fake-model}
YAML
for kind in parquet csv; do
  "$hret" run --config "$work/keyed.yaml" --dataset haerae_bench \
    --data-dir "$work/hub/$kind/haerae_bench" --model fake --subset general_knowledge,loan_words \
    --output "$work/$kind.json" >"$work/$kind.txt" || fail "hret run on $kind: $(cat "$work/$kind.txt")"
done
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
pq = json.load(open(f"{work}/parquet.json", encoding="utf-8"))
csv = json.load(open(f"{work}/csv.json", encoding="utf-8"))
a, b = pq["results"][0]["samples"], csv["results"][0]["samples"]
assert len(a) == len(b) == 46, (len(a), len(b))
for x, y in zip(a, b):
    for k in ("input", "reference", "options", "prediction", "_subset_name"):
        assert x[k] == y[k], (k, x[k], y[k])
    assert x["evaluation"]["is_correct"] == y["evaluation"]["is_correct"]
m, n = pq["metrics"], csv["metrics"]
assert 0 < m["accuracy"] < 1, m["accuracy"]
for k in m:
    if k != "elapsed_time_sec" and not k.endswith("_ms") and not k.endswith("_sec"):
        assert m[k] == n[k], (k, m[k], n[k])
print(f"parquet and csv: accuracy {m['accuracy']:.3f} over {len(a)} samples, identical")
PY
