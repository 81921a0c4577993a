#!/usr/bin/env bash
# One way to name a stored run in every command that takes one (runs show, runs export,
# compare, metrics compare --runs): the full run id, a unique prefix of 8+ characters (what
# hret runs list shows) or a run name (its latest run). Real PostgreSQL and fake-llm.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
extra_cleanup() { pg_teardown; }

pg_setup
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 120 --seed 3 >/dev/null
start_fake models --answer-key "$work/synth/answer_key.tsv" --seed 5 \
  --model-accuracy a=0.4 --model-accuracy b=0.8
cat >"$work/hret_config.yaml" <<YAML
log_level: warn
models:
  a: {base_url: "http://127.0.0.1:$port/v1", model: a}
  b: {base_url: "http://127.0.0.1:$port/v1", model: b}
YAML
for m in a b; do
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model $m --run-name "ref-$m" --output "$work/$m.json" --quiet >/dev/null ||
    fail "run $m"
done
id_of() { "$hret" runs list --json | python3 -c '
import json, sys
print(next(r["run_id"] for r in json.load(sys.stdin) if r["run_name"] == sys.argv[1]))' "$1"; }
a=$(id_of ref-a)
b=$(id_of ref-b)

# every form names the same run, in every command
for ref in "$a" "${a:0:8}" "${a:0:13}" ref-a; do
  got=$("$hret" runs show "$ref" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])') ||
    fail "runs show $ref"
  [ "$got" = "$a" ] || fail "runs show $ref gave $got, want $a"
  "$hret" runs export "$ref" --output "$work/export.json" 2>/dev/null || fail "runs export $ref"
  "$hret" compare "$ref" "$work/b.json" --bootstrap 100 --json >"$work/cmp.json" 2>"$work/err" ||
    fail "compare $ref: $(cat "$work/err")"
  python3 - "$work/cmp.json" "$a" <<'PY' || fail "compare $ref labels the wrong run"
import json, sys
c = json.load(open(sys.argv[1]))
assert sys.argv[2] in c["a"]["label"], c["a"]
assert c["overall"]["pairs"] == 120 and c["better"] == "b", c["overall"]
PY
  "$hret" metrics compare accuracy --runs "$ref,${b:0:8}" --json >"$work/m.json" ||
    fail "metrics compare --runs $ref"
  python3 -c '
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
assert sorted(runs) == sorted(sys.argv[2:]), runs' "$work/m.json" "$a" "$b" ||
    fail "metrics compare --runs $ref picked other runs"
done
# compare takes two stored runs by name too
"$hret" compare ref-a ref-b --bootstrap 100 >"$work/cmp.txt" || fail "compare ref-a ref-b"
grep -q "B is better than A" "$work/cmp.txt" || fail "compare by names: $(cat "$work/cmp.txt")"

# too short a prefix and an unknown reference are usage errors that say what a reference is
usage_error() { # what, command...
  local what=$1 rc
  shift
  set +e
  "$@" >/dev/null 2>"$work/err"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "$what exits $rc, want 2: $(cat "$work/err")"
  grep -q "8+ character" "$work/err" || fail "$what: the error does not say what a run reference is: $(cat "$work/err")"
}
for ref in "${a:0:4}" no-such-run; do
  usage_error "runs show $ref" "$hret" runs show "$ref"
  usage_error "compare $ref" "$hret" compare "$ref" "$work/b.json"
  usage_error "metrics compare --runs $ref" "$hret" metrics compare accuracy --runs "$ref"
done
echo "run_ref: full id, 8+ prefix and name resolve alike in runs show/export, compare, metrics"
