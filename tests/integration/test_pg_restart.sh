#!/usr/bin/env bash
# hret run --db while PostgreSQL goes away (its own cluster, stopped with pg.sh): restarted
# before the run ends, the run is stored all the same (the write retries on a new connection);
# still down at the end, hret run says the run was not stored, exits 1, keeps the results
# JSON, and the database holds no half-written run (no samples; not completed).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
extra_cleanup() { pg_teardown; }

pg_setup own
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 200 --seed 4 >/dev/null
"$fake" --port 0 --log-level warn --latency-ms 250 >"$work/fake.out" 2>&1 &
pids+=($!)
port=$(listening_port "$work/fake.out") || exit 1
cat >"$work/hret_config.yaml" <<YAML
log_level: error
models:
  slow: {base_url: "http://127.0.0.1:$port/v1", model: fake-model, max_inflight: 10}
YAML
run() { # name, limit
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model slow --run-name "$1" --limit "$2" --output "$work/$1.json" --quiet
}

# 1. down for a second in the middle of a 2-second run: stored anyway
run bounced 80 >"$work/bounced.txt" 2>&1 &
rp=$!
sleep 0.5
pg_stop
sleep 1
pg_start
wait $rp || fail "run across a restart: $(cat "$work/bounced.txt")"
grep -q "stored     run" "$work/bounced.txt" || fail "not stored: $(cat "$work/bounced.txt")"
[ "$(pg_sql "SELECT status || ' ' || done_samples FROM runs WHERE run_name = 'bounced'")" = "completed 80" ] ||
  fail "bounced run row"
[ "$(pg_sql "SELECT count(*) FROM samples JOIN runs USING (run_id) WHERE run_name = 'bounced'")" -eq 80 ] ||
  fail "bounced samples"

# 2. down from the middle of the run to after it: a clear failure, nothing half written
run lost 40 >"$work/lost.txt" 2>&1 &
rp=$!
sleep 0.4
pg_stop
set +e
wait $rp
rc=$?
set -e
[ $rc -eq 1 ] || fail "run with the database gone exits $rc: $(cat "$work/lost.txt")"
grep -q "the run was not stored: postgres" "$work/lost.txt" || fail "message: $(cat "$work/lost.txt")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["results"][0]["samples"]) == 40' \
  "$work/lost.json" || fail "results JSON not kept"
pg_start
[ "$(pg_sql "SELECT status FROM runs WHERE run_name = 'lost'")" = running ] || fail "lost run status"
[ "$(pg_sql "SELECT count(*) FROM samples JOIN runs USING (run_id) WHERE run_name = 'lost'")" -eq 0 ] ||
  fail "half-written samples"
[ "$(pg_sql "SELECT count(*) FROM metrics JOIN runs USING (run_id) WHERE run_name = 'lost'")" -eq 0 ] ||
  fail "half-written metrics"
echo "pg restart: ok"
