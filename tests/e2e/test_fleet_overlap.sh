#!/usr/bin/env bash
# Issue 25, stragglers: a slot keeps its window full across shard boundaries. One worker with ONE
# slot (max_workers 1) runs a run of four 8-sample shards at 1 s per request with max_inflight 4:
# once a shard's last requests are out (4 left, its share of the budget), the slot starts the
# run's next shard beside it, so two shards of the slot's run are 'running' at once (before,
# a slot took its next shard only after the last answer of the previous one: never two).
# Polled from PostgreSQL while the run goes (the overlap lasts about 1 s per shard boundary);
# the request is repeated (a new run, no response cache) until it is seen, at most 3 times. On
# every run: one model call per sample, every sample stored once, every shard done once, the
# same accuracy, one completed event (one ce_id) for the run.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=32
STACK_FAKE_FLAGS="--latency-ms 1000" stack_up "$items"
STACK_SHARD_SIZE=8 STACK_INFLIGHT=4 stack_config "max_workers: 1" "response_cache: off"
stack_worker
seen=""
for attempt in 1 2 3; do
  rid="overlap-$attempt"
  stack_submit --dataset kmmlu --model b --request-id "$rid" >"$work/submit-$attempt.out" 2>&1 &
  sub=$!
  pids+=($sub)
  most=0
  for _ in $(seq 1200); do # 120 s at most: the run takes about 8 s
    n=$(pg_sql "SELECT count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = '$rid' AND s.status = 'running'")
    [ "${n:-0}" -gt "$most" ] && most=$n
    [ "$(pg_sql "SELECT status FROM requests WHERE request_id = '$rid'")" = completed ] && break
    sleep 0.1
  done
  wait "$sub" || fail "submit $rid: $(cat "$work/submit-$attempt.out")"
  grep -q "^completed run=.* model=b" "$work/submit-$attempt.out" ||
    fail "no result: $(cat "$work/submit-$attempt.out")"
  run_id=$(pg_sql "SELECT run_id FROM runs WHERE request_id = '$rid'")
  [ "$(pg_sql "SELECT count(*) FROM samples WHERE run_id = '$run_id'")" = "$items" ] ||
    fail "samples: $(pg_sql "SELECT count(*) FROM samples WHERE run_id = '$run_id'")"
  [ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status = 'done' AND attempts = 1")" = 4 ] ||
    fail "shards: $(pg_sql "SELECT shard_idx, status, owner, attempts FROM shards WHERE run_id = '$run_id'")"
  stack_check_calls $((items * attempt))
  echo "attempt $attempt: at most $most shards of the run running at once" >&2
  [ "$most" -le 2 ] || fail "$most shards of one slot's run ran at once: a slot overlaps two at most"
  if [ "$most" = 2 ]; then
    seen=yes
    break
  fi
done
[ -n "$seen" ] || fail "the slot never started a shard while its previous one had requests out (3 runs)"
[ "$(pg_sql "SELECT count(DISTINCT metrics->'accuracy') FROM runs WHERE request_id LIKE 'overlap-%'")" = 1 ] ||
  fail "runs of the same request differ: $(pg_sql "SELECT request_id, metrics->'accuracy' FROM runs")"
stack_outbox_drained "after the runs"
for r in $(pg_sql "SELECT run_id FROM runs WHERE request_id LIKE 'overlap-%'"); do
  [ "$(pg_sql "SELECT count(*) FROM outbox WHERE msg_key = '$r' AND ce_type = 'hret.run.completed.v1'")" = 1 ] ||
    fail "completed events of $r in the outbox"
done
stack_stop "$worker" worker
echo ok
