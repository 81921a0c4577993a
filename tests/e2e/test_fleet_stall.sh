#!/usr/bin/env bash
# Issue 16 item 8: a live but stalled holder. Worker 1 (three slots) holds all three shards of a
# 120-sample run against fake-llm at 500 ms per request and is frozen (SIGSTOP) for longer than
# the lease and the group session; worker 2 takes the shards over and completes the run; then
# worker 1 is woken (SIGCONT). A worker that learns it lost a lease cancels that shard's queued
# and in-flight requests at once, so the model is called at most: the samples + what worker 1 had
# sent when it froze + worker 1's in-flight limit. The late completions store nothing twice,
# publish nothing twice and leave the counts right.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=120 inflight=12
STACK_FAKE_FLAGS="--latency-ms 500" stack_up "$items"
STACK_SHARD_SIZE=40 STACK_LEASE_S=3 STACK_INFLIGHT=$inflight \
  STACK_KAFKA_PROPERTIES='{session.timeout.ms: "6000", heartbeat.interval.ms: "1000"}' \
  stack_config "max_workers: 3"
"$hret" worker --config "$work/hret.yaml" >>"$work/worker1.log" 2>&1 &
w1=$!
pids+=($w1)
"$hret" submit --config "$work/hret.yaml" --dataset kmmlu --model b --request-id stall-1 \
  >"$work/submit.out" || fail "submit: $(cat "$work/submit.out")"
for _ in $(seq 300); do
  [ "$(pg_sql "SELECT count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'stall-1' AND s.status = 'running'")" = 3 ] && break
  sleep 0.1
done
kill -STOP "$w1"
run_id=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'stall-1'")
[ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status = 'running'")" = 3 ] ||
  fail "worker 1 does not hold the three shards: $(pg_sql "SELECT shard_idx, status, owner FROM shards WHERE run_id = '$run_id'")"
sent=$(stack_llm_calls)
echo "worker 1 frozen after $sent model calls" >&2
[ "$sent" -lt $((items / 2)) ] || fail "worker 1 had sent $sent calls before it froze: too late to test"

"$hret" worker --config "$work/hret.yaml" >>"$work/worker2.log" 2>&1 &
w2=$!
pids+=($w2)
for _ in $(seq 900); do
  [ "$(pg_sql "SELECT status FROM runs WHERE run_id = '$run_id'")" = completed ] && break
  sleep 0.1
done
[ "$(pg_sql "SELECT status FROM runs WHERE run_id = '$run_id'")" = completed ] ||
  fail "worker 2 did not complete the run: $(pg_sql "SELECT shard_idx, status, owner, attempts FROM shards WHERE run_id = '$run_id'")"

kill -CONT "$w1"
# worker 1 wakes, learns it lost its leases and settles: no request of its in flight any more
for _ in $(seq 100); do
  sleep 0.5
  [ "$(curl -sf "http://127.0.0.1:$port/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["in_flight"])')" = 0 ] &&
    [ "$(grep -c "lease lost" "$work/worker1.log" || true)" -ge 3 ] && break
done
sleep 2
grep -q "lease lost" "$work/worker1.log" || fail "worker 1 never learned it lost its leases"
stack_check_calls "$items" $((sent + inflight))

[ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status = 'done'")" = 3 ] || fail "shards"
[ "$(pg_sql "SELECT sum(done_samples) FROM shards WHERE run_id = '$run_id'")" = "$items" ] ||
  fail "shard counts: $(pg_sql "SELECT shard_idx, done_samples, error_samples FROM shards WHERE run_id = '$run_id'")"
[ "$(pg_sql "SELECT count(*) FROM samples WHERE run_id = '$run_id'")" = "$items" ] || fail "samples"
# predictions as the fake answers: every stored sample scored, none an error
[ "$(pg_sql "SELECT count(*) FROM samples WHERE run_id = '$run_id' AND error IS NULL")" = "$items" ] ||
  fail "samples with errors: $(pg_sql "SELECT count(*) FROM samples WHERE run_id = '$run_id' AND error IS NOT NULL")"
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE msg_key = '$run_id' AND ce_type = 'hret.run.completed.v1'")" = 1 ] ||
  fail "completed events in the outbox"
for _ in $(seq 150); do
  [ "$(pg_sql "SELECT count(*) FROM outbox WHERE published_at IS NULL")" = 0 ] && break
  sleep 0.2
done
n=$(kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -e -q -f '%h\t%s\n' |
  grep -c "ce_type=hret.run.completed.v1.*\"run_id\": *\"$run_id\"" || true)
[ "$n" = 1 ] || fail "hret.run.completed.v1 events for the run: $n, want 1"
stack_stop "$w2" "worker 2"
stack_stop "$w1" "worker 1"
echo ok
