#!/usr/bin/env bash
# hret worker end to end: real Kafka (a broker of its own from deploy/local/kafka.sh), real
# PostgreSQL (tests/support/pg_env.sh), fake-llm with an answer key. One request with two models
# on a synthetic KMMLU-shaped set goes through `hret submit --wait` and one worker: both result
# events arrive with the accuracy `hret run` gives for the same model and data; runs, shards and
# samples rows are right; the same request again changes nothing; a request the worker refuses
# gets a failed event and the worker keeps going; SIGTERM exits 0.
set -euo pipefail
hret="$HRET_BUILD_DIR/hret"
fake="$HRET_BUILD_DIR/fake-llm"
src="$HRET_SOURCE_DIR"
work=$(mktemp -d)
pids=()
kafka_dir=""
source "$src/tests/support/pg_env.sh"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$kafka_dir" ] && "$src/deploy/local/kafka.sh" stop --dir "$kafka_dir" >/dev/null 2>&1
  pg_teardown
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$work/worker.log" ] && tail -30 "$work/worker.log" >&2
  exit 1
}

tag="w$$_$RANDOM"
req_topic="hret.eval.requests.$tag" task_topic="hret.eval.tasks.$tag" res_topic="hret.eval.results.$tag"
# a broker of our own: the test's topics must exist before hret submit follows them
kafka_dir="$work/kafka"
line=$(HRET_KAFKA_TOPICS="$req_topic $req_topic.dlq $task_topic $task_topic.dlq $res_topic" \
  "$src/deploy/local/kafka.sh" start --dir "$kafka_dir" | grep '^HRET_KAFKA=')
export "${line?}"
pg_setup

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/data/kmmlu" --items 300 --seed 7 >/dev/null
"$fake" --port 0 --log-level warn --answer-key "$work/data/kmmlu/answer_key.tsv" \
  --model-accuracy a=0.55 --model-accuracy b=0.7 --seed 5 >"$work/fake.out" 2>&1 &
pids+=($!)
port=$(listening_port "$work/fake.out") || exit 1
"$fake" --port 0 --log-level warn --latency-ms 200 >"$work/slow.out" 2>&1 &
pids+=($!)
slow_port=$(listening_port "$work/slow.out") || exit 1

config() { # extra models...
  cat <<YAML
output_dir: $work/out
log_level: info
kafka:
  brokers: "$HRET_KAFKA"
  group_id: "hret-workers-$tag"
  requests_topic: "$req_topic"
  tasks_topic: "$task_topic"
  results_topic: "$res_topic"
datasets: {root: "$work/data", shard_size: 64}
http: {listen: "127.0.0.1:0"}
models:
  a: {base_url: "http://127.0.0.1:$port/v1", model: a, max_inflight: 32}
  b: {base_url: "http://127.0.0.1:$port/v1", model: b, max_inflight: 32}
$*
YAML
}
slow="  slow: {base_url: \"http://127.0.0.1:$slow_port/v1\", model: slow, max_inflight: 2}
  dead: {base_url: \"http://127.0.0.1:1/v1\", model: dead, max_retries: 0}"
config "$slow" >"$work/worker.yaml"
config "$slow
  c: {base_url: \"http://127.0.0.1:$port/v1\", model: c}" >"$work/submit.yaml"

# what hret run gives for the same models and data
for m in a b; do
  "$hret" run --config "$work/worker.yaml" --dataset kmmlu --data-dir "$work/data/kmmlu" \
    --model "$m" --output "$work/run_$m.json" >/dev/null
done

start_worker() {
  "$hret" worker --config "$work/worker.yaml" --db "$HRET_PG" >>"$work/worker.log" 2>&1 &
  worker=$!
  pids+=($worker)
}
stop_worker() { # SIGTERM; the worker must exit 0 within 20 s
  kill -TERM "$worker"
  for _ in $(seq 200); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$worker" 2>/dev/null && fail "worker still running 20 s after SIGTERM"
  set +e
  wait "$worker"
  local rc=$?
  set -e
  [ $rc = 0 ] || fail "worker exit status $rc after SIGTERM"
}
start_worker
calls() { # model calls fake-llm on $port has answered
  curl -sf "http://127.0.0.1:$port/fake/stats" |
    python3 -c 'import json, sys; e = json.load(sys.stdin)["endpoints"]; print(e["chat_completions"] + e["completions"])'
}
calls0=$(calls)
# hret run above stored its answers in the response cache (HRET_PG is set): the worker's calls
# are counted against an empty one
pg_sql "DELETE FROM response_cache" >/dev/null

# 1. two models x one dataset: both results, accuracy as hret run's; the model called once per
# sample (issue 16)
"$hret" submit --config "$work/submit.yaml" --dataset kmmlu --model a,b --request-id req-1 \
  --run-name twomodels --wait --timeout 180 >"$work/submit1.out" || fail "submit 1: $(cat "$work/submit1.out")"
python3 - "$work" <<'PY' || fail "results differ from hret run"
import json, re, sys
work = sys.argv[1]
got = {}
for line in open(f"{work}/submit1.out"):
    m = re.match(r"completed run=\S+ model=(\S+) dataset=kmmlu accuracy=([0-9.]+)", line)
    if m:
        got[m.group(1)] = float(m.group(2))
assert set(got) == {"a", "b"}, got
for name in "ab":
    want = json.load(open(f"{work}/run_{name}.json"))["metrics"]["accuracy"]
    assert abs(got[name] - want) < 5e-5, (name, got[name], want)
print("accuracy", got)
PY
[ $(($(calls) - calls0)) = 600 ] || fail "req-1: $(($(calls) - calls0)) model calls for 600 samples"
q() { pg_sql "$1"; }
[ "$(q "SELECT count(*) FROM runs WHERE request_id = 'req-1' AND status = 'completed'")" = 2 ] ||
  fail "runs: $(q "SELECT run_id, status, error FROM runs")"
[ "$(q "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'req-1'")" = 600 ] ||
  fail "samples rows"
[ "$(q "SELECT count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'req-1' AND s.status = 'done'")" = 10 ] ||
  fail "shards: $(q "SELECT run_id, shard_idx, status FROM shards")"
[ "$(q "SELECT status FROM requests WHERE request_id = 'req-1'")" = completed ] || fail "request status"
# hret status reads the same from PostgreSQL
"$hret" status req-1 --config "$work/worker.yaml" --db "$HRET_PG" >"$work/status.txt"
grep -q "^request req-1: completed" "$work/status.txt" || fail "hret status: $(cat "$work/status.txt")"
[ "$(grep -cE "completed +model .*samples 300/300  errors 0  accuracy 0\." "$work/status.txt")" = 2 ] ||
  fail "hret status runs: $(cat "$work/status.txt")"
"$hret" status req-1 --json --config "$work/worker.yaml" --db "$HRET_PG" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="completed" and len(d["runs"])==2, d'
set +e
"$hret" status no-such-request --config "$work/worker.yaml" --db "$HRET_PG" 2>"$work/status.err"
rc=$?
set -e
[ $rc = 1 ] && grep -q "no request no-such-request" "$work/status.err" || fail "hret status of an unknown id"
for m in a b; do
  want=$(python3 -c "import json,sys; print(repr(json.load(open(sys.argv[1]))['metrics']['accuracy']))" "$work/run_$m.json")
  got=$(q "SELECT value FROM metrics JOIN runs USING (run_id) WHERE request_id = 'req-1' AND model_name = '$m' AND name = 'accuracy' AND subset = ''")
  python3 -c "import sys; assert abs(float(sys.argv[1]) - float(sys.argv[2])) < 1e-12, sys.argv" "$got" "$want" ||
    fail "stored accuracy of $m: $got, hret run $want"
done
# the two-model request also yields a comparison (b against the baseline a), published
[ "$(q "SELECT count(*) FROM comparisons WHERE request_id = 'req-1'")" = 1 ] || fail "comparison row"
for _ in $(seq 300); do
  [ "$(q "SELECT count(*) FROM outbox WHERE published_at IS NULL")" = 0 ] && break
  sleep 0.1
done
[ "$(q "SELECT count(*) FROM outbox WHERE published_at IS NULL")" = 0 ] || fail "outbox rows left unpublished"
q "SELECT payload FROM outbox WHERE ce_type = 'hret.comparison.completed.v1'" >"$work/cmp.json"
python3 - "$work" <<'PY' || fail "comparison event: $(cat "$work/cmp.json")"
import json, sys
work = sys.argv[1]
c = json.loads(open(f"{work}/cmp.json").read())
acc = {m: json.load(open(f"{work}/run_{m}.json"))["metrics"]["accuracy"] for m in "ab"}
assert c["request_id"] == "req-1" and c["metric"] == "accuracy"
assert c["baseline"]["model"] == "a" and c["candidate"]["model"] == "b"
assert abs(c["baseline"]["value"] - acc["a"]) < 1e-12 and abs(c["candidate"]["value"] - acc["b"]) < 1e-12
assert abs(c["difference"] - (acc["b"] - acc["a"])) < 1e-9, c["difference"]
assert c["n_pairs"] == 300
m = c["mcnemar"]
assert m["c"] - m["b"] == round((acc["b"] - acc["a"]) * 300), m
assert 0 <= m["p_value"] <= 1
PY
# a redelivered shard skips the stored samples and takes the missing ones from the cache (the run
# is made running again: only a live run's shards are handed out)
run_a=$(q "SELECT run_id FROM runs WHERE request_id = 'req-1' AND model_name = 'a'")
redeliver() { # drops 10 samples of shard 0 and publishes its task again; prints endpoint calls
  curl -s -X POST "http://127.0.0.1:$port/fake/reset" >/dev/null
  local n
  n=$(q "SELECT attempts FROM shards WHERE run_id = '$run_a' AND shard_idx = 0")
  q "UPDATE runs SET status = 'running' WHERE run_id = '$run_a';
     UPDATE shards SET status = 'pending' WHERE run_id = '$run_a' AND shard_idx = 0;
     DELETE FROM samples WHERE run_id = '$run_a' AND sample_idx < 10;
     UPDATE outbox SET published_at = NULL WHERE event_id = '$run_a:shard:0'" >/dev/null
  for _ in $(seq 100); do
    [ "$(q "SELECT status = 'done' AND attempts > $n FROM shards WHERE run_id = '$run_a' AND shard_idx = 0")" = t ] && break
    sleep 0.2
  done
  [ "$(q "SELECT status FROM shards WHERE run_id = '$run_a' AND shard_idx = 0")" = done ] || fail "shard not redone"
  [ "$(q "SELECT count(*) FROM samples WHERE run_id = '$run_a'")" = 300 ] || fail "samples after redelivery"
  curl -s "http://127.0.0.1:$port/fake/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['requests_total'])"
}
q "DELETE FROM response_cache" >/dev/null
calls=$(redeliver)
[ "$calls" = 10 ] || fail "redelivered shard called the endpoint $calls times (want 10: stored samples skipped)"
calls=$(redeliver)
[ "$calls" = 0 ] || fail "redelivered shard called the endpoint $calls times (want 0: cached)"
[ "$(q "SELECT count(*) FROM outbox WHERE ce_type = 'hret.run.completed.v1'")" = 2 ] ||
  fail "a redelivered shard of a completed run published again"
# (the refused request below adds its failed event to the outbox: not counted)
before=$(q "SELECT count(*) FROM runs")/$(q "SELECT count(*) FROM samples")/$(q "SELECT count(*) FROM outbox WHERE msg_key IS DISTINCT FROM 'req-bad'")

# 2. the same request id again: nothing changes
"$hret" submit --config "$work/submit.yaml" --dataset kmmlu --model a,b --request-id req-1 \
  --run-name twomodels >/dev/null
# 3. a request the worker refuses (model c is not in its config): failed event, worker goes on
set +e
"$hret" submit --config "$work/submit.yaml" --dataset kmmlu --model c --request-id req-bad \
  --wait --timeout 120 >"$work/submit3.out" 2>&1
rc=$?
set -e
[ $rc = 1 ] || fail "refused request: exit $rc: $(cat "$work/submit3.out")"
grep -q "failed run=- .*error=.*c" "$work/submit3.out" || fail "failed event: $(cat "$work/submit3.out")"
grep -q "refused request" "$work/worker.log" || fail "no refusal in the worker log"
# the refused message is in the requests topic's DLQ with the reason in its headers
cat >"$work/DlqDump.java" <<'JAVA'
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.header.Header;
public class DlqDump {
    public static void main(String[] a) {
        Properties p = new Properties();
        p.put("bootstrap.servers", a[0]);
        p.put("group.id", "dlq-dump-" + System.nanoTime());
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        p.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(a[1]));
            long end = System.currentTimeMillis() + 30000;
            while (System.currentTimeMillis() < end) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                    if (a.length > 2 && !a[2].equals(r.key())) {
                        continue;
                    }
                    System.out.println("key=" + r.key());
                    System.out.println("value=" + r.value());
                    for (Header h : r.headers()) {
                        System.out.println(h.key() + "=" + new String(h.value()));
                    }
                    return;
                }
            }
        }
    }
}
JAVA
kafka_libs=$(ls -d "$src"/deploy/local/.cache/kafka-*/libs | sed -n 1p)
java -cp "$kafka_libs/*" "$work/DlqDump.java" "$HRET_KAFKA" "$req_topic.dlq" >"$work/dlq.out" 2>/dev/null || true
grep -q "^key=req-bad$" "$work/dlq.out" && grep -q "^hret_dlq_reason=.*unknown model 'c'" "$work/dlq.out" &&
  grep -q "^hret_dlq_path=models\[0\].name$" "$work/dlq.out" || fail "DLQ message: $(cat "$work/dlq.out")"
# ... and its hret.run.failed.v1 event validates against the schema
java -cp "$kafka_libs/*" "$work/DlqDump.java" "$HRET_KAFKA" "$res_topic" req-bad >"$work/failed.out" 2>/dev/null || true
grep -q "^ce_type=hret.run.failed.v1$" "$work/failed.out" || fail "failed event: $(cat "$work/failed.out")"
sed -n 's/^value=//p' "$work/failed.out" >"$work/failed.json"
python3 "$src/tests/integration/request_schema_check.py" validate \
  "$src/schemas/events/hret.run.failed.v1.schema.json" "$work/failed.json" >"$work/schema.out" ||
  fail "hret.run.failed.v1: $(cat "$work/schema.out")"
after=$(q "SELECT count(*) FROM runs")/$(q "SELECT count(*) FROM samples")/$(q "SELECT count(*) FROM outbox WHERE msg_key IS DISTINCT FROM 'req-bad'")
[ "$before" = "$after" ] || fail "redelivered request changed the store: $before -> $after"
grep -q "already planned; redelivery ignored" "$work/worker.log" || fail "redelivery not seen"

# 4. the worker keeps going: a third request, one model, limit 100
"$hret" submit --config "$work/submit.yaml" --dataset kmmlu --model b --limit 100 \
  --request-id req-3 --wait --timeout 120 >"$work/submit4.out" || fail "submit 4: $(cat "$work/submit4.out")"
grep -q "completed run=.* model=b" "$work/submit4.out" || fail "req-3 result"
[ "$(q "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'req-3'")" = 100 ] ||
  fail "req-3 samples"

# 4b. a run that scores nothing (every request refused): failed with class nothing_scored
set +e
"$hret" submit --config "$work/submit.yaml" --dataset kmmlu --model dead --limit 5 \
  --request-id req-dead --wait --timeout 120 >"$work/submit_dead.out" 2>&1
rc=$?
set -e
[ $rc = 1 ] || fail "nothing-scored request: exit $rc: $(cat "$work/submit_dead.out")"
[ "$(q "SELECT status || ':' || error FROM runs WHERE request_id = 'req-dead'")" = "failed:nothing scored: every request failed (errors are in the results)" ] ||
  fail "nothing-scored run row: $(q "SELECT status, error FROM runs WHERE request_id = 'req-dead'")"
[ "$(q "SELECT payload->'error'->>'class' FROM outbox WHERE ce_type = 'hret.run.failed.v1' AND payload->>'request_id' = 'req-dead'")" = nothing_scored ] ||
  fail "no nothing_scored failed event"

# every event the worker published validates against its schema
for t in hret.shard.task.v1 hret.run.completed.v1 hret.comparison.completed.v1 hret.run.failed.v1; do
  q "SELECT payload FROM outbox WHERE ce_type = '$t'" >"$work/events.jsonl"
  [ -s "$work/events.jsonl" ] || fail "no $t events"
  while IFS= read -r line; do printf '%s' "$line" >"$work/event_$t.json"; break; done <"$work/events.jsonl"
  python3 "$src/tests/integration/request_schema_check.py" validate \
    "$src/schemas/events/$t.schema.json" "$work/event_$t.json" >"$work/schema.out" ||
    fail "$t: $(cat "$work/schema.out")"
done

# 5. SIGTERM while idle: exit 0
stop_worker

# 6. SIGTERM in the middle of a shard: what finished is kept, the shard is given back, the
# offset is not committed; the next worker finishes the run
start_worker
"$hret" submit --config "$work/submit.yaml" --dataset kmmlu --model slow --limit 40 \
  --request-id req-slow >/dev/null
for _ in $(seq 300); do
  [ "$(q "SELECT count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'req-slow' AND s.status = 'running'")" = 1 ] && break
  sleep 0.1
done
sleep 1.5
stop_worker
# given back = its lease expired at once: the redelivered task (or the sweep) hands it out again
[ "$(q "SELECT s.status = 'running' AND s.lease_until <= now() FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'req-slow'")" = t ] ||
  fail "interrupted shard not given back: $(q "SELECT s.status, s.lease_until FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'req-slow'")"
kept=$(q "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'req-slow'")
[ "$kept" -gt 0 ] && [ "$kept" -lt 40 ] || fail "interrupted shard kept $kept samples"
start_worker
"$hret" submit --config "$work/submit.yaml" --dataset kmmlu --model slow --limit 40 \
  --request-id req-slow --wait --timeout 120 >"$work/submit6.out" || fail "req-slow: $(cat "$work/submit6.out")"
grep -q "completed run=.* model=slow" "$work/submit6.out" || fail "req-slow result"
[ "$(q "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'req-slow'")" = 40 ] ||
  fail "req-slow samples"
stop_worker
cat "$work/submit1.out" "$work/submit4.out"
echo "ok"
