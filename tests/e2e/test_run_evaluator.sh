#!/usr/bin/env bash
# External evaluators (config evaluators.<name>) with hret run against fake-llm: the example
# examples/evaluators/exact_ci.py scores a run with exactly the accuracy the fake's decision rule
# predicts; each failure mode (crash, signal, timeout, short output, malformed line, oversize
# line) makes exactly the affected samples errors with the reason, left out of the accuracy; a
# request naming an evaluator the config does not declare is refused by submit --dry-run.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 200 --seed 11 >/dev/null
start_fake good --answer-key "$work/synth/answer_key.tsv" --accuracy 0.55 --seed 3
# The failure modes: exact_ci's verdicts, broken as argv[1] says.
cat >"$work/broken_eval.py" <<'PY'
import json, os, signal, sys, time
mode = sys.argv[1]
lines = [json.loads(l) for l in sys.stdin]
out = []
for i, s in enumerate(lines):
    ok = s["prediction"].strip().casefold() == s["reference"].strip().casefold()
    out.append(json.dumps({"is_correct": ok}))
if mode == "malformed":
    out[1] = '{"is_correct": "yes"}'
    out[3] = "not json"
if mode == "oversize":
    out[2] = json.dumps({"is_correct": True, "normalized_pred": "x" * (2 << 20)})
if mode == "short":
    out = out[:3]
sys.stdout.write("\n".join(out) + "\n")
sys.stdout.flush()
if mode == "crash":
    sys.exit(3)
if mode == "signal":
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "timeout":
    # a child in the process group keeps stdout open: the whole group must be killed
    if os.fork() == 0:
        time.sleep(60)
    time.sleep(60)
PY
{
  echo "output_dir: $work/out"
  echo "models:"
  echo "  good: {base_url: \"http://127.0.0.1:$port/v1\", model: fake-model, max_inflight: 50}"
  echo "evaluators:"
  echo "  exact_ci: {command: [python3, \"$src/examples/evaluators/exact_ci.py\"], timeout_ms: 60000}"
  for m in crash signal timeout short malformed oversize; do
    echo "  $m: {command: [python3, \"$work/broken_eval.py\", $m], timeout_ms: 3000}"
  done
} >"$work/hret_config.yaml"
run() { # run NAME METHOD ARGS...
  local name=$1 method=$2
  shift 2
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model good --method "$method" --output "$work/$name.json" "$@" >"$work/$name.txt"
}

# 1. the example evaluator gives the accuracy the fake's decision rule predicts
run example exact_ci
python3 - "$work/example.json" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import decide, fnv_hex
d = json.load(open(sys.argv[1], encoding="utf-8"))
samples = d["results"][0]["samples"]
assert len(samples) == 200, len(samples)
want = sum(decide(int(fnv_hex(s["input"]), 16), 3) < 0.55 for s in samples)
m = d["metrics"]
assert m["errors"] == 0 and m["answered"] == 200, m
assert m["correct"] == want and abs(m["accuracy"] - want / 200) < 1e-12, (m, want)
for s in samples:
    e = s["evaluation"]
    assert e["normalized_ref"] == s["reference"].strip().casefold(), e
    assert e["is_correct"] == (e["normalized_pred"] == e["normalized_ref"]), e
print(f"example: {want}/200 correct as predicted")
PY

# 2. each failure mode: which samples became errors, and why
check() { # check NAME "ERROR INDEXES" REASON
  python3 - "$work/$1.json" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
bad = {int(i) for i in sys.argv[2].split()}
reason = sys.argv[3]
samples = d["results"][0]["samples"]
assert len(samples) == 5
for i, s in enumerate(samples):
    if i in bad:
        assert s.get("error") and reason in s["error"], (i, s.get("error"), reason)
        assert "evaluation" not in s and s["prediction"] is not None, s
    else:
        assert not s.get("error") and "is_correct" in s["evaluation"], (i, s)
m = d["metrics"]
assert m["errors"] == len(bad) and m["answered"] == 5 - len(bad), m
good = [s for i, s in enumerate(samples) if i not in bad]
if good:
    want = sum(s["evaluation"]["is_correct"] for s in good) / len(good)
    assert abs(m["accuracy"] - want) < 1e-12, (m, want)
PY
}
set +e
for mode in crash signal timeout short malformed oversize; do
  run "$mode" "$mode" --limit 5 2>"$work/$mode.err"
  echo "$mode: exit $?" >>"$work/rcs.txt"
done
set -e
check crash "0 1 2 3 4" "evaluator 'crash' crashed: exit status 3"
check signal "0 1 2 3 4" "evaluator 'signal' crashed: killed by signal 9"
check timeout "0 1 2 3 4" "evaluator 'timeout' timed out after 3000 ms"
check short "3 4" "evaluator 'short': short output: 3 verdict lines for 5 samples"
check malformed "1 3" "evaluator 'malformed': line "
python3 - "$work/malformed.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1], encoding="utf-8"))["results"][0]["samples"]
assert s[1]["error"].endswith('line 2 is malformed: "is_correct" must be true or false'), s[1]
assert "line 4 is malformed: not a JSON object" in s[3]["error"], s[3]
PY
check oversize "2" "evaluator 'oversize': line 3 exceeds 1048576 bytes"
# the timed-out evaluator's process group is gone (its sleeping child too)
! pgrep -f "$work/broken_eval.py" >/dev/null || fail "timed-out evaluator still running"

# 3. requests pick an evaluator by name; an unconfigured one is refused at submit time
"$hret" submit --config "$work/hret_config.yaml" --dataset kmmlu --model good \
  --method exact_ci --dry-run >"$work/req.json" || fail "submit refused a configured evaluator"
set +e
"$hret" submit --config "$work/hret_config.yaml" --dataset kmmlu --model good \
  --method nowhere --dry-run >/dev/null 2>"$work/submit.err"
rc=$?
set -e
[ $rc -eq 2 ] || fail "unconfigured evaluator: submit exits $rc, want 2"
grep -q "unknown evaluation method 'nowhere'.*configured evaluators: exact_ci, crash" \
  "$work/submit.err" || fail "submit message: $(cat "$work/submit.err")"
echo "ok"
