#!/usr/bin/env bash
# Exit statuses: the README's exit-code table lists exactly the codes of core/hret_exit.h, and
# every command follows it: 0 the work was done, 1 the work failed (an endpoint, the database),
# 2 usage or configuration (bad flags, a missing input file, an unknown run, a bad config), 3
# hret submit --wait gave up waiting (a broker of its own, deploy/local/kafka.sh), 130 and 143 a
# run stopped by SIGINT or SIGTERM after saving what finished.
# Real fake-llm and a real PostgreSQL; a closed port stands for an unreachable service.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
kafka_dir=""
extra_cleanup() {
  [ -z "$kafka_dir" ] || "$src/deploy/local/kafka.sh" stop --dir "$kafka_dir" >/dev/null 2>&1
  pg_teardown
}

# expect CODE WHAT CMD...: CMD exits CODE; its stderr is kept in $work/err.
expect() {
  local want=$1 what=$2 rc
  shift 2
  set +e
  "$@" >"$work/out" 2>"$work/err" </dev/null
  rc=$?
  set -e
  [ "$rc" -eq "$want" ] || fail "$what: exit $rc, want $want; stderr: $(head -c 600 "$work/err")"
}

# 1. the README table and hret_exit.h agree, code for code
table=$(awk '/^### Exit status/ {on = 1; next} on && /^#/ {exit} on && /^\| *[0-9]+ *\|/' \
  "$src/README.md" | sed -E 's/^\| *([0-9]+) *\|.*/\1/' | sort -n | tr '\n' ' ')
header=$(grep -oE 'HRET_EXIT_[A-Z_]+ = [0-9]+' "$src/worker/core/hret_exit.h" |
  sed -E 's/.* = //' | sort -n | tr '\n' ' ')
[ -n "$table" ] || fail "README has no exit-code table under '### Exit status'"
[ "$table" = "$header" ] || fail "README exit codes '$table' differ from hret_exit.h '$header'"
grep -rhoE 'return [0-9]+;' "$src"/worker/cli/hret_cmd_*.c "$src"/worker/roles/*.c |
  grep -vE 'return [01];' | grep -q . && fail "a command returns a literal exit code"

closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pg_setup
start_fake good --accuracy 1
cat >"$work/hret_config.yaml" <<YAML
output_dir: $work/out
models:
  good: {base_url: "http://127.0.0.1:$port/v1", model: fake-model}
  down: {base_url: "http://127.0.0.1:$closed/v1", model: fake-model, max_retries: 0}
YAML
cfg=(--config "$work/hret_config.yaml")
qa="$src/tests/data/datasets/generic/qa.jsonl"

# 2. code 0: the work was done
expect 0 "version" "$hret" version
expect 0 "config check" "$hret" config check "$src/examples/hret_config.yaml"
expect 0 "run" "$hret" run "${cfg[@]}" --dataset generic --data-dir "$qa" --model good \
  --output "$work/a.json" --quiet --db "$HRET_PG"
expect 0 "score" "$hret" score --input "$src/tests/data/eval/hret_match.jsonl" --output "$work/s.jsonl"
expect 0 "compare" "$hret" compare "$work/a.json" "$work/a.json"
expect 0 "runs list" "$hret" runs list --db "$HRET_PG"

# 3. code 1: the work failed
expect 1 "run, endpoint refusing connections" "$hret" run "${cfg[@]}" --dataset generic \
  --data-dir "$qa" --model down --output "$work/down.json" --quiet
expect 1 "runs list, database unreachable" "$hret" runs list \
  --db "host=127.0.0.1 port=$closed dbname=hret connect_timeout=2"

# 4. code 2: usage or configuration
expect 2 "no command" "$hret"
expect 2 "unknown command" "$hret" no-such-command
for cmd in run score probe worker submit status runs metrics compare dataset migrate bridge \
  monitor config; do
  expect 2 "$cmd with an unknown option" "$hret" $cmd --no-such-option
done
expect 2 "compare, missing file" "$hret" compare "$work/missing.json" "$work/a.json"
grep -q "missing.json" "$work/err" || fail "compare does not name the missing file"
expect 2 "compare, missing file in the current folder" \
  bash -c "cd '$work' && '$hret' compare missing.json a.json"
expect 2 "compare, missing file with a database" "$hret" compare --db "$HRET_PG" \
  missing.json "$work/a.json"
expect 2 "compare, unknown run" "$hret" compare --db "$HRET_PG" 00000000-0000-4000-8000-000000000000 \
  "$work/a.json"
expect 2 "score, missing input" "$hret" score --input "$work/missing.jsonl"
grep -q "missing.jsonl" "$work/err" || fail "score does not name the missing input"
expect 2 "runs show, unknown run" "$hret" runs show no-such-run --db "$HRET_PG"
expect 2 "config check, bad file" "$hret" config check "$src/tests/data/config/bad/wrong_type.yaml"
expect 2 "run, unknown model" "$hret" run "${cfg[@]}" --dataset generic --data-dir "$qa" \
  --model no-such-model

# 5. signals: SIGINT exits 130, SIGTERM 143, each after saving what finished (marked partial)
start_fake slow --latency-ms 300
cat >>"$work/hret_config.yaml" <<YAML
  slow: {base_url: "http://127.0.0.1:$port/v1", model: fake-model, max_inflight: 2}
YAML
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 200 --seed 3 >/dev/null
for sig in INT:130 TERM:143; do
  "$hret" run "${cfg[@]}" --dataset kmmlu --data-dir "$work/synth" --model slow --quiet \
    --output "$work/sig.json" >/dev/null 2>"$work/err" &
  run_pid=$!
  sleep 1.5
  kill -"${sig%%:*}" $run_pid
  set +e
  wait $run_pid
  rc=$?
  set -e
  [ $rc -eq "${sig##*:}" ] || fail "SIG${sig%%:*} exits $rc, want ${sig##*:}: $(cat "$work/err")"
  python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["run_metadata"]["partial"]' \
    "$work/sig.json" || fail "SIG${sig%%:*}: the partial results were not saved"
  rm -f "$work/sig.json"
done

# 6. code 3: submit --wait with no worker to answer gives up after --timeout
kafka_dir="$work/kafka"
line=$(HRET_KAFKA_TOPICS="hret.eval.requests hret.eval.results" \
  "$src/deploy/local/kafka.sh" start --dir "$kafka_dir" | grep '^HRET_KAFKA=')
expect 3 "submit --wait, nobody answering" "$hret" submit "${cfg[@]}" --kafka "${line#HRET_KAFKA=}" \
  --dataset kmmlu --model good --wait --timeout 2

# 7. every status seen above is a row of the table
for code in 0 1 2 3 130 143; do
  grep -qw "$code" <<<"$table" || fail "exit status $code is not in the README's table ($table)"
done
echo "exit_codes: README table ($table) matches hret_exit.h; 0, 1, 2, 3, 130 and 143 as documented"
