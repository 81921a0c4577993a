#!/usr/bin/env bash
# Issue 16 item 6: the outbox relay must not hold the worker's main loop while Kafka is down.
# One worker (two slots) runs a 120-sample request in two 60-sample shards against fake-llm at
# 1.5 s per request; once both shards run, the broker is stopped (kafka.sh stop --keep) for
# longer than the group session timeout (6 s) and an event is put into the outbox while it is
# down, so the relay has something to publish. During the outage:
#   - the main loop keeps turning: its stats line (once a second, written between messages by the
#     main loop, never by the HTTP thread) (repeats rate-limited) keeps coming and /readyz turns 503 naming kafka (the
#     loop's own probe noticed); /metrics and /healthz answer (they would anyway: their own
#     thread);
#   - the slots keep renewing their leases (shards.lease_until moves on).
# After the broker is back: the run completes, fake-llm was called once per sample, the run's
# completed event and the event added during the outage are each on the results topic exactly
# once (no crash here, so no duplicate either) and the outbox is drained.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=120
STACK_FAKE_FLAGS="--latency-ms 1500" stack_up "$items"
STACK_SHARD_SIZE=60 STACK_LEASE_S=6 STACK_INFLIGHT=2 \
  STACK_KAFKA_PROPERTIES='{session.timeout.ms: "6000", heartbeat.interval.ms: "1000"}' \
  stack_config "max_workers: 2" 'http: {listen: "127.0.0.1:0", stats_interval_s: 1}'
stack_worker
q() { pg_sql "$1"; }
alive() { kill -0 "$worker" 2>/dev/null || fail "the worker exited: $1"; }

"$hret" submit --config "$work/hret.yaml" --dataset kmmlu --model b --request-id outage-1 \
  >"$work/submit.out" || fail "submit: $(cat "$work/submit.out")"
for _ in $(seq 600); do
  [ "$(q "SELECT count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'outage-1' AND s.status = 'running'")" = 2 ] && break
  alive "before the outage"
  sleep 0.1
done
run_id=$(q "SELECT run_id FROM runs WHERE request_id = 'outage-1'")
[ "$(q "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status = 'running'")" = 2 ] ||
  fail "the worker does not run both shards: $(q "SELECT shard_idx, status, owner FROM shards WHERE run_id = '$run_id'")"
mport=$(stack_metrics_port worker.log)
[ -n "$mport" ] || fail "no /metrics port in the worker's log"

"$src/deploy/local/kafka.sh" stop --keep --dir "$kafka_dir" >/dev/null 2>&1
[ -f "$kafka_dir/kept" ] || fail "kafka.sh stop --keep did not keep the broker"
t_stop=$SECONDS
[ "$(q "SELECT status FROM runs WHERE run_id = '$run_id'")" = running ] ||
  fail "the run is not running any more as the broker stops: too fast to test anything"
lease0=$(q "SELECT max(lease_until) FROM shards WHERE run_id = '$run_id'")
# an event to publish while the broker is away: the relay takes it on its next turn
q "INSERT INTO outbox (event_id, topic, msg_key, ce_type, ce_source, payload)
   VALUES ('outage-probe', '$res_topic', 'outage-1', 'hret.test.probe.v1', '/test', '{}')" >/dev/null
mark=$(wc -l <"$work/worker.log")

# the main loop turns all along: stats lines keep coming and its Kafka probe notices the outage
stats=0 ready=""
deadline=$((SECONDS + 90))
while :; do
  alive "during the outage"
  stats=$(tail -n +"$((mark + 1))" "$work/worker.log" | grep -c 'stats requests=' || true)
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/readyz" || true)
  [ "$ready" = 503 ] && [[ "$(curl -s "http://127.0.0.1:$mport/readyz")" == *kafka* ]] && saw_503=1
  [ "$stats" -ge 6 ] && [ "${saw_503:-0}" = 1 ] && [ $((SECONDS - t_stop)) -ge 12 ] && break
  [ $SECONDS -lt $deadline ] ||
    fail "the main loop stalled while Kafka was down: $stats stats lines in $((SECONDS - t_stop)) s, /readyz ${saw_503:+saw 503, now }$ready"
  sleep 0.5
done
metrics=$(curl -sf "http://127.0.0.1:$mport/metrics") || fail "/metrics during the outage"
grep -q '^hret_ready' <<<"$metrics" || fail "/metrics during the outage: no hret_ready"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/healthz")" = 200 ] ||
  fail "/healthz during the outage"
# the leases were renewed during the outage (the slots run on; the run is not done yet)
[ "$(q "SELECT status FROM runs WHERE run_id = '$run_id'")" = running ] ||
  fail "the run finished during the outage: too fast to see its leases"
[ "$(q "SELECT max(lease_until) > '$lease0'::timestamptz + interval '3 seconds' FROM shards WHERE run_id = '$run_id'")" = t ] ||
  fail "no lease renewed during the outage: $(q "SELECT shard_idx, status, lease_until, '$lease0' FROM shards WHERE run_id = '$run_id'")"
[ "$(q "SELECT count(*) FROM outbox WHERE event_id = 'outage-probe' AND published_at IS NULL")" = 1 ] ||
  fail "the probe event counts as published while the broker is down"
echo "outage: $((SECONDS - t_stop)) s, $stats stats lines, /readyz 503 (kafka), leases renewed" >&2

line=$("$src/deploy/local/kafka.sh" start --dir "$kafka_dir" | grep '^HRET_KAFKA=')
[ "$line" = "HRET_KAFKA=$HRET_KAFKA" ] || fail "the broker came back elsewhere: $line, not $HRET_KAFKA"

for _ in $(seq 1200); do
  s=$(q "SELECT status FROM runs WHERE run_id = '$run_id'")
  [ "$s" = completed ] && break
  case $s in failed | partial | cancelled) fail "run $s: $(q "SELECT error FROM runs WHERE run_id = '$run_id'")" ;; esac
  alive "after the outage"
  sleep 0.2
done
[ "$s" = completed ] || fail "the run is $s 240 s after the broker came back"
[ "$(q "SELECT count(*) FROM samples WHERE run_id = '$run_id' AND error IS NULL")" = "$items" ] ||
  fail "samples: $(q "SELECT count(*), count(error) FROM samples WHERE run_id = '$run_id'")"
stack_check_calls "$items"
stack_outbox_drained "after the outage"
# each event on the topic exactly once: the run's completed event and the probe
for _ in $(seq 60); do
  kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -e -q -f '%h\n' >"$work/results.txt" 2>/dev/null || true
  grep -q 'ce_id=outage-probe' "$work/results.txt" && grep -q "ce_id=$run_id:completed" "$work/results.txt" && break
  sleep 1
done
for id in outage-probe "$run_id:completed"; do
  n=$(grep -c "ce_id=$id\(,\|$\)" "$work/results.txt" || true)
  [ "$n" = 1 ] || fail "event $id is on the results topic $n times"
done
alive "at the end"
! grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$work"/*.log >/dev/null 2>&1 ||
  fail "sanitizer report in $(grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$work"/*.log)"
echo "fleet kafka outage: ok" >&2
