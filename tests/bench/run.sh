#!/usr/bin/env bash
# make bench: measured ratios on this machine, in one run, against the same fake-llm server.
# Writes build/bench/report.json ({"results": [{"name","value","unit","target","notes"}]}) and
# build/bench/report.md. Nothing here is asserted: the numbers are the product.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/build/bench
bin=$root/build-bench
mkdir -p "$out"
deploy/local/deps.sh
cmake -S . -B "$bin" -DCMAKE_BUILD_TYPE=Release -DHRET_BUILD_TESTS=OFF >/dev/null
cmake --build "$bin" -j "$(nproc)" --target hret fake-llm bench-engine >/dev/null

results=$out/results.jsonl
: >"$results"
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

start_fake() { # extra fake-llm flags...
  cleanup
  "$bin/fake-llm" --port 0 --threads 2 --log-level warn "$@" >"$out/fake.port" &
  fake_pid=$!
  for _ in $(seq 50); do grep -q listening "$out/fake.port" 2>/dev/null && break; sleep 0.1; done
  port=$(sed 's/.*://' "$out/fake.port")
  url=http://127.0.0.1:$port/v1/chat/completions
}

record() { # name value unit target notes
  python3 -c 'import json,sys; print(json.dumps({"name":sys.argv[1],"value":round(float(sys.argv[2]),4),"unit":sys.argv[3],"target":sys.argv[4],"notes":sys.argv[5]}))' "$@" >>"$results"
}

field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

cat >"$out/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"fake-model","messages":[{"role":"user","content":"다음은 객관식 문제입니다. 정답은?"}],"temperature":0}'
LUA

conns=64
echo "bench: engine vs wrk at 0 ms, $conns connections" >&2
start_fake
"$bin/bench-engine" "$url" 5000 $conns >/dev/null # warm-up
wrk_rps=$(wrk -t2 -c$conns -d8s -s "$out/post.lua" "$url" | awk '/Requests\/sec/ {print $2}')
engine=$("$bin/bench-engine" "$url" 100000 $conns)
rps=$(field "$engine" rps)
cpu=$(field "$engine" cpu_s)
record engine_vs_wrk_0ms "$(python3 -c "print($rps/$wrk_rps)")" ratio ">= 0.6" \
  "engine $rps req/s vs wrk $wrk_rps req/s (wrk -t2 -c$conns, 8 s); 100k requests, $conns in flight"
record engine_cpu_us_per_request "$(python3 -c "print($cpu/100000*1e6)")" us "" \
  "client CPU (user+sys) per request at 0 ms"
gated=$("$bin/bench-engine" "$url" 100000 $conns budget)
record budget_cpu_us_per_request "$(python3 -c "print(($(field "$gated" cpu_s) - $cpu)/100000*1e6)")" us "< 2" \
  "client CPU per request of the per-model budget's gate (a mutex, three buckets, a count): the same 100k requests through hret_budget minus without ($(field "$gated" rps) vs $rps req/s); the fleet lease costs two statements a second per worker and model, not per request"

echo "bench: engine at 200 ms latency, 1000 in flight" >&2
start_fake --latency-ms 200
engine=$("$bin/bench-engine" "$url" 30000 1000)
rps=$(field "$engine" rps)
rss=$(field "$engine" max_rss_kb)
record engine_latency200_efficiency "$(python3 -c "print($rps/5000)")" ratio ">= 0.95" \
  "$rps req/s of the 5000/s bound (1000 in flight / 0.2 s); 30k requests"
record engine_rss_mb_1000_inflight "$(python3 -c "print($rss/1024)")" MB "< 50" \
  "peak RSS of the client process at 1000 in flight"

echo "bench: hret run on the synthetic 35k KMMLU set at 0 ms, $conns in flight" >&2
synth=$root/build/bench/synth35k
[ -f "$synth/answer_key.tsv" ] || python3 tests/data/gen_kmmlu_synth.py --out "$synth" --items 35030 --seed 1 >/dev/null
start_fake --answer-key "$synth/answer_key.tsv" --accuracy 0.6
cat >"$out/run.yaml" <<YAML
auto_save_results: false
models:
  fake: {base_url: "http://127.0.0.1:$port/v1", model: fake-model, max_inflight: $conns}
YAML
"$bin/hret" run --config "$out/run.yaml" --dataset kmmlu --data-dir "$synth" --model fake \
  --limit 3000 --quiet --output "$out/warm.json" >/dev/null
# wrk sends a real rendered KMMLU prompt, so the server does the same work for both clients
python3 - "$out/warm.json" "$out/post_run.lua" <<'PY'
import json, sys
prompt = json.load(open(sys.argv[1], encoding="utf-8"))["results"][0]["samples"][0]["input"]
body = json.dumps({"model": "fake-model", "messages": [{"role": "user", "content": prompt}],
                   "temperature": 0}, ensure_ascii=False)
lua = body.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
open(sys.argv[2], "w", encoding="utf-8").write(
    'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
    f'wrk.body = "{lua}"\n')
PY
wrk_rps=$(wrk -t2 -c$conns -d8s -s "$out/post_run.lua" "$url" | awk '/Requests\/sec/ {print $2}')
/usr/bin/time -f '%e %M %U %S' -o "$out/run.time" "$bin/hret" run --config "$out/run.yaml" \
  --dataset kmmlu --data-dir "$synth" --model fake --quiet >"$out/run.txt"
read -r secs rss_kb usr sys <"$out/run.time"
run_rps=$(python3 -c "print(35030/$secs)")
record run_vs_wrk_0ms "$(python3 -c "print($run_rps/$wrk_rps)")" ratio ">= 0.5" \
  "hret run $run_rps samples/s end to end (load, prompts, requests, scoring, summary) vs wrk $wrk_rps req/s sending a real KMMLU prompt; $conns in flight"
record run_rss_mb_35k "$(python3 -c "print($rss_kb/1024)")" MB "< 64" \
  "peak RSS of hret run over the 35,030-sample set (CPU $usr s user, $sys s sys)"

echo "bench: sample persistence into PostgreSQL, 100k samples per run" >&2
pg_dir=$(mktemp -d /tmp/hret-pgbench.XXXXXX)
trap 'cleanup; deploy/local/pg.sh destroy "$pg_dir" >/dev/null 2>&1 || true' EXIT
eval "export $(HRET_PG_FSYNC=on deploy/local/pg.sh start "$pg_dir")" # durable, as in production
"$bin/hret" migrate >/dev/null 2>&1
store_rate() { "$bin/hret" runs bench-write 100000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["samples_per_s"])'; }
new_rate=$(store_rate) # the first run of a benchmark: its 100k prompts are new
known=$(for _ in 1 2 3; do store_rate; done | sort -n | sed -n 2p) # median of three
record store_samples_per_s "$known" samples/s ">= 120000" \
  "hret_store_run_complete (COPY into samples, prompts deduplicated into sample_inputs, metric rows and status in the same transaction), 100k KMMLU-shaped samples, fsync on; median of 3 runs of a benchmark whose prompts are stored"
record store_samples_per_s_new_prompts "$new_rate" samples/s "" \
  "the same for the first run of a benchmark, which also writes its 100k prompts"

HRET_BENCH_RESULTS=$results HRET_BENCH_BIN=$bin tests/bench/fleet.sh # fleet_scaling_4x, e2e_overhead_ms_p50
# without the store bench's HRET_PG: every hret run of the sweeps would also store its samples
HRET_BENCH_RESULTS=$results env -u HRET_PG tests/bench/peers.sh || echo "bench: tests/bench/peers.sh failed" >&2 # peers, scale

python3 - "$results" "$out" <<'PY'
import json, sys, platform, os, datetime
rows = [json.loads(l) for l in open(sys.argv[1])]
out = sys.argv[2]
json.dump({"results": rows}, open(os.path.join(out, "report.json"), "w"), indent=2)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
with open(os.path.join(out, "report.md"), "w") as f:
    f.write(f"# hret benchmark report\n\n{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} cores ({cpu}), {platform.platform()}\n\n")
    f.write("| name | value | unit | target | notes |\n|---|---|---|---|---|\n")
    for r in rows:
        f.write(f"| {r['name']} | {r['value']} | {r['unit']} | {r['target']} | {r['notes']} |\n")
print(open(os.path.join(out, "report.md")).read())
PY
