#!/usr/bin/env bash
# Issue 25 (stragglers): a slot whose shard has sent its last sample, and only waits for the
# answers in flight, no longer holds the worker's place: the worker starts its next shard while
# the last one drains. One worker with ONE slot (max_workers 1), 8 shards of 5 samples, 16 in
# flight and every call 1.5 s: a shard's 5 requests leave at once and are all still out while
# the slot waits. Before, the worker ran one shard at a time, so fake-llm never had more than 5
# requests in flight (one shard's); now the next shard starts during those 1.5 s, so more than 5
# are, never more than the model's max_inflight (the process's budget), every shard is done once
# and the model is called exactly once per sample.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=40
STACK_FAKE_FLAGS="--latency-ms 1500" stack_up "$items"
STACK_SHARD_SIZE=5 STACK_INFLIGHT=16 stack_config "max_workers: 1" "response_cache: off"
stack_worker
curl -sf -X POST "http://127.0.0.1:$port/fake/reset" >/dev/null
stack_submit --dataset kmmlu --model a --request-id drain-1 >"$work/submit.out" 2>&1 ||
  fail "submit: $(cat "$work/submit.out")"
grep -q "^completed run=" "$work/submit.out" || fail "not completed: $(cat "$work/submit.out")"
run_id=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'drain-1'")
stack_check_run "$run_id" "$items" 8
stack_check_calls "$items"
curl -sf "http://127.0.0.1:$port/fake/stats" >"$work/stats.json"
stack_stop "$worker" worker
python3 - "$work/stats.json" <<'PY' || fail "in flight: $(cat "$work/stats.json")"
import json, sys
m = json.load(open(sys.argv[1]))["max_in_flight"]
print("fake-llm max in flight:", m, "(one shard: 5, max_inflight: 16)")
assert m <= 16, ("more in flight than the model's max_inflight 16", m)
assert m > 5, ("one shard at a time: the next shard did not start while one drained", m)
PY
echo "fleet drain e2e: ok"
