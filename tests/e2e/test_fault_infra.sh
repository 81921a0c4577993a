#!/usr/bin/env bash
# Infrastructure faults (issue 10) under load from two workers (two slots each), one
# 2,000-sample run per fault (max_inflight 4), fake-llm at 150 ms:
#   a. PostgreSQL (a cluster of the test's own) stopped for 10 s once a tenth of the shards are
#      done, then started again on the same port and data (shards must finish after the restart);
#   b. the Kafka broker stopped (kafka.sh stop --keep) as soon as the run is planned and started
#      again on the same port and data after 10 s (the run must still be running when the broker
#      is gone).
# For each: no worker exits, the run completes, every sample is stored exactly once, every shard
# is done, the accuracy equals a clean `hret run`'s, the outbox is drained and the result event
# is on the topic (one ce_id, possibly more than once). Prints what the workers logged about the
# outage and how long they took to finish a shard after the restart.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=2000
HRET_KAFKA_PARTITIONS=6 STACK_PG=own STACK_FAKE_FLAGS="--latency-ms 150" stack_up "$items"
slow_port=$port
STACK_SHARD_SIZE=100 STACK_LEASE_S=20 STACK_INFLIGHT=4 \
  STACK_KAFKA_PROPERTIES='{session.timeout.ms: "10000", heartbeat.interval.ms: "1000"}' \
  stack_config "max_workers: 2" 'http: {listen: "127.0.0.1:0"}'

start_fake fast --answer-key "$work/data/kmmlu/answer_key.tsv" --model-accuracy a=0.55 \
  --model-accuracy b=0.7 --seed 5
sed "s/127.0.0.1:$slow_port/127.0.0.1:$port/g" "$work/hret.yaml" >"$work/clean.yaml"
"$hret" run --config "$work/clean.yaml" --dataset kmmlu --data-dir "$work/data/kmmlu" --model b \
  --quiet --output "$work/clean.json" >"$work/clean.out" || fail "clean hret run"
clean_id=$(sed -n 's/^ *stored *run \([^ ]*\) .*/\1/p' "$work/clean.out")
[ -n "$clean_id" ] || fail "the clean run was not stored: $(cat "$work/clean.out")"
want=$(python3 -c "import json,sys; print(repr(json.load(open(sys.argv[1]))['metrics']['accuracy']))" "$work/clean.json")

declare -a wpid
for i in 0 1; do
  "$hret" worker --config "$work/hret.yaml" >>"$work/worker$i.log" 2>&1 &
  wpid[$i]=$!
  pids+=($!)
done
alive() { for p in "${wpid[@]}"; do kill -0 "$p" 2>/dev/null || fail "worker $p exited: $1"; done; }
q() { pg_sql "$1"; }
shards_done() { q "SELECT count(*) FILTER (WHERE s.status = 'done') || '/' || count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = '$1'"; }

# submits REQ and returns once its shards exist and PCT% of them are done
submit_and_wait() { # req pct
  "$hret" submit --config "$work/hret.yaml" --dataset kmmlu --model b --request-id "$1" \
    --run-name "$1" >"$work/submit-$1.out" || fail "submit $1: $(cat "$work/submit-$1.out")"
  local d n deadline=$((SECONDS + 240))
  while :; do
    d=$(shards_done "$1")
    n=${d%/*}
    [ "${d#*/}" -gt 0 ] 2>/dev/null && [ $((n * 100)) -ge $((${d#*/} * $2)) ] && break
    [ $SECONDS -lt $deadline ] || fail "$1: shards $d after 240 s"
    alive "before the fault"
    sleep 0.5
  done
  [ "$n" -lt "${d#*/}" ] || fail "$1: the run finished before the fault ($d): too fast to test anything"
  echo "$1: fault injected at $d shards done" >&2
}

# waits until REQ's run completed (and its result event went out), then checks it
wait_and_check() {
  local req=$1 s deadline=$((SECONDS + 300)) run_id got
  while :; do
    s=$(q "SELECT COALESCE(string_agg(status, ','), 'none') FROM runs WHERE request_id = '$req'" 2>/dev/null || echo "db down")
    [ "$s" = completed ] && break
    case $s in failed | partial | cancelled) fail "$req: run $s: $(q "SELECT error FROM runs WHERE request_id = '$req'")" ;; esac
    [ $SECONDS -lt $deadline ] || fail "$req: run $s 300 s after the fault"
    alive "during recovery of $req"
    sleep 0.5
  done
  done_at=$SECONDS
  run_id=$(q "SELECT run_id FROM runs WHERE request_id = '$req'")
  # every sample stored, each with the clean run's prediction and score
  [ "$(q "SELECT count(*) FROM samples f JOIN samples c ON c.run_id = '$clean_id' AND c.sample_idx = f.sample_idx
          AND c.prediction = f.prediction AND c.correct = f.correct WHERE f.run_id = '$run_id'")" = "$items" ] ||
    fail "$req samples: $(q "SELECT count(*) FROM samples WHERE run_id = '$run_id'") stored, $(q "SELECT count(*) FROM samples f JOIN samples c ON c.run_id = '$clean_id' AND c.sample_idx = f.sample_idx AND c.prediction = f.prediction WHERE f.run_id = '$run_id'") as the clean run"
  [ "$(q "SELECT count(*) FROM samples WHERE run_id = '$run_id' AND error_class IS NOT NULL")" = 0 ] ||
    fail "$req: samples with errors: $(q "SELECT error_class, error FROM samples WHERE run_id = '$run_id' AND error_class IS NOT NULL LIMIT 3")"
  [ "$(q "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status <> 'done'")" = 0 ] ||
    fail "$req: shards not done"
  reruns=$(q "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND attempts > 1")
  got=$(q "SELECT value FROM metrics WHERE run_id = '$run_id' AND name = 'accuracy' AND subset = ''")
  python3 -c "import sys; assert abs(float(sys.argv[1]) - float(sys.argv[2])) < 1e-12, sys.argv" "$got" "$want" ||
    fail "$req: accuracy $got, clean run $want"
  local n=0
  stack_outbox_drained "$req"
  for _ in $(seq 60); do
    kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -e -q -f '%h\t%s\n' >"$work/results.tsv" 2>/dev/null || true
    n=$(grep -c "ce_type=hret.run.completed.v1.*\"run_id\": *\"$run_id\"" "$work/results.tsv" || true)
    [ "$n" -ge 1 ] && break
    sleep 1
  done
  [ "$n" -ge 1 ] || fail "$req: no hret.run.completed.v1 event for $run_id"
  ids=$(grep "ce_type=hret.run.completed.v1.*\"run_id\": *\"$run_id\"" "$work/results.tsv" |
    grep -o 'ce_id=[^,	]*' | sort -u | wc -l)
  [ "$ids" = 1 ] || fail "$req: $ids different ce_ids for one run's result event"
  [ "$(q "SELECT count(*) FROM outbox WHERE msg_key = '$run_id' AND ce_type = 'hret.run.completed.v1'")" = 1 ] ||
    fail "$req: completed events in the outbox"
  events_seen=$n
  echo "$req: $items samples stored once, accuracy $got = clean, $reruns shards rerun, result event seen $n time(s)" >&2
}

outage_log() { # worker log lines from line $1 on, about the outage, condensed
  for i in 0 1; do
    tail -n +"$1" "$work/worker$i.log" | grep -E 'level=(warn|error)' | sed -E 's/^ts=[^ ]* //; s/ id=[^ ]*//' |
      cut -c1-160 | sort | uniq -c | sort -rn | sed -n 1,4p | sed "s/^/  worker$i: /"
  done
}

# a. PostgreSQL ----------------------------------------------------------------------------------
# the model is called once per sample, except for the shards whose completion could not be stored
# while the database was down: each of those (at most one per slot: 2 workers x 2) runs again, with
# what reached the response cache before the outage (issue 16)
submit_and_wait pg-1 10
t_stop=$SECONDS
pg_stop >/dev/null
sleep 10
alive "while PostgreSQL was down"
pg_start
t_up=$SECONDS
up_ts=$(q "SELECT now()")
wait_and_check pg-1
first=$(q "SELECT round(extract(epoch FROM min(s.finished_at) - '$up_ts'::timestamptz)::numeric, 1) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'pg-1' AND s.finished_at > '$up_ts'")
[ -n "$first" ] || fail "pg-1: no shard finished after the restart: the outage missed the run"
echo "pg: down $((t_up - t_stop)) s; first shard done ${first:-none} s after the restart; run completed $((done_at - t_up)) s after it; events $events_seen" >&2
stack_check_calls "$items" $((2 * 2 * 100)) "$slow_port"
curl -sf -X POST "http://127.0.0.1:$slow_port/fake/reset" >/dev/null || fail "fake-llm reset"
outage_log 1 >&2
pg_lines=$(cat "$work"/worker0.log "$work"/worker1.log | wc -l)
w0=$(($(wc -l <"$work/worker0.log") + 1))
w1=$(($(wc -l <"$work/worker1.log") + 1))

# b. Kafka ---------------------------------------------------------------------------------------
# the same model and samples as pg-1: without this, kafka-1 would take pg-1's answers from the
# response cache (all but those dropped while the database was down) and call the model less
q "DELETE FROM response_cache" >/dev/null
submit_and_wait kafka-1 0 # as soon as it is planned: shard tasks may still be in the outbox
t_stop=$SECONDS
"$src/deploy/local/kafka.sh" stop --keep --dir "$kafka_dir" >/dev/null 2>&1
[ -f "$kafka_dir/kept" ] || fail "kafka.sh stop --keep did not keep the broker"
[ "$(q "SELECT status FROM runs WHERE request_id = 'kafka-1'")" != completed ] ||
  fail "kafka-1 completed before the broker was down: too fast to test anything"
sleep 10
alive "while Kafka was down"
t_start=$SECONDS
line=$("$src/deploy/local/kafka.sh" start --dir "$kafka_dir" | grep '^HRET_KAFKA=')
[ "$line" = "HRET_KAFKA=$HRET_KAFKA" ] || fail "the broker came back elsewhere: $line, not $HRET_KAFKA"
t_up=$SECONDS
up_ts=$(q "SELECT now()")
wait_and_check kafka-1
first=$(q "SELECT round(extract(epoch FROM min(s.finished_at) - '$up_ts'::timestamptz)::numeric, 1) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'kafka-1' AND s.finished_at > '$up_ts'")
stack_check_calls "$items" 0 "$slow_port" # a broker outage runs nothing twice
echo "kafka: down $((t_up - t_stop)) s (restart took $((t_up - t_start)) s); next shard done ${first:-before} s after it was back; run completed $((done_at - t_up)) s after it; events $events_seen" >&2
{ tail -n +"$w0" "$work/worker0.log" | sed 's/^/worker0: /'; tail -n +"$w1" "$work/worker1.log" | sed 's/^/worker1: /'; } |
  grep -E 'level=(warn|error)' | sed -E 's/ ts=[^ ]*//; s/ id=[^ ]*//' | cut -c1-200 | sort | uniq -c | sort -rn | sed -n 1,8p >&2
alive "at the end"
# under ASan+UBSan: no report in any log
! grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$work"/*.log >/dev/null 2>&1 ||
  fail "sanitizer report in $(grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$work"/*.log)"
echo "fault infra: ok ($pg_lines worker log lines after the PostgreSQL outage)" >&2
