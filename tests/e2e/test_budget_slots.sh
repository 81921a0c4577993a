#!/usr/bin/env bash
# One budget per model in a worker (issue 20): a worker with four slots and one busy shard uses
# the model's whole max_inflight (the slots share it; a static split gave the busy slot a
# quarter), and never more: fake-llm's max in flight is exactly max_inflight.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

STACK_FAKE_FLAGS="--latency-ms 300" stack_up 120
STACK_SHARD_SIZE=1000 STACK_INFLIGHT=8 stack_config "max_workers: 4"
stack_worker
curl -sf -X POST "http://127.0.0.1:$port/fake/reset" >/dev/null
stack_submit --dataset kmmlu --model a --request-id budget-slots >"$work/submit.out" 2>&1 ||
  fail "submit: $(cat "$work/submit.out")"
grep -q '^completed run=' "$work/submit.out" || fail "not completed: $(cat "$work/submit.out")"
[ "$(pg_sql "SELECT count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'budget-slots'")" = 1 ] ||
  fail "want one shard"
curl -sf "http://127.0.0.1:$port/fake/stats" >"$work/stats.json"
python3 - "$work/stats.json" <<'PY' || fail "in flight: $(cat "$work/stats.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["endpoints"]["chat_completions"] == 120, s["endpoints"]
assert s["max_in_flight"] == 8, ("max in flight", s["max_in_flight"], "want max_inflight 8")
print("one busy slot of four reached max_inflight 8")
PY
stack_stop "$worker" worker
echo "budget slots e2e: ok"
