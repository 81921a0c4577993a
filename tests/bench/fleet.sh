#!/usr/bin/env bash
# The fleet benchmarks of issue 6, through real Kafka and PostgreSQL (both started here):
#   fleet_scaling_4x     one run against fake-llm at 200 ms, with a per-worker in-flight cap that
#                        makes one worker the bottleneck: throughput of 4 workers over 1
#   e2e_overhead_ms_p50  a 10-sample request at 0 ms, warm group: from the request's send to its
#                        result event reaching `hret submit --wait`, median of 10 requests
#   fleet_rpm_utilization  three workers share a model's fleet_rpm (PostgreSQL leases) on a run
#                        the budget paces: the rate reached over fleet_rpm, and the busiest
#                        wall-clock minute fake-llm saw
#   fleet_vs_run_heavy_tail  one worker's samples/s over `hret run`'s on the same endpoint with the
#                        same max_inflight (32), latency 200-400 ms with 3% of requests 15x slower
# Appends rows to $HRET_BENCH_RESULTS (tests/bench/run.sh's format); runnable alone too (then
# it prints them). Needs build-bench/hret and fake-llm (run.sh builds them).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source "$root/tests/support/listening.sh"
bin=${HRET_BENCH_BIN:-$root/build-bench}
results=${HRET_BENCH_RESULTS:-/dev/stdout}
work=$(mktemp -d /tmp/hret-fleet.XXXXXX)
pg_dir=$(mktemp -d /tmp/hret-fleetpg.XXXXXX) # pg.sh's own: the postgres user must reach it
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/local/kafka.sh stop --dir "$work/kafka" >/dev/null 2>&1 || true
  deploy/local/pg.sh destroy "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

record() { # name value unit target notes
  python3 -c 'import json,sys; print(json.dumps({"name":sys.argv[1],"value":round(float(sys.argv[2]),4),"unit":sys.argv[3],"target":sys.argv[4],"notes":sys.argv[5]}))' "$@" >>"$results"
}

# A worker's 4 slots share its 16 in flight, so a worker runs 80 samples/s however its shards
# fall; 80 shards keep 16 slots busy. With 100-sample shards (40 over 16 slots) the last
# round runs a third full and the ratio measured 3.1: shard granularity, not the fleet.
items=4000 inflight=16 latency=200 shard=50 fleet_rpm=3000
echo "bench: fleet: Kafka (8 partitions), PostgreSQL, fake-llm at $latency ms" >&2
line=$(HRET_KAFKA_PARTITIONS=8 HRET_KAFKA_TOPICS="hret.eval.requests hret.eval.requests.dlq hret.eval.tasks hret.eval.tasks.dlq hret.eval.results hret.eval.alerts" \
  deploy/local/kafka.sh start --dir "$work/kafka" | grep '^HRET_KAFKA=')
export "${line?}"
eval "export $(deploy/local/pg.sh start "$pg_dir")"
"$bin/hret" migrate >/dev/null 2>&1
python3 tests/data/gen_kmmlu_synth.py --out "$work/data/kmmlu" --items $items --seed 3 >/dev/null
python3 tests/data/gen_kmmlu_synth.py --out "$work/data/small" --items 10 --seed 4 >/dev/null
python3 tests/data/gen_kmmlu_synth.py --out "$work/data/tail" --items 1200 --seed 5 >/dev/null

start_fake() { # name flags...: sets $fake_port (not in a subshell: cleanup must know the pid)
  local name=$1
  shift
  "$bin/fake-llm" --port 0 --threads 2 --log-level warn "$@" >"$work/$name.port" &
  pids+=($!)
  fake_port=$(listening_port "$work/$name.port" "fake-llm $name")
}
start_fake slow --latency-ms $latency --answer-key "$work/data/kmmlu/answer_key.tsv"
slow=$fake_port
start_fake fast --answer-key "$work/data/kmmlu/answer_key.tsv"
fast=$fake_port
# real LLM servers' latency: 200-400 ms, and 3% of requests 15 times slower
start_fake tail --latency-ms 200 --jitter-ms 200 --rate-slow 0.03 --slow-factor 15 \
  --answer-key "$work/data/tail/answer_key.tsv"
tail_port=$fake_port
{
  cat <<YAML
log_level: warn
datasets: {root: "$work/data", shard_size: $shard}
kafka: {brokers: "$HRET_KAFKA"}
postgres: {conninfo: "$HRET_PG"}
http: {listen: ""}
models:
  one: {base_url: "http://127.0.0.1:$slow/v1", model: one, max_inflight: $inflight}
  four: {base_url: "http://127.0.0.1:$slow/v1", model: four, max_inflight: $inflight}
  budget: {base_url: "http://127.0.0.1:$fast/v1", model: budget, max_inflight: 64, fleet_rpm: $fleet_rpm}
  tail: {base_url: "http://127.0.0.1:$tail_port/v1", model: tail, max_inflight: 32}
YAML
  for i in $(seq 0 10); do # distinct models: no request hits the response cache of another
    echo "  quick$i: {base_url: \"http://127.0.0.1:$fast/v1\", model: quick$i, max_inflight: 16}"
  done
} >"$work/hret.yaml"

workers=()
start_workers() { # n
  for _ in $(seq "$1"); do
    "$bin/hret" worker --config "$work/hret.yaml" >>"$work/worker.log" 2>&1 &
    workers+=($!)
    pids+=($!)
  done
  sleep 8 # the group settles (every worker assigned) before the clock starts
}
stop_workers() {
  kill "${workers[@]}" 2>/dev/null || true
  wait "${workers[@]}" 2>/dev/null || true
  workers=()
}
timed_submit() { # model request-id [data_dir]: prints seconds from send to the result event
  local rid=$2
  printf '{"request_id": "%s", "datasets": [{"name": "kmmlu"%s}], "models": [{"name": "%s"}]}\n' \
    "$rid" "${3:+, \"data_dir\": \"$3\"}" "$1" >"$work/$rid.json"
  python3 - "$bin/hret" "$work/hret.yaml" "$work/$rid.json" <<'PY'
import subprocess, sys, time
hret, cfg, req = sys.argv[1:4]
cmd = [hret, "submit", "--config", cfg, req, "--wait", "--timeout", "600"]
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
sent = done = None
for line in p.stdout:  # the request id comes once the broker acknowledged the request
    if sent is None:
        sent = time.monotonic()
    elif line.startswith("completed run="):
        done = time.monotonic()
p.wait()
if p.returncode != 0 or done is None:
    sys.exit(f"submit {req} failed ({p.returncode})")
print(f"{done - sent:.4f}")
PY
}

echo "bench: fleet: one worker, then four, on a $items-sample run" >&2
start_workers 1
t1=$(timed_submit one scale-1)
stop_workers
start_workers 4
t4=$(timed_submit four scale-4)
ratio=$(python3 -c "print($t1/$t4)")
record fleet_scaling_4x "$ratio" ratio ">= 3.6" \
  "$items samples, fake-llm $latency ms, max_inflight $inflight per worker (bound $((inflight * 1000 / latency)) samples/s each), max_workers 4 (default), shard_size $shard, 8 task partitions: 1 worker $(printf %.1f "$t1") s, 4 workers $(printf %.1f "$t4") s"

echo "bench: fleet: end-to-end overhead of a 10-sample request, warm group" >&2
timed_submit quick0 warm-0 small >/dev/null # warm: producer, group, prepared statements
lat=()
for i in $(seq 1 10); do lat+=("$(timed_submit "quick$i" "overhead-$i" small)"); done
p50=$(printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {print (a[5]+a[6])/2*1000}')
record e2e_overhead_ms_p50 "$p50" ms "< 100" \
  "request sent -> result event read by hret submit --wait; a 10-sample dataset, fake-llm 0 ms, 4 warm workers; median of 10 requests (each its own model, so no response-cache hits); samples $(printf '%s ' "${lat[@]}")s"
stop_workers

echo "bench: fleet: three workers sharing fleet_rpm $fleet_rpm on a $items-sample run" >&2
curl -sf -X POST "http://127.0.0.1:$fast/fake/reset" >/dev/null
start_workers 3
tb=$(timed_submit budget budget-1)
stop_workers
peak=$(curl -sf "http://127.0.0.1:$fast/fake/stats" | python3 -c 'import json, sys; print(max(json.load(sys.stdin)["per_minute"].values()))')
record fleet_rpm_utilization "$(python3 -c "print($items / ($tb / 60) / $fleet_rpm)")" ratio ">= 0.9" \
  "$items samples, 3 workers, fleet_rpm $fleet_rpm, fake-llm 0 ms: $(printf %.1f "$tb") s from send to result (lease start-up included); the busiest wall-clock minute had $peak requests (bound: fleet_rpm + one slice, $((fleet_rpm + fleet_rpm * 3 / 60)))"

echo "bench: fleet: stragglers, one worker vs hret run, 1200 samples, heavy-tailed latency" >&2
tail_items=1200
start_workers 1
tw=$(timed_submit tail tail-1 tail)
stop_workers
curl -sf -X POST "http://127.0.0.1:$tail_port/fake/reset" >/dev/null
start=$(date +%s.%N)
"$bin/hret" run --config "$work/hret.yaml" --dataset kmmlu --data-dir "$work/data/tail" \
  --model tail --no-cache --quiet --output "$work/tail-run.json" >/dev/null
tr=$(python3 -c "import time; print(time.time() - $start)")
record fleet_vs_run_heavy_tail "$(python3 -c "print(($tail_items / $tw) / ($tail_items / $tr))")" ratio ">= 0.9" \
  "$tail_items samples, fake-llm 200-400 ms with 3% of requests 15x slower, max_inflight 32: one worker (4 slots, shard_size $shard) $(printf %.1f "$tw") s from send to result, hret run $(printf %.1f "$tr") s"
