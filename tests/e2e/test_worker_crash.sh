#!/usr/bin/env bash
# Crash test (issue 6): three workers on one 5,000-sample run against fake-llm at 100 ms; every
# few seconds one of them, at random, is killed with SIGKILL and started again, until the run
# completes. Then every sample is stored exactly once, the metrics equal a clean `hret run`'s on
# the same data, every shard is done, and the run's result event was published (a consumer may
# see a duplicate ce_id, never none). Recovery is by the shard leases (datasets.shard_lease_s: a
# dead worker's shard is handed out again by the sweep) and by Kafka redelivering what the dead
# worker never committed (session.timeout.ms 6 s).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=5000
HRET_KAFKA_PARTITIONS=6 STACK_FAKE_FLAGS="--latency-ms 100" stack_up "$items"
slow_port=$port
# short leases and a short session, so a killed worker is noticed quickly
STACK_SHARD_SIZE=100 STACK_LEASE_S=6 STACK_INFLIGHT=8 \
  STACK_KAFKA_PROPERTIES='{session.timeout.ms: "6000", heartbeat.interval.ms: "1000"}' \
  stack_config "max_workers: 2"
# a kill every few seconds interrupts each shard several times: more attempts than the default 5
sed -i 's/shard_lease_s: 6}/shard_lease_s: 6, max_shard_attempts: 100}/' "$work/hret.yaml"
grep -q 'max_shard_attempts: 100' "$work/hret.yaml" || fail "max_shard_attempts not set"

# what a clean run gives: the same answers from a fake-llm without latency
start_fake fast --answer-key "$work/data/kmmlu/answer_key.tsv" --model-accuracy a=0.55 \
  --model-accuracy b=0.7 --seed 5
sed "s/127.0.0.1:$slow_port/127.0.0.1:$port/g" "$work/hret.yaml" >"$work/clean.yaml"
"$hret" run --config "$work/clean.yaml" --dataset kmmlu --data-dir "$work/data/kmmlu" --model b \
  --quiet --output "$work/clean.json" >"$work/clean.out" || fail "clean hret run"
clean_id=$(sed -n 's/^ *stored *run \([^ ]*\) .*/\1/p' "$work/clean.out")
[ -n "$clean_id" ] || fail "the clean run was not stored: $(cat "$work/clean.out")"

declare -a wpid
start_w() { # index
  "$hret" worker --config "$work/hret.yaml" >>"$work/worker$1.log" 2>&1 &
  wpid[$1]=$!
  pids+=($!)
}
for i in 0 1 2; do start_w $i; done

"$hret" submit --config "$work/hret.yaml" --dataset kmmlu --model b --request-id crash-1 \
  --run-name crash >"$work/submit.out" || fail "submit: $(cat "$work/submit.out")"

status() { pg_sql "SELECT COALESCE(string_agg(status, ','), 'none') FROM runs WHERE request_id = 'crash-1'"; }
kills=0
deadline=$((SECONDS + 300))
while [ "$(status)" != completed ]; do
  [ $SECONDS -lt $deadline ] || fail "run not completed after 300 s ($kills kills): $(status)"
  sleep $((3 + RANDOM % 3))
  [ "$(status)" = completed ] && break
  victim=$((RANDOM % 3))
  kill -9 "${wpid[$victim]}" 2>/dev/null || true
  wait "${wpid[$victim]}" 2>/dev/null || true
  kills=$((kills + 1))
  start_w "$victim"
done
echo "run completed after $kills kill -9s" >&2
[ "$kills" -ge 3 ] || fail "only $kills workers were killed: the run was too fast to test anything"

run_id=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'crash-1'")
# every sample stored, each with the clean run's prediction and score
[ "$(pg_sql "SELECT count(*) FROM samples f JOIN samples c ON c.run_id = '$clean_id' AND c.sample_idx = f.sample_idx
   AND c.prediction = f.prediction AND c.correct = f.correct WHERE f.run_id = '$run_id'")" = "$items" ] ||
  fail "samples: $(pg_sql "SELECT count(*) FROM samples WHERE run_id = '$run_id'") stored, $(pg_sql "SELECT count(*) FROM samples f JOIN samples c ON c.run_id = '$clean_id' AND c.sample_idx = f.sample_idx AND c.prediction = f.prediction WHERE f.run_id = '$run_id'") as the clean run"
[ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status <> 'done'")" = 0 ] ||
  fail "shards not done: $(pg_sql "SELECT shard_idx, status, owner FROM shards WHERE run_id = '$run_id' AND status <> 'done'")"
reclaimed=$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND attempts > 1")
echo "shards run more than once: $reclaimed" >&2
# a kill costs at most what the killed worker had in flight (8: max_inflight) and the answers it
# received since its last write to the response cache (every 100 ms: about as many at 100 ms a
# request); a shard run again takes the rest from the cache (issue 16)
stack_check_calls "$items" $((kills * 2 * 8)) "$slow_port"

want=$(python3 -c "import json,sys; print(repr(json.load(open(sys.argv[1]))['metrics']['accuracy']))" "$work/clean.json")
got=$(pg_sql "SELECT value FROM metrics WHERE run_id = '$run_id' AND name = 'accuracy' AND subset = ''")
python3 -c "import sys; assert abs(float(sys.argv[1]) - float(sys.argv[2])) < 1e-12, sys.argv" "$got" "$want" ||
  fail "accuracy after the crashes $got, clean run $want"

# the result event: published (the outbox row is marked) and on the topic, at least once
for _ in $(seq 100); do
  [ "$(pg_sql "SELECT count(*) FROM outbox WHERE msg_key = '$run_id' AND ce_type = 'hret.run.completed.v1' AND published_at IS NOT NULL")" = 1 ] && break
  sleep 0.2
done
# a killed worker's claimed rows go out from a live relay once their claim lapses (15 s)
stack_outbox_drained "after the kills"
[ "$(pg_sql "SELECT count(*) FROM outbox WHERE msg_key = '$run_id' AND ce_type = 'hret.run.completed.v1'")" = 1 ] ||
  fail "completed events in the outbox"
kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -e -q -f '%h\t%s\n' >"$work/results.tsv"
n=$(grep -c "ce_type=hret.run.completed.v1.*\"run_id\": *\"$run_id\"" "$work/results.tsv" || true)
[ "$n" -ge 1 ] || fail "no hret.run.completed.v1 event for $run_id on $res_topic"
# a worker killed between publishing and marking the row publishes it again: same ce_id
ids=$(grep "ce_type=hret.run.completed.v1.*\"run_id\": *\"$run_id\"" "$work/results.tsv" | grep -o 'ce_id=[^,	]*' | sort -u | wc -l)
[ "$ids" = 1 ] || fail "$ids different ce_ids for the run's result event"
echo "crash test: $items samples stored once, accuracy $got = clean, $kills kills, $reclaimed shards rerun, $(stack_llm_calls "$slow_port") model calls, result event seen $n time(s)" >&2
