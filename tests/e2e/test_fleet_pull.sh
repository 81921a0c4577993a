#!/usr/bin/env bash
# Issue 25: an idle worker takes shards whose tasks it does not hold. One partition per topic and
# two workers in the group (one slot each): the assignment gives each worker one partition, so
# one holds the requests and the other the tasks. The request's 8 shards (25 samples each, 5 in
# flight, 200 ms a call: about 1 s a shard) all go through the tasks partition; before idle slots
# pulled, the worker holding it ran every shard one after another (its own task, then work
# stealing) while the other, once it had planned the run, did nothing. Now the other worker's
# idle slot pulls shards pending for 2 s, so both workers run shards of the run; every shard is
# done once, each sample stored once and the model called exactly once per sample.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=200
HRET_KAFKA_PARTITIONS=1 STACK_FAKE_FLAGS="--latency-ms 200" stack_up "$items"
STACK_SHARD_SIZE=25 STACK_INFLIGHT=5 stack_config "max_workers: 1" "response_cache: off"
stack_worker
"$hret" worker --config "$work/hret.yaml" >>"$work/worker2.log" 2>&1 &
worker2=$!
pids+=($worker2)

for _ in $(seq 300); do
  [ "$(stack_assigned worker.log)" = 1 ] && [ "$(stack_assigned worker2.log)" = 1 ] && break
  sleep 0.1
done
[ "$(stack_assigned worker.log)" = 1 ] && [ "$(stack_assigned worker2.log)" = 1 ] ||
  fail "want one partition per worker; they hold $(stack_assigned worker.log) and $(stack_assigned worker2.log)"

stack_submit --dataset kmmlu --model b --request-id pull-1 >"$work/submit.out" ||
  fail "submit: $(cat "$work/submit.out")"
grep -q "^completed run=.* model=b" "$work/submit.out" || fail "no result: $(cat "$work/submit.out")"
run_id=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'pull-1'")
stack_check_run "$run_id" "$items" 8
stack_check_calls "$items"
# owner ids are host:pid:nonce:slot: the workers are host:pid:nonce
workers=$(pg_sql "SELECT count(DISTINCT regexp_replace(owner, ':[0-9]+\$', '')) FROM shards WHERE run_id = '$run_id'")
[ "$workers" = 2 ] ||
  fail "shards ran on $workers worker(s), want both: $(pg_sql "SELECT shard_idx, owner FROM shards WHERE run_id = '$run_id' ORDER BY shard_idx")"
cat "$work/worker.log" "$work/worker2.log" | grep -q "taken by an idle slot" ||
  fail "no worker logged a pulled shard"
echo "shards per worker: $(pg_sql "SELECT string_agg(n::text, ' ') FROM (SELECT count(*) AS n FROM shards WHERE run_id = '$run_id' GROUP BY regexp_replace(owner, ':[0-9]+\$', '')) t")" >&2
stack_stop "$worker" worker
stack_stop "$worker2" worker2
echo ok
