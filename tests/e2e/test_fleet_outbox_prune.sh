#!/usr/bin/env bash
# Issue 16 item 7 (outbox): published outbox rows older than outbox.retention_s are pruned, but
# not the shard tasks of live runs, which the lease sweep copies when it queues a shard again.
# A completed request and a live run whose worker was killed mid-shard; every published row is
# aged past the retention; a new worker prunes the completed request's rows, keeps the live
# run's task rows, its sweep queues the dead worker's shards again from them, and the run
# completes.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

STACK_FAKE_FLAGS="--latency-ms 300" stack_up 40
STACK_SHARD_SIZE=10 STACK_LEASE_S=3 STACK_INFLIGHT=2 \
  STACK_KAFKA_PROPERTIES='{session.timeout.ms: "6000", heartbeat.interval.ms: "1000"}' \
  stack_config "max_workers: 1" \
  "outbox: {retention_s: 3600}"
stack_worker
stack_submit --dataset kmmlu --model a --limit 10 --request-id done-1 >"$work/done.out" ||
  fail "done-1: $(cat "$work/done.out")"
done_run=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'done-1'")
"$hret" submit --config "$work/hret.yaml" --dataset kmmlu --model b --request-id live-1 >/dev/null
for _ in $(seq 200); do
  [ "$(pg_sql "SELECT count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'live-1' AND s.status = 'running'")" -ge 1 ] && break
  sleep 0.1
done
kill -9 "$worker"
wait "$worker" 2>/dev/null || true
live_run=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'live-1'")
[ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$live_run' AND status = 'running'")" -ge 1 ] ||
  fail "no shard of live-1 was running when its worker was killed"
pg_sql "UPDATE outbox SET published_at = now() - interval '8 days' WHERE published_at IS NOT NULL" >/dev/null
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE event_id LIKE '$done_run%'")" -ge 2 ] || fail "done-1 rows"

stack_worker
for _ in $(seq 300); do
  [ "$(pg_sql "SELECT status FROM runs WHERE run_id = '$live_run'")" = completed ] && break
  sleep 0.2
done
[ "$(pg_sql "SELECT status FROM runs WHERE run_id = '$live_run'")" = completed ] || fail "live-1 not completed"
for _ in $(seq 100); do
  [ "$(pg_sql "SELECT count(*) FROM outbox WHERE event_id LIKE '$done_run%'")" = 0 ] && break
  sleep 0.2
done
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE event_id LIKE '$done_run%'")" = 0 ] ||
  fail "published rows past the retention not pruned: $(pg_sql "SELECT event_id, published_at FROM outbox WHERE event_id LIKE '$done_run%'")"
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE event_id LIKE '$live_run:shard:%:attempt:%'")" -ge 1 ] ||
  fail "the sweep queued no shard of live-1 again: $(pg_sql "SELECT event_id FROM outbox WHERE event_id LIKE '$live_run%'")"
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE published_at IS NULL")" = 0 ] || sleep 2
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE published_at IS NULL")" = 0 ] || fail "unpublished rows"
stack_stop "$worker" worker
echo ok
