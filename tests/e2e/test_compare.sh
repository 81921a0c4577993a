#!/usr/bin/env bash
# hret compare end to end: two hret runs against fake-llm on the same 2,000 synthetic items,
# model a at accuracy 0.55 and model b at 0.70. The fake decides per prompt with one uniform
# draw u = decide(hash, seed) and answers right iff u < accuracy, so a is right only where b is
# too: the discordant counts are exactly #(u < 0.55 and u >= 0.70) = 0 and
# #(0.55 <= u < 0.70), overall and per subset. B must come out better; a model compared with
# itself must show no significant difference; bad arguments exit 2.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 2000 --seed 11 >/dev/null
start_fake fake --answer-key "$work/synth/answer_key.tsv" --seed 5 --model-accuracy a=0.55 \
  --model-accuracy b=0.70
cat >"$work/hret_config.yaml" <<YAML
output_dir: $work/out
models:
  a: {base_url: "http://127.0.0.1:$port/v1", model: a, max_inflight: 100}
  b: {base_url: "http://127.0.0.1:$port/v1", model: b, max_inflight: 100}
YAML
for run in a:a b:b a:a2; do
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model "${run%%:*}" --quiet --output "$work/${run##*:}.json" >/dev/null
done

# 1. B better than A, with the discordant counts the decision rule predicts
"$hret" compare "$work/a.json" "$work/b.json" --json >"$work/ab.json"
python3 - "$work" <<'PY'
import json, sys, collections
work = sys.argv[1]
import os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import decide, fnv_hex
u = {}
for line in open(f"{work}/synth/answer_key.tsv", encoding="utf-8"):
    h = line.split("\t")[0]
    u[h] = decide(int(h, 16), 5)
want = collections.defaultdict(lambda: [0, 0, 0, 0])  # both, a_only, b_only, neither
for s in json.load(open(f"{work}/a.json", encoding="utf-8"))["results"][0]["samples"]:
    x = u[fnv_hex(s["input"])]
    ra, rb = x < 0.55, x < 0.70
    cell = 0 if ra and rb else 1 if ra else 2 if rb else 3
    for key in ("overall", s["_subset_name"]):
        want[key][cell] += 1
c = json.load(open(f"{work}/ab.json"))
o = c["overall"]
got = [o["both_right"], o["a_right_b_wrong"], o["a_wrong_b_right"], o["both_wrong"]]
assert got == want["overall"], (got, want["overall"])
assert o["a_right_b_wrong"] == 0 and o["a_wrong_b_right"] > 200, o
assert c["paired"] and c["shared_items"] == 2000 and c["excluded_errors"] == 0, c
assert c["only_in_a"] == 0 and c["only_in_b"] == 0 and c["test"] == "mcnemar_exact"
assert o["pairs"] == 2000 and abs(o["difference"] - want["overall"][2] / 2000) < 1e-12
assert o["difference_ci"][0] < o["difference"] < o["difference_ci"][1]
assert o["p_value"] < 1e-12 and c["significant"] and c["better"] == "b", o
assert c["verdict"].startswith("B is better than A by +"), c["verdict"]
assert len(c["subsets"]) == 45
for g in c["subsets"]:
    got = [g["both_right"], g["a_right_b_wrong"], g["a_wrong_b_right"], g["both_wrong"]]
    assert got == want[g["name"]], (g["name"], got, want[g["name"]])
    assert g["p_value"] <= g["p_holm"] <= 1
print(f"compare: {o['a_wrong_b_right']} discordant (A wrong, B right) as predicted; {c['verdict']}")
PY

# 2. the human report: summary, per-subset table truncated, verdict; deterministic
"$hret" compare "$work/a.json" "$work/b.json" >"$work/ab.txt"
grep -q "^paired on 2000 shared items (0 excluded for errors" "$work/ab.txt" || fail "summary line"
grep -q "^subsets, lowest p first (Holm-adjusted across 45 subsets):" "$work/ab.txt" \
  || fail "subset table header"
grep -q "^\.\.\. 25 more subsets (--json lists all)" "$work/ab.txt" || fail "subset truncation"
grep -q "^verdict: B is better than A by +" "$work/ab.txt" || fail "human verdict"
"$hret" compare "$work/a.json" "$work/b.json" --json >"$work/ab2.json"
cmp -s "$work/ab.json" "$work/ab2.json" || fail "same seed, different output"
"$hret" compare "$work/b.json" "$work/a.json" | grep -q "^verdict: B is worse than A by -" \
  || fail "reversed verdict"

# 3. the same model twice: no significant difference
"$hret" compare "$work/a.json" "$work/a2.json" >"$work/aa.txt"
grep -q "^verdict: no significant difference (McNemar p = 1)" "$work/aa.txt" \
  || { cat "$work/aa.txt"; fail "same-model verdict"; }

# 4. usage errors exit 2 and say why
expect_usage() { # message, args...
  local msg=$1
  shift
  set +e
  "$hret" compare "$@" >/dev/null 2>"$work/err.txt"
  local rc=$?
  set -e
  [ $rc -eq 2 ] || fail "compare $* exits $rc, want 2"
  grep -q "$msg" "$work/err.txt" || { cat "$work/err.txt"; fail "message for compare $*"; }
}
expect_usage "no such results file" "$work/a.json" "$work/missing.json"
expect_usage "not a results file" "$work/a.json" "$work/hret_config.yaml"
echo '{"metrics": {}}' >"$work/notresults.json"
expect_usage "not a results file" "$work/notresults.json" "$work/b.json"
echo '{"results": [{"samples": []}]}' >"$work/empty.json"
expect_usage "nothing to compare" "$work/a.json" "$work/empty.json"
expect_usage "usage: hret compare" "$work/a.json"
expect_usage "bootstrap" "$work/a.json" "$work/b.json" --bootstrap 0
echo "compare e2e: ok"
