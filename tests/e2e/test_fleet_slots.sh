#!/usr/bin/env bash
# Issue 16 item 1: sibling slots never run the same shard. One worker with two slots (one request
# in flight each) and a run of three shards (10, 10 and 5 samples) at 300 ms per request: the two
# slots take two shard tasks, the third task waits in the worker; the slot that finishes first
# steals the third shard, and the other slot, freed while its sibling still runs that shard,
# takes the third shard's task. That shard is held by a live sibling: the task must not run it
# again. fake-llm is called exactly once per sample, and every run is right.
#
# Which task waits, and which slot frees first, depend on the relay and the shared in-flight
# limit: the request is repeated (a new run each time, no response cache) until the scenario
# happens, at most 5 times. The invariants are checked on every run.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=25
STACK_FAKE_FLAGS="--latency-ms 300" stack_up "$items"
STACK_SHARD_SIZE=10 STACK_INFLIGHT=2 stack_config "max_workers: 2" "response_cache: off"
stack_worker
for attempt in 1 2 3 4 5; do
  stack_submit --dataset kmmlu --model b --request-id "slots-$attempt" >"$work/submit.out" ||
    fail "submit: $(cat "$work/submit.out")"
  grep -q "^completed run=.* model=b" "$work/submit.out" || fail "no result: $(cat "$work/submit.out")"
  run_id=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'slots-$attempt'")
  [ "$(pg_sql "SELECT count(*) FROM samples WHERE run_id = '$run_id'")" = "$items" ] || fail "samples"
  [ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status = 'done'")" = 3 ] ||
    fail "shards: $(pg_sql "SELECT shard_idx, status, owner, attempts FROM shards WHERE run_id = '$run_id'")"
  stack_check_calls $((items * attempt))
  # the third shard's task reached a slot while the sibling held it (else the run proved nothing)
  grep -q "is held by .*:[0-9]* until" "$work/worker.log" && break
  echo "attempt $attempt: no task found its shard held by a sibling slot; again" >&2
  [ "$attempt" = 5 ] && fail "no task found its shard held by a sibling slot in 5 runs: the scenario did not happen"
done
[ "$(pg_sql "SELECT count(DISTINCT metrics->'accuracy') FROM runs WHERE request_id LIKE 'slots-%'")" = 1 ] ||
  fail "runs of the same request differ: $(pg_sql "SELECT request_id, metrics->'accuracy' FROM runs")"
stack_stop "$worker" worker
echo ok
