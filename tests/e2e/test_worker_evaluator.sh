#!/usr/bin/env bash
# External evaluators in the fleet: a request naming the configured exact_ci evaluator runs
# through hret submit --wait and one worker (real Kafka, PostgreSQL, fake-llm) with the accuracy
# `hret run --method exact_ci` gives; an evaluator with a short output makes, in each shard,
# exactly the samples without a verdict line errors with the reason, stored in PostgreSQL.
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

# an evaluator that answers only the first 2 samples of each batch
cat >"$work/short_eval.py" <<'PY'
import json, sys
lines = [json.loads(l) for l in sys.stdin]
for s in lines[:2]:
    print(json.dumps({"is_correct": s["prediction"].strip() == s["reference"].strip()}))
PY
cat >"$work/worker.yaml" <<YAML
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
evaluators:
  exact_ci: {command: [python3, "$src/examples/evaluators/exact_ci.py"], timeout_ms: 60000}
  short: {command: [python3, "$work/short_eval.py"], timeout_ms: 60000}
YAML

"$hret" run --config "$work/worker.yaml" --dataset kmmlu --data-dir "$work/data/kmmlu" \
  --model a --method exact_ci --output "$work/run_a.json" >/dev/null
"$hret" worker --config "$work/worker.yaml" --db "$HRET_PG" >>"$work/worker.log" 2>&1 &
pids+=($!)

# 1. the fleet scores with the external evaluator as hret run does
"$hret" submit --config "$work/worker.yaml" --dataset kmmlu --model a --method exact_ci \
  --request-id ev-1 --wait --timeout 180 >"$work/submit1.out" || fail "submit 1: $(cat "$work/submit1.out")"
python3 - "$work" <<'PY' || fail "fleet accuracy differs from hret run: $(cat "$work/submit1.out")"
import json, re, sys
work = sys.argv[1]
got = None
for line in open(f"{work}/submit1.out"):
    m = re.match(r"completed run=\S+ model=a dataset=kmmlu accuracy=([0-9.]+)", line)
    got = float(m.group(1)) if m else got
want = json.load(open(f"{work}/run_a.json"))["metrics"]["accuracy"]
assert got is not None and abs(got - want) < 5e-5, (got, want)
print("accuracy", got, want)
PY
q() { pg_sql "$1"; }
[ "$(q "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'ev-1' AND s.error IS NULL")" = 300 ] ||
  fail "ev-1 samples: $(q "SELECT count(*), min(error) FROM samples")"

# 2. a short output: per shard of 64 (the last has 44), samples 3.. are errors with the reason
"$hret" submit --config "$work/worker.yaml" --dataset kmmlu --model a --method short \
  --request-id ev-2 --wait --timeout 180 >"$work/submit2.out" || true
[ "$(q "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'ev-2' AND s.error IS NULL")" = 10 ] ||
  fail "ev-2 scored samples: $(q "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'ev-2' AND s.error IS NULL")"
[ "$(q "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'ev-2' AND s.error LIKE '%evaluator ''short'': short output: 2 verdict lines for %'")" = 290 ] ||
  fail "ev-2 errors: $(q "SELECT error, count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'ev-2' GROUP BY 1")"
echo ok
