#!/usr/bin/env bash
# Issue 16 item 5: the hret.run.failed.v1 event of a refused request goes through the outbox
# with an id that is stable across redeliveries. The same invalid request (a model the worker
# does not know) delivered twice with one ce_id: it is dead-lettered both times, its failed event
# is an outbox row, and the results topic carries it once (one ce_id, one message).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

stack_up 20
stack_config
stack_worker
stack_request bad-ce rej-1 nope
stack_request bad-ce rej-1 nope
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
  [ "$(kcat -C -b "$HRET_KAFKA" -t "$req_topic.dlq" -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c '^rej-1$' || true)" -ge 2 ] && break
  sleep 0.2
done
[ "$(kcat -C -b "$HRET_KAFKA" -t "$req_topic.dlq" -o beginning -e -q -f '%k\n' | grep -c '^rej-1$' || true)" = 2 ] ||
  fail "want both deliveries dead-lettered"
for _ in $(seq 150); do
  [ "$(pg_sql "SELECT count(*) FROM outbox WHERE published_at IS NULL")" = 0 ] && break
  sleep 0.2
done
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE msg_key = 'rej-1' AND ce_type = 'hret.run.failed.v1' AND published_at IS NOT NULL")" = 1 ] ||
  fail "the failed event is not one published outbox row: $(pg_sql "SELECT event_id, published_at FROM outbox WHERE msg_key = 'rej-1'")"
sleep 1
kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -e -q -f '%h\t%s\n' |
  grep 'ce_type=hret.run.failed.v1.*"request_id": *"rej-1"' >"$work/failed.tsv" || true
[ "$(wc -l <"$work/failed.tsv")" = 1 ] || fail "failed events for rej-1 on $res_topic: $(cat "$work/failed.tsv")"
grep -q '"class": *"invalid_request"' "$work/failed.tsv" && grep -q "nope" "$work/failed.tsv" ||
  fail "the failed event lacks the reason: $(cat "$work/failed.tsv")"
stack_stop "$worker" worker
echo ok
