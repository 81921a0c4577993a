#!/usr/bin/env bash
# hret run with a real PostgreSQL as a newcomer meets it (issue 18): which responses the cache
# reuses across runs (response_cache), the run row's heartbeat and `abandoned`, hret runs import
# of a kept results file, and runs export --output keeping what the path is.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
extra_cleanup() { pg_teardown; }

requests() { # port -> chat completions served
  curl -s "http://127.0.0.1:$1/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["chat_completions"])'
}

pg_setup
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 30 --seed 3 >/dev/null
start_fake good --answer-key "$work/synth/answer_key.tsv" --accuracy 0.6 --seed 5
good=$port
config() { # response_cache value ("" = the default)
  cat <<YAML
log_level: warn
output_dir: $work/out
${1:+response_cache: $1}
models:
  good: {base_url: "http://127.0.0.1:$good/v1", model: fake-model}
YAML
}
config "" >"$work/default.yaml"
config always >"$work/always.yaml"
config off >"$work/off.yaml"
run() { # config, flags...
  local cfg=$1
  shift
  "$hret" run --config "$work/$cfg.yaml" --dataset kmmlu --data-dir "$work/synth" --model good \
    --quiet "$@" >"$work/last.txt" 2>&1 || fail "run $cfg $*: $(cat "$work/last.txt")"
}
asked() { # what, want, since
  local got=$(($(requests "$good") - $3))
  [ "$got" -eq "$2" ] || fail "$1: $got endpoint requests, want $2"
}

# item 4: across runs only deterministic requests (temperature 0 or a seed) are reused by default
n=$(requests "$good")
run default --temperature 0.7
run default --temperature 0.7
asked "two runs at temperature 0.7" 60 "$n"
n=$(requests "$good")
run default --temperature 0
run default --temperature 0
asked "two runs at temperature 0" 30 "$n"
grep -q "30 cached responses reused" "$work/last.txt" || fail "cache hits: $(cat "$work/last.txt")"
# response_cache: always reuses sampled answers too; off reuses nothing across runs
n=$(requests "$good")
run always --temperature 0.9
run always --temperature 0.9
asked "response_cache: always at temperature 0.9" 30 "$n"
n=$(requests "$good")
run off --temperature 0
run off --temperature 0
asked "response_cache: off at temperature 0" 60 "$n"
"$hret" help run >"$work/help.txt"
grep -q -- "--no-cache" "$work/help.txt" || fail "--no-cache is not in hret help run"
"$hret" config reference >"$work/reference.txt"
grep -q "response_cache" "$work/reference.txt" || fail "response_cache is not in the reference"

# item 13: hret run keeps a heartbeat on its run row; a running row whose heartbeat is older
# than two minutes shows as abandoned
start_fake slow --latency-ms 300
slow=$port
cat >"$work/slow.yaml" <<YAML
log_level: warn
output_dir: $work/out
models:
  slow: {base_url: "http://127.0.0.1:$slow/v1", model: fake-model, max_inflight: 1}
YAML
"$hret" run --config "$work/slow.yaml" --dataset kmmlu --data-dir "$work/synth" --model slow --quiet \
  --run-name crashed --output "$work/crashed.json" >/dev/null 2>&1 &
crashed_pid=$!
for _ in $(seq 300); do
  [ "$(pg_sql "SELECT count(*) FROM runs WHERE run_name = 'crashed'")" = 1 ] && break
  sleep 0.1
done
sleep 1
[ "$(pg_sql "SELECT heartbeat_at > now() - interval '1 minute' FROM runs WHERE run_name = 'crashed'")" = t ] ||
  fail "no heartbeat on the running row"
kill -9 $crashed_pid
wait $crashed_pid 2>/dev/null || true
crashed=$(pg_sql "SELECT run_id FROM runs WHERE run_name = 'crashed'")
"$hret" runs show crashed >"$work/show.txt"
grep -q "^status     running" "$work/show.txt" || fail "a fresh heartbeat is not running: $(cat "$work/show.txt")"
pg_sql "UPDATE runs SET heartbeat_at = now() - interval '3 minutes' WHERE run_id = '$crashed'" >/dev/null
"$hret" runs show crashed >"$work/show.txt"
grep -q "^status     abandoned" "$work/show.txt" || fail "a stale heartbeat is not abandoned: $(cat "$work/show.txt")"
"$hret" runs list --status abandoned --json >"$work/abandoned.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert [x["run_name"] for x in r] == ["crashed"] and r[0]["status"] == "abandoned", r' \
  "$work/abandoned.json" || fail "runs list --status abandoned"

# hret runs import RESULTS.json stores a kept results file; an existing run id is replaced only
# when that run is abandoned or partial, else refused
env -u HRET_PG "$hret" run --config "$work/default.yaml" --dataset kmmlu --data-dir "$work/synth" \
  --model good --quiet --run-name kept --output "$work/kept.json" >/dev/null || fail "kept run"
kept=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_metadata"]["run_id"])' "$work/kept.json")
"$hret" runs import "$work/kept.json" >"$work/import.txt" 2>&1 || fail "import: $(cat "$work/import.txt")"
"$hret" runs show "$kept" --json >"$work/kept_show.json"
python3 - "$work/kept.json" "$work/kept_show.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
assert r["status"] == "completed" and r["run_name"] == "kept", r
assert abs(r["metrics"]["accuracy"] - f["metrics"]["accuracy"]) < 1e-12, (r["metrics"], f["metrics"])
PY
[ $? -eq 0 ] || fail "imported run"
"$hret" runs export "$kept" --output "$work/kept_export.json" 2>/dev/null || fail "export the imported run"
python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
sa = a["results"][0]["samples"]; sb = b["results"][0]["samples"]
assert [s["id"] for s in sa] == [s["id"] for s in sb]
assert [s["evaluation"]["is_correct"] for s in sa] == [s["evaluation"]["is_correct"] for s in sb]' \
  "$work/kept.json" "$work/kept_export.json" || fail "export of the imported run differs from the file"
expect_rc() { local want=$1 rc=0; shift; "$@" >"$work/rc.txt" 2>&1 || rc=$?; [ "$rc" -eq "$want" ] || fail "$*: exit $rc, want $want: $(cat "$work/rc.txt")"; }
expect_rc 1 "$hret" runs import "$work/kept.json"
grep -q "is completed: refused" "$work/rc.txt" || fail "refusal: $(cat "$work/rc.txt")"
# the abandoned run's id: replaced by the kept file
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["run_metadata"]["run_id"]=sys.argv[3]; json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)' \
  "$work/kept.json" "$work/replace.json" "$crashed"
"$hret" runs import "$work/replace.json" >"$work/import2.txt" 2>&1 || fail "replace abandoned: $(cat "$work/import2.txt")"
[ "$(pg_sql "SELECT status || '/' || done_samples FROM runs WHERE run_id = '$crashed'")" = completed/30 ] ||
  fail "abandoned run not replaced: $(pg_sql "SELECT status, done_samples FROM runs WHERE run_id = '$crashed'")"
[ "$(pg_sql "SELECT count(*) FROM samples WHERE run_id = '$crashed'")" = 30 ] || fail "samples of the replaced run"
echo '{"not": "results"}' >"$work/bad.json"
expect_rc 2 "$hret" runs import "$work/bad.json"

# item 1 for hret runs export --output: a symlink stays a symlink, - is stdout
mkdir -p "$work/real"
ln -s real/export.json "$work/export_link.json"
"$hret" runs export "$kept" --output "$work/export_link.json" 2>/dev/null || fail "export to a symlink"
[ -L "$work/export_link.json" ] || fail "export replaced the symlink"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/real/export.json" || fail "export target"
"$hret" runs export "$kept" --output - >"$work/export_stdout.json" 2>/dev/null || fail "export to -"
[ ! -e "-" ] || fail "export wrote a file named -"
cmp -s "$work/real/export.json" "$work/export_stdout.json" || fail "export to - differs"

echo "pg newcomer: ok"
