#!/usr/bin/env bash
# Issue 16 item 2: a run that fails for good stops. A log-likelihood request against fake-llm
# without prompt log-probabilities (--logprobs off) fails on every shard, deterministically. After
# the failure, for three lease periods, nothing grows: not the shards' attempts, not the run's
# outbox rows, not the model calls; the run is failed with its reason, its shards are failed
# (none left pending or running), the request is closed as failed, and exactly one
# hret.run.failed.v1 event was published for the run.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

lease=3
STACK_FAKE_FLAGS="--logprobs off --latency-ms 50" stack_up 40
STACK_SHARD_SIZE=10 STACK_LEASE_S=$lease STACK_INFLIGHT=4 stack_config "max_workers: 2"
stack_worker
set +e
stack_submit --dataset kmmlu --model b --method log_likelihood --request-id failing-1 \
  >"$work/submit.out" 2>&1
rc=$?
set -e
[ $rc = 1 ] || fail "submit of a failing run: exit $rc: $(cat "$work/submit.out")"
grep -q "^failed run=" "$work/submit.out" || fail "no failed run: $(cat "$work/submit.out")"
run_id=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'failing-1'")

snapshot() {
  echo "attempts=$(pg_sql "SELECT sum(attempts) FROM shards WHERE run_id = '$run_id'")" \
    "outbox=$(pg_sql "SELECT count(*) FROM outbox WHERE event_id LIKE '$run_id%' OR msg_key = '$run_id'")" \
    "calls=$(stack_llm_calls)"
}
sleep $((lease + 1)) # what was in flight settles
before=$(snapshot)
sleep $((3 * lease + 1))
after=$(snapshot)
echo "after the failure: $before; three lease periods later: $after" >&2
[ "$before" = "$after" ] ||
  fail "a failed run kept going: $before -> $after; shards: $(pg_sql "SELECT shard_idx, status, attempts, owner FROM shards WHERE run_id = '$run_id'")"

[ "$(pg_sql "SELECT status FROM runs WHERE run_id = '$run_id'")" = failed ] || fail "run status"
pg_sql "SELECT error FROM runs WHERE run_id = '$run_id'" | grep -q "log_likelihood needs prompt log-probabilities" ||
  fail "run error: $(pg_sql "SELECT error FROM runs WHERE run_id = '$run_id'")"
[ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status IN ('pending', 'running')")" = 0 ] ||
  fail "shards of a failed run left open: $(pg_sql "SELECT shard_idx, status, attempts FROM shards WHERE run_id = '$run_id'")"
[ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status = 'failed' AND error IS NOT NULL")" -ge 1 ] ||
  fail "no shard marked failed with its error"
[ "$(pg_sql "SELECT status FROM requests WHERE request_id = 'failing-1'")" = failed ] || fail "request status"
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE msg_key = '$run_id' AND ce_type = 'hret.run.failed.v1'")" = 1 ] ||
  fail "run-failed outbox rows"
n=$(kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -e -q -f '%h\t%s\n' |
  grep -c "ce_type=hret.run.failed.v1.*\"run_id\": *\"$run_id\"" || true)
[ "$n" = 1 ] || fail "hret.run.failed.v1 events for the run on $res_topic: $n, want 1"
stack_stop "$worker" worker
echo ok
