#!/usr/bin/env bash
# Issue 16 item 4: requests are deduplicated by request_id, not by the CloudEvent id. Two
# different requests produced with the same ce_id: the first is planned and completes; the second
# (a new request_id reusing the ce_id) is not silently taken for a duplicate: it goes to the
# requests topic's DLQ with a reason naming the reused id, and its hret.run.failed.v1 event is
# published. The first request delivered again (same request_id, new ce_id) changes nothing.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

stack_up 20
stack_config
stack_worker
stack_request same-ce-id ids-1 b
for _ in $(seq 300); do
  [ "$(pg_sql "SELECT status FROM requests WHERE request_id = 'ids-1'")" = completed ] && break
  sleep 0.1
done
[ "$(pg_sql "SELECT status FROM requests WHERE request_id = 'ids-1'")" = completed ] || fail "ids-1 not completed"
stack_request same-ce-id ids-2 b
stack_request other-ce-id ids-1 b
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
  n=$(kcat -C -b "$HRET_KAFKA" -t "$req_topic.dlq" -o beginning -e -q -f '%k\t%h\n' 2>/dev/null | grep -c '^ids-2' || true)
  [ "$n" -ge 1 ] && break
  sleep 0.2
done
kcat -C -b "$HRET_KAFKA" -t "$req_topic.dlq" -o beginning -e -q -f '%k\t%h\n' >"$work/dlq.tsv" 2>/dev/null || true
grep '^ids-2' "$work/dlq.tsv" | grep -q 'hret_dlq_reason=[^,]*same-ce-id' ||
  fail "a new request reusing a ce_id was not dead-lettered with the reason: $(cat "$work/dlq.tsv")"
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
  n=$(kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -e -q -f '%h\t%s\n' | grep -c 'ce_type=hret.run.failed.v1.*"request_id": *"ids-2"' || true)
  [ "$n" -ge 1 ] && break
  sleep 0.2
done
[ "$n" -ge 1 ] || fail "no hret.run.failed.v1 event for ids-2"
# the redelivered ids-1 (a new ce_id) was seen and changed nothing
for _ in $(seq 300); do
  grep -q "id=ids-1 .*already planned" "$work/worker.log" && break
  sleep 0.1
done
grep -q "id=ids-1 .*already planned" "$work/worker.log" || fail "ids-1 again was not taken for a redelivery"
[ "$(pg_sql "SELECT count(*) FROM runs WHERE request_id = 'ids-1'")" = 1 ] || fail "ids-1 planned twice"
[ "$(pg_sql "SELECT count(*) FROM runs WHERE request_id = 'ids-2'")" = 0 ] || fail "ids-2 planned"
stack_check_calls 20
stack_stop "$worker" worker
echo ok
