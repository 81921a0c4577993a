#!/usr/bin/env bash
# Issue 16 item 1: sibling slots never run the same shard. One worker with two slots (one request
# in flight each) and a run of three shards (10, 10 and 5 samples) at 300 ms per request: the two
# slots take two shard tasks, the third task waits in the worker; the slot that finishes first
# steals the third shard, and the other slot, freed while its sibling still runs that shard,
# takes the third shard's task. That shard is held by a live sibling: the task must not run it
# again. fake-llm is called exactly once per sample, and the run is right.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=25
STACK_FAKE_FLAGS="--latency-ms 300" stack_up "$items"
STACK_SHARD_SIZE=10 STACK_INFLIGHT=2 stack_config "max_workers: 2"
stack_worker
stack_submit --dataset kmmlu --model b --request-id slots-1 >"$work/submit.out" ||
  fail "submit: $(cat "$work/submit.out")"
grep -q "^completed run=.* model=b" "$work/submit.out" || fail "no result: $(cat "$work/submit.out")"
run_id=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'slots-1'")
[ "$(pg_sql "SELECT count(*) FROM samples WHERE run_id = '$run_id'")" = "$items" ] || fail "samples"
[ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status = 'done'")" = 3 ] ||
  fail "shards: $(pg_sql "SELECT shard_idx, status, owner, attempts FROM shards WHERE run_id = '$run_id'")"
stack_check_calls "$items"
# the third shard's task reached a slot while the sibling held it (else the test proves nothing)
grep -q "is held by .*:[0-9]* until" "$work/worker.log" ||
  fail "no task found its shard held by a sibling slot: the scenario did not happen"
stack_stop "$worker" worker
echo ok
