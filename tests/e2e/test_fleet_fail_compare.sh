#!/usr/bin/env bash
# Issue 16 item 3: a failing run neither loses the comparisons of the runs that completed nor
# leaves its request open. One log-likelihood request for three models: a and b on a fake-llm
# with prompt log-probabilities, c (the baseline's last candidate, and the slowest: 8 s a
# request) on one without them, so c fails after a and b completed. The comparison of b with the
# baseline a is stored and published exactly once, and the request closes as failed, naming c's
# run.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

stack_up 40
main_port=$port
start_fake noecho --logprobs off --latency-ms 8000
noecho_port=$port
port=$main_port
# four slots: c's two shards never hold every slot while a and b wait
STACK_SHARD_SIZE=20 stack_config "max_workers: 4"
sed -i "/^  b: /a\\  c: {base_url: \"http://127.0.0.1:$noecho_port/v1\", model: c, max_inflight: 4}" "$work/hret.yaml"
grep -q "^  c: " "$work/hret.yaml" || fail "model c not in the config"
stack_worker
set +e
stack_submit --dataset kmmlu --model a,b,c --method log_likelihood --request-id failcmp-1 \
  >"$work/submit.out" 2>&1
rc=$?
set -e
[ $rc = 1 ] || fail "submit: exit $rc (want 1: a failed run): $(cat "$work/submit.out")"
grep -q "^completed run=.* model=a" "$work/submit.out" && grep -q "^completed run=.* model=b" "$work/submit.out" &&
  grep -q "^failed run=" "$work/submit.out" || fail "runs: $(cat "$work/submit.out")"
run_c=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'failcmp-1' AND model_name = 'c'")
[ "$(pg_sql "SELECT status FROM runs WHERE run_id = '$run_c'")" = failed ] || fail "run c not failed"
# c failed last: after a and b completed (else this tests nothing)
[ "$(pg_sql "SELECT count(*) FROM runs WHERE request_id = 'failcmp-1' AND status = 'completed' AND finished_at < (SELECT finished_at FROM runs WHERE run_id = '$run_c')")" = 2 ] ||
  fail "run c did not fail last: $(pg_sql "SELECT model_name, status, finished_at FROM runs WHERE request_id = 'failcmp-1'")"

for _ in $(seq 150); do
  [ "$(pg_sql "SELECT count(*) FROM outbox WHERE published_at IS NULL")" = 0 ] && break
  sleep 0.2
done
[ "$(pg_sql "SELECT count(*) FROM comparisons WHERE request_id = 'failcmp-1'")" = 1 ] ||
  fail "comparisons: $(pg_sql "SELECT count(*) FROM comparisons WHERE request_id = 'failcmp-1'"), want 1 (b with a)"
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE ce_type = 'hret.comparison.completed.v1' AND published_at IS NOT NULL")" = 1 ] ||
  fail "comparison events in the outbox"
n=$(kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -e -q -f '%h\t%s\n' |
  grep -c "ce_type=hret.comparison.completed.v1.*\"request_id\": *\"failcmp-1\"" || true)
[ "$n" = 1 ] || fail "comparison events on $res_topic: $n, want 1"
[ "$(pg_sql "SELECT status FROM requests WHERE request_id = 'failcmp-1'")" = failed ] ||
  fail "request status: $(pg_sql "SELECT status FROM requests WHERE request_id = 'failcmp-1'")"
pg_sql "SELECT error FROM requests WHERE request_id = 'failcmp-1'" | grep -q "$run_c" ||
  fail "the request does not name its failed run: $(pg_sql "SELECT error FROM requests WHERE request_id = 'failcmp-1'")"
stack_stop "$worker" worker
echo ok
