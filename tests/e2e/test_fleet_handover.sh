#!/usr/bin/env bash
# A worker stopped in the middle of a shard leaves the consumer group, so the worker that
# replaces it gets the partitions at once, not after the broker's session timeout (45 s). Seen
# in fleet_scaling_4x at 1.0: the slot that finished during the stop woke the consumer's queue
# (rd_kafka_queue_yield) after the main loop had stopped polling it, and the worker closed its
# consumer without a LeaveGroup; the broker waited 45 s for the departed member before it gave
# the new workers any partition. Here: worker A runs a slow request's shard, gets SIGTERM and
# exits 0; worker B, started after A exited, must hold partitions within 15 s and finish the
# request, every sample stored once, and B calls the model once for each sample A did not store.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=60
STACK_FAKE_FLAGS="--latency-ms 300" stack_up "$items"
STACK_SHARD_SIZE=20 STACK_INFLIGHT=4 stack_config "max_workers: 2" "response_cache: off"
stack_worker
stack_submit --dataset kmmlu --model b --request-id handover-1 >"$work/submit.out" 2>&1 &
submit=$!
pids+=($submit)
running() { pg_sql "SELECT count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'handover-1' AND s.status = 'running'"; }
for _ in $(seq 300); do
  [ "$(running)" -ge 1 ] && break
  sleep 0.1
done
[ "$(running)" -ge 1 ] || fail "worker A never ran a shard of the request"
stack_stop "$worker" "worker A"
# what A paid for and what it kept: B must call the model for exactly the samples A did not store
calls_a=$(stack_llm_calls) || fail "fake-llm stats"
stored_a=$(pg_sql "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'handover-1'")
echo "worker A: $calls_a model calls, $stored_a samples stored; fake-llm max in flight $(curl -sf "http://127.0.0.1:$port/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_in_flight"])')" >&2

t0=$SECONDS
"$hret" worker --config "$work/hret.yaml" >>"$work/worker-b.log" 2>&1 &
worker_b=$!
pids+=($worker_b)
held=0
while [ $((SECONDS - t0)) -lt 60 ]; do
  held=$(stack_assigned worker-b.log)
  [ "$held" -gt 0 ] && break
  sleep 0.2
done
took=$((SECONDS - t0))
[ "$held" -gt 0 ] || fail "worker B held no partition 60 s after it started"
echo "worker B held $held partition(s) $took s after it started" >&2
[ "$took" -lt 15 ] ||
  fail "worker B waited $took s for partitions: worker A left the group without a LeaveGroup (the broker waited out its session)"

wait "$submit" || fail "submit: $(cat "$work/submit.out")"
grep -q "^completed run=.* model=b" "$work/submit.out" || fail "no result: $(cat "$work/submit.out")"
[ "$(pg_sql "SELECT count(*), count(DISTINCT sample_idx) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'handover-1'")" = "$items|$items" ] ||
  fail "samples: $(pg_sql "SELECT count(*), count(DISTINCT sample_idx) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'handover-1'")"
stack_check_calls $((items + calls_a - stored_a))
stack_stop "$worker_b" "worker B"
echo ok
