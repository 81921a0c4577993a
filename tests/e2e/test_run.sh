#!/usr/bin/env bash
# hret run end to end against fake-llm: a synthetic KMMLU-shaped set with an answer key gives
# exactly the accuracy the fake's decision rule predicts, per subset too; endpoint failures are
# errors (never wrong answers); Ctrl-C keeps the completed samples, marked partial.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"


python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 3000 --seed 7 >/dev/null
start_fake bad --status 500
bad_port=$port
start_fake slow --latency-ms 300
slow_port=$port
start_fake good --answer-key "$work/synth/answer_key.tsv" --accuracy 0.62 --seed 5 --jitter-ms 3
cat >"$work/hret_config.yaml" <<YAML
output_dir: $work/out
models:
  good: {base_url: "http://127.0.0.1:$port/v1", model: fake-model, max_inflight: 200}
  broken: {base_url: "http://127.0.0.1:$bad_port/v1", model: fake-model, max_retries: 1}
  slow: {base_url: "http://127.0.0.1:$slow_port/v1", model: fake-model, max_inflight: 4}
YAML

# 1. exact expected accuracy
"$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
  --model good --run-name exact --output "$work/exact.json" >"$work/exact.txt"
python3 - "$work" <<'PY'
import json, sys, collections
work = sys.argv[1]
import os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import decide, fnv_hex
key = {}
for line in open(f"{work}/synth/answer_key.tsv", encoding="utf-8"):
    h = line.rstrip("\n").split("\t")[0]
    key[h] = decide(int(h, 16), 5) < 0.62
doc = json.load(open(f"{work}/exact.json", encoding="utf-8"))
samples = doc["results"][0]["samples"]
assert len(samples) == 3000, len(samples)
want = collections.Counter(); got = collections.Counter(); n = collections.Counter()
for s in samples:
    ok = key[fnv_hex(s["input"])]
    sub = s["_subset_name"]
    want[sub] += ok
    got[sub] += s["evaluation"]["is_correct"]
    n[sub] += 1
    assert s["prediction"] is not None
    assert s["evaluation"]["normalized_ref"] == s["reference"].lower()
m = doc["metrics"]
assert m["correct"] == sum(want.values()), (m["correct"], sum(want.values()))
assert abs(m["accuracy"] - sum(want.values()) / 3000) < 1e-12
for sub in n:
    assert got[sub] == want[sub], sub
    assert abs(m[f"{sub}/accuracy"] - want[sub] / n[sub]) < 1e-12, sub
assert m["errors"] == 0 and m["answered"] == 3000
assert doc["run_metadata"]["partial"] is False
assert doc["results"][0]["info"]["dataset_name"] == "kmmlu"
print(f"exact: {m['correct']}/3000 correct as predicted, {len(n)} subsets")
PY
grep -q "accuracy   0\.6" "$work/exact.txt" || fail "summary does not show the accuracy"

# 2. a failing endpoint: errors, not wrong answers; exit 1 when nothing was answered
set +e
"$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
  --model broken --limit 20 --output "$work/broken.json" >"$work/broken.txt" 2>"$work/broken.err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "all-error run exits $rc, want 1"
grep -q "every request failed" "$work/broken.err" || fail "all-error message"
python3 - "$work/broken.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = d["metrics"]
assert m["errors"] == 20 and m["answered"] == 0 and m["accuracy"] is None, m
s = d["results"][0]["samples"][0]
assert s["prediction"] is None and s["error_class"] == "unavailable" and "HTTP 500" in s["error"], s
assert "evaluation" not in s and s["attempts"] == 2
PY

# 3. Ctrl-C: stop, keep what finished, marked partial
"$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
  --model slow --limit 400 --output "$work/partial.json" >"$work/partial.txt" 2>&1 &
run_pid=$!
sleep 1.5
kill -INT $run_pid
set +e
wait $run_pid
rc=$?
set -e
[ $rc -eq 130 ] || fail "interrupted run exits $rc, want 130 (SIGINT, after saving)"
python3 - "$work/partial.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n = len(d["results"][0]["samples"])
assert d["run_metadata"]["partial"] is True and 0 < n < 400, n
assert d["metrics"]["total"] == n and d["run_metadata"]["planned_samples"] == 400
print(f"partial: {n} of 400 kept")
PY

# 4. usage errors name what to fix
set +e
"$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
  --model nope 2>"$work/err.txt"
rc=$?
set -e
[ $rc -eq 2 ] || fail "unknown model exits $rc"
grep -q "model 'nope' is not in the config's models: good broken slow" "$work/err.txt" \
  || fail "unknown model message"
echo "run e2e: ok"
