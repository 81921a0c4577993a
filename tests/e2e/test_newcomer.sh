#!/usr/bin/env bash
# The README's newcomer path ("Evaluating your own model"), line by line, against fake-llm and a
# real PostgreSQL: the config block as written (only the port changed), hret run on a small
# KMMLU-shaped set, hret score of the results, a second run and hret compare, then runs stored
# with --db, listed and compared by name. Every command is checked to be the README's own line
# (so the README cannot drift from what is tested), and its output and exit status are checked;
# so are the mistakes a newcomer makes next (a missing file, an unknown model or run).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
extra_cleanup() { pg_teardown; }

# The README's block: from "Evaluating your own model:" to the end of its ```sh fence.
readme=$(awk '/^Evaluating your own model:/ {on = 1; next} on && /^```sh/ {inside = 1; next}
  inside && /^```/ {exit} inside' "$src/README.md")
[ -n "$readme" ] || fail "README has no 'Evaluating your own model' block"

# step WANT_STATUS 'LINE': LINE must be a line of the README block as written (a trailing
# comment allowed); it runs in $work with build/hret meaning the hret under test and $HRET_PG
# the test's database. stdout in $work/out, stderr in $work/err.
step() {
  local want=$1 line=$2 rc
  grep -qxF -- "$line" <<<"$(sed -E 's/ +# .*$//' <<<"$readme")" ||
    fail "the README's newcomer block has no line '$line'"
  set +e
  (cd "$work" && eval "\"\$hret\"${line#build/hret}") >"$work/out" 2>"$work/err"
  rc=$?
  set -e
  [ $rc -eq "$want" ] || fail "'$line' exits $rc, want $want: $(tail -5 "$work/err")"
}

# data/kmmlu as huggingface-cli would leave it (synthetic, with the fake's answer key), and the
# README's config with the fake's port
grep -q '^huggingface-cli download --repo-type dataset HAERAE-HUB/KMMLU --local-dir data/kmmlu$' \
  <<<"$readme" || fail "README no longer downloads into data/kmmlu"
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/data/kmmlu" --items 4000 --seed 7 >/dev/null
write_config() { # port
  awk '/^cat > hret_config.yaml <</ {on = 1; next} on && /^YAML$/ {exit} on' <<<"$readme" |
    sed "s#http://127.0.0.1:8000/v1#http://127.0.0.1:$1/v1#" >"$work/hret_config.yaml"
  grep -q "127.0.0.1:$1/v1" "$work/hret_config.yaml" || fail "README config has no base_url to point"
}
start_fake base --answer-key "$work/data/kmmlu/answer_key.tsv" --accuracy 0.55 --seed 5
write_config "$port"

# 1. hret run: exit 0, a summary with the accuracy, a results JSON of Accounting and Law
step 0 'build/hret run --dataset kmmlu --subset Accounting,Law --model my-model --output base.json'
grep -qE '^ *accuracy +[0-9.]+' "$work/out" || fail "run prints no accuracy: $(cat "$work/out")"
python3 - "$work" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import decide, fnv_hex
work = sys.argv[1]
key = {}
for line in open(f"{work}/data/kmmlu/answer_key.tsv", encoding="utf-8"):
    key[line.split("\t")[0]] = True
doc = json.load(open(f"{work}/base.json", encoding="utf-8"))
samples = [s for block in doc["results"] for s in block["samples"]]
subsets = {s["_subset_name"] for s in samples}
assert subsets == {"Accounting", "Law"}, subsets
right = sum(decide(int(fnv_hex(s["input"]), 16), 5) < 0.55 for s in samples)
m = doc["metrics"]
assert m["errors"] == 0 and m["answered"] == len(samples), m
assert m["correct"] == right, (m["correct"], right)
assert abs(m["accuracy"] - right / len(samples)) < 1e-12
print(f"newcomer: base {right}/{len(samples)} as the fake decides")
PY

# 2. hret score of the results file: one line per sample, the same verdicts, no model calls
step 0 'build/hret score --input base.json --output rescored.jsonl'
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
doc = json.load(open(f"{work}/base.json", encoding="utf-8"))
samples = [s for block in doc["results"] for s in block["samples"]]
lines = [json.loads(l) for l in open(f"{work}/rescored.jsonl", encoding="utf-8")]
assert len(lines) == len(samples), (len(lines), len(samples))
for s, l in zip(samples, lines):
    assert l["is_correct"] == s["evaluation"]["is_correct"], (s, l)
PY

# 3. a better-served model, run again, compare: B better, each run's own accuracy in its header
start_fake new --answer-key "$work/data/kmmlu/answer_key.tsv" --accuracy 0.8 --seed 5
write_config "$port"
step 0 'build/hret run --dataset kmmlu --subset Accounting,Law --model my-model --output new.json'
step 0 'build/hret compare base.json new.json'
grep -q "^verdict: B is better than A" "$work/out" || fail "compare: $(cat "$work/out")"
grep -qE '^A: base.json \(model my-model\): [0-9]+ items, 0 errors; accuracy' "$work/out" ||
  fail "compare header A: $(grep '^A:' "$work/out")"

# 4. PostgreSQL: a named run, listed, compared by name
pg_setup
step 0 'build/hret run --dataset kmmlu --subset Accounting,Law --model my-model --run-name baseline --db "$HRET_PG"'
grep -q "stored *run " "$work/out" || fail "run --db does not say where it stored: $(cat "$work/out")"
step 0 'build/hret runs list --db "$HRET_PG"'
grep -qE '^[0-9a-f]{8} .* completed .* my-model .* kmmlu .* baseline$' "$work/out" ||
  fail "runs list: $(cat "$work/out")"
step 0 'build/hret compare baseline new.json --db "$HRET_PG"'
grep -qE '^A: run [0-9a-f-]+ baseline \(model my-model\)' "$work/out" ||
  fail "compare by run name: $(grep '^A:' "$work/out")"
grep -q "^verdict: no significant difference" "$work/out" ||
  fail "the stored run is the same model as new.json: $(cat "$work/out")"

# 5. the next mistakes: each a usage error (2) that names the problem
mistake() { # what, grep pattern, hret args...
  local what=$1 pattern=$2 rc
  shift 2
  set +e
  (cd "$work" && "$hret" "$@") >/dev/null 2>"$work/err"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "$what exits $rc, want 2: $(cat "$work/err")"
  grep -q -- "$pattern" "$work/err" || fail "$what: unclear message: $(cat "$work/err")"
}
mistake "compare with a typo" "nwe.json" compare base.json nwe.json
mistake "score of a missing file" "missing.jsonl" score --input missing.jsonl
mistake "an unknown model" "my-modle" run --dataset kmmlu --subset Accounting --model my-modle
mistake "an unknown run" "no run 'baseline2'" runs show baseline2 --db "$HRET_PG"
echo "newcomer: the README's path works line by line, with the documented exit statuses"
