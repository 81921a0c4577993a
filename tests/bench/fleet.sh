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
#   fleet_task_dispatch_ms_p50  one worker with 8 slots, 20 runs of 6 shards one after the other
#                        (every task finds a free slot): a task's Kafka timestamp to a slot
#                        starting it, median of the worker's hret_worker_dispatch_seconds
#   fleet_32_workers_efficiency  32 worker processes (1 slot, max_inflight 8 each) on a fresh
#                        broker with 32 partitions per topic (HRET_BENCH_W32_PARTITIONS), fake-llm
#                        at 1 s: samples/s over
#                        32 x 8 / 1 s; notes: PostgreSQL connections, the group's join time
# HRET_BENCH_FLEET_ROWS picks rows (default all): scaling e2e budget tail dispatch workers32.
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
rows=" ${HRET_BENCH_FLEET_ROWS:-scaling e2e budget tail dispatch workers32} "
want() { [[ $rows == *" $1 "* ]]; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/local/kafka.sh stop --dir "$work/kafka" >/dev/null 2>&1 || true
  deploy/local/kafka.sh stop --dir "$work/kafka32" >/dev/null 2>&1 || true
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
conf=$work/hret.yaml # the configuration workers and submits use
start_workers() { # n
  for _ in $(seq "$1"); do
    "$bin/hret" worker --config "$conf" >>"$work/worker.log" 2>&1 &
    workers+=($!)
    pids+=($!)
  done
  sleep 8 # the group settles (every worker assigned) before the clock starts
}
stop_workers() {
  [ ${#workers[@]} -gt 0 ] || return 0 # a bare wait would wait for the fakes too
  kill "${workers[@]}" 2>/dev/null || true
  wait "${workers[@]}" 2>/dev/null || true
  workers=()
}
timed_submit() { # model request-id [data_dir]: prints seconds from send to the result event
  local rid=$2
  printf '{"request_id": "%s", "datasets": [{"name": "kmmlu"%s}], "models": [{"name": "%s"}]}\n' \
    "$rid" "${3:+, \"data_dir\": \"$3\"}" "$1" >"$work/$rid.json"
  python3 - "$bin/hret" "$conf" "$work/$rid.json" <<'PY'
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

if want scaling; then
  echo "bench: fleet: one worker, then four, on a $items-sample run" >&2
  start_workers 1
  t1=$(timed_submit one scale-1)
  stop_workers
  start_workers 4
  t4=$(timed_submit four scale-4)
  ratio=$(python3 -c "print($t1/$t4)")
  record fleet_scaling_4x "$ratio" ratio ">= 3.6" \
    "$items samples, fake-llm $latency ms, max_inflight $inflight per worker (bound $((inflight * 1000 / latency)) samples/s each), max_workers 4 (default), shard_size $shard, 8 task partitions: 1 worker $(printf %.1f "$t1") s, 4 workers $(printf %.1f "$t4") s"
fi

if want e2e; then
echo "bench: fleet: end-to-end overhead of a 10-sample request, warm group" >&2
[ ${#workers[@]} -gt 0 ] || start_workers 4
timed_submit quick0 warm-0 small >/dev/null # warm: producer, group, prepared statements
lat=()
for i in $(seq 1 10); do lat+=("$(timed_submit "quick$i" "overhead-$i" small)"); done
p50=$(printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {print (a[5]+a[6])/2*1000}')
record e2e_overhead_ms_p50 "$p50" ms "< 30" \
  "request sent -> result event read by hret submit --wait; a 10-sample dataset, fake-llm 0 ms, 4 warm workers; median of 10 requests (each its own model, so no response-cache hits); samples $(printf '%s ' "${lat[@]}")s"
fi
stop_workers

if want budget; then
echo "bench: fleet: three workers sharing fleet_rpm $fleet_rpm on a $items-sample run" >&2
curl -sf -X POST "http://127.0.0.1:$fast/fake/reset" >/dev/null
start_workers 3
tb=$(timed_submit budget budget-1)
stop_workers
peak=$(curl -sf "http://127.0.0.1:$fast/fake/stats" | python3 -c 'import json, sys; print(max(json.load(sys.stdin)["per_minute"].values()))')
record fleet_rpm_utilization "$(python3 -c "print($items / ($tb / 60) / $fleet_rpm)")" ratio ">= 0.9" \
  "$items samples, 3 workers, fleet_rpm $fleet_rpm, fake-llm 0 ms: $(printf %.1f "$tb") s from send to result (lease start-up included); the busiest wall-clock minute had $peak requests (bound: fleet_rpm + one slice, $((fleet_rpm + fleet_rpm * 3 / 60)))"
fi

if want tail; then
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
fi

# The median of a Prometheus histogram's series (interpolated in its bucket, as
# histogram_quantile does) from a /metrics text on stdin: hist_p50 NAME LABEL-SELECTOR
hist_p50() {
  python3 -c '
import re, sys
name, sel = sys.argv[1:3]
b = []
for line in sys.stdin:
    m = re.match(r"%s_bucket\{(.*)le=\"([^\"]+)\"\} (\S+)" % re.escape(name), line)
    if m and sel in m.group(1):
        b.append((float("inf") if m.group(2) == "+Inf" else float(m.group(2)), float(m.group(3))))
total = b[-1][1] if b else 0
if total == 0:
    sys.exit("no observations of %s{%s}" % (name, sel))
lo, below = 0.0, 0.0
for le, n in b:
    if n >= total / 2:
        print(lo + (le - lo) * (total / 2 - below) / (n - below) if n > below else lo)
        break
    lo, below = le, n
print(total)' "$@"
}

if want dispatch; then
  echo "bench: fleet: task dispatch, one worker with 8 slots, 20 runs of 6 shards" >&2
  python3 tests/data/gen_kmmlu_synth.py --out "$work/data/d60" --items 60 --seed 6 >/dev/null
  sed -e 's/shard_size: [0-9]*/shard_size: 10/' -e 's/http: {listen: ""}/http: {listen: "127.0.0.1:0"}/' \
    -e 's/^log_level: warn/log_level: info/' \
    "$work/hret.yaml" >"$work/dispatch.yaml"
  echo "max_workers: 8" >>"$work/dispatch.yaml"
  conf=$work/dispatch.yaml
  : >"$work/worker.log"
  start_workers 1
  metrics_port=$(listening_port "$work/worker.log" "the worker's /metrics")
  for i in $(seq 0 19); do timed_submit "quick$((i % 11))" "dispatch-$i" d60 >/dev/null; done
  curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$work/dispatch.metrics"
  d=$(hist_p50 hret_worker_dispatch_seconds 'kind="task"' <"$work/dispatch.metrics")
  r=$(hist_p50 hret_worker_dispatch_seconds 'kind="request"' <"$work/dispatch.metrics")
  d50=${d%%$'\n'*} dn=${d##*$'\n'} r50=${r%%$'\n'*}
  stop_workers
  conf=$work/hret.yaml
  record fleet_task_dispatch_ms_p50 "$(python3 -c "print($d50 * 1000)")" ms "<= 100" \
    "a shard task's Kafka timestamp (the relay publishing it) -> a slot starting it, median of $dn tasks (hret_worker_dispatch_seconds, interpolated in its bucket): one worker, max_workers 8, 20 runs of 60 items in 6 shards one after the other, fake-llm 0 ms; requests: $(python3 -c "print(round($r50 * 1000, 1))") ms"
fi

if want workers32; then
  n32=32 lat32=1000 items32=10240 shard32=40 parts32=${HRET_BENCH_W32_PARTITIONS:-32}
  echo "bench: fleet: $n32 workers (1 slot, 8 in flight each), fake-llm at $lat32 ms, $items32 samples" >&2
  stop_workers
  deploy/local/kafka.sh stop --dir "$work/kafka" >/dev/null 2>&1 || true
  line=$(HRET_KAFKA_PARTITIONS=$parts32 HRET_KAFKA_TOPICS="hret.eval.requests hret.eval.requests.dlq hret.eval.tasks hret.eval.tasks.dlq hret.eval.results hret.eval.alerts" \
    deploy/local/kafka.sh start --dir "$work/kafka32" | grep '^HRET_KAFKA=')
  export "${line?}"
  python3 tests/data/gen_kmmlu_synth.py --out "$work/data/w32" --items $items32 --seed 7 >/dev/null
  start_fake second --latency-ms $lat32 --answer-key "$work/data/w32/answer_key.tsv"
  cat >"$work/w32.yaml" <<YAML
log_level: info
max_workers: 1
datasets: {root: "$work/data", shard_size: $shard32}
kafka: {brokers: "$HRET_KAFKA"}
postgres: {conninfo: "$HRET_PG"}
http: {listen: "127.0.0.1:0"}
models:
  w32: {base_url: "http://127.0.0.1:$fake_port/v1", model: w32, max_inflight: 8}
YAML
  conf=$work/w32.yaml
  total_parts=$((2 * parts32)) # requests and tasks
  joined=$(python3 - "$bin/hret" "$conf" "$work" $n32 $total_parts <<'PY'
import re, subprocess, sys, time, urllib.request
hret, cfg, work, n, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
t0 = time.monotonic()
for i in range(n):  # detached: the shell's cleanup kills them through w32.pids
    log = open(f"{work}/w32-{i}.log", "w")
    p = subprocess.Popen([hret, "worker", "--config", cfg], stdout=log, stderr=log,
                         start_new_session=False)
    open(f"{work}/w32.pids", "a").write(f"{p.pid}\n")
def assigned():  # the sum of the workers' hret_consumer_assigned_partitions
    s = 0
    for i in range(n):
        port = re.findall(r"listening on [^ ]*:(\d+) ", open(f"{work}/w32-{i}.log").read())
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port[0]}/metrics", timeout=5).read()
            s += int(float(re.search(rb"^hret_consumer_assigned_partitions(?:\{\})? (\S+)", text, re.M).group(1)))
        except (IndexError, AttributeError, OSError):
            pass
    return s
while assigned() != total and time.monotonic() - t0 < 300:
    time.sleep(0.1)
print(f"{time.monotonic() - t0:.1f}" if assigned() == total else "none")
PY
)
  while read -r p; do workers+=("$p") pids+=("$p"); done <"$work/w32.pids"
  [ "$joined" != none ] || { echo "bench: fleet: the $n32 workers never held all $total_parts partitions" >&2; exit 1; }
  sleep 2 # cooperative rebalancing may still move partitions
  conns_max=0
  (while sleep 1; do psql "$HRET_PG" -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'" 2>/dev/null; done >"$work/conns.txt") &
  sampler=$!
  t32=$(timed_submit w32 w32-1 w32)
  kill $sampler 2>/dev/null || true
  wait $sampler 2>/dev/null || true
  conns_max=$(sort -n "$work/conns.txt" | sed -n '$p')
  # workers that consumed from a task partition (their lag gauge has a tasks series)
  with_tasks=$(for f in "$work"/w32-*.log; do
    port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\) for .*/\1/p' "$f" | sed -n 1p)
    # an if: a worker without the series must not end the loop with a failure (set -e, pipefail)
    if curl -sf "http://127.0.0.1:$port/metrics" | grep -q '^hret_consumer_lag_messages{topic="hret.eval.tasks"'; then echo x; fi
  done | wc -l)
  busy=$(psql "$HRET_PG" -Atc "SELECT count(DISTINCT regexp_replace(owner, ':[0-9]+\$', '')) FROM shards JOIN runs USING (run_id) WHERE request_id = 'w32-1'")
  stop_workers
  conf=$work/hret.yaml
  bound=$((n32 * 8 * 1000 / lat32))
  record fleet_32_workers_efficiency "$(python3 -c "print(($items32 / $t32) / $bound)")" ratio ">= 0.8" \
    "$n32 worker processes (max_workers 1, max_inflight 8 each), fake-llm $lat32 ms, $items32 samples in shards of $shard32, $parts32 partitions per topic: $(printf %.1f "$t32") s from send to result, $(python3 -c "print(round($items32 / $t32))") samples/s of $bound; $busy of $n32 workers finished shards, $with_tasks held a task partition; PostgreSQL client connections at most $conns_max during the run; the group's join (first worker started -> all $total_parts partitions assigned) $joined s"
fi
