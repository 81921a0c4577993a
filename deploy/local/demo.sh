#!/usr/bin/env bash
# make demo: a complete evaluation through the hret fleet on this machine, explained step by step.
#
#   deploy/local/demo.sh            the fleet: PostgreSQL, Kafka, MLflow, fake-llm serving two
#                                   "models" of known accuracy, two workers, the monitor and the
#                                   MLflow bridge; a KMMLU-format request submitted through
#                                   Kafka; accuracies, the paired comparison, alerts and where
#                                   the results are; then everything it started is stopped
#   deploy/local/demo.sh --local    the quick one-process version (hret run, no Kafka, no Java)
#
# Environment:
#   HRET_DEMO_ENDPOINT=http://host:port/v1 HRET_DEMO_MODEL=<model id>
#                        evaluate a real OpenAI-compatible endpoint as "candidate" (the
#                        "baseline" stays fake); its API key, if any, in HRET_DEMO_API_KEY
#                        (passed by variable name, never written to a file)
#   HRET_DEMO_LOCAL=1    same as --local
#   HRET_DEMO_ITEMS=N    questions in the sample set (default 1000; 200 with a real endpoint)
#   HRET_DEMO_DIR=DIR    where configuration, logs, data and results go (default: a new
#                        /tmp/hret-demo.XXXXXX, kept afterwards)
#   HRET_DEMO_BUILD=DIR  build directory (default build/); HRET_DEMO_SKIP_DEPS=1 skips deps.sh,
#                        HRET_DEMO_SKIP_BUILD=1 the build (both for the test suite)
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
start_s=$(date +%s)

local_only=${HRET_DEMO_LOCAL:-0}
for a in "$@"; do
  case $a in
    --local) local_only=1 ;;
    -h | --help)
      sed -n '2,23p' "$src/deploy/local/demo.sh" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo.sh: unknown argument '$a' (try --local or --help)" >&2
      exit 2
      ;;
  esac
done

# Ctrl-C: a non-interactive bash ignores SIGINT while its foreground child catches it and exits
# normally (java, python, hret do), so the steps would go on. The demo therefore runs as a
# process group of its own, and this first process only waits: on Ctrl-C (or TERM) it sends
# TERM to that group, whose EXIT trap stops the stack, then stops whatever is left itself.
if [ -z "${HRET_DEMO_STEPS:-}" ]; then
  export HRET_DEMO_DIR=${HRET_DEMO_DIR:-$(mktemp -d /tmp/hret-demo.XXXXXX)}
  HRET_DEMO_STEPS=1 setsid "$src/deploy/local/demo.sh" "$@" &
  steps=$!
  on_signal() {
    echo "demo: interrupted, stopping what it started" >&2
    kill -TERM -- "-$steps" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$steps" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$steps" 2>/dev/null || true
    STACK_DIR=$HRET_DEMO_DIR
    source deploy/local/stack_lib.sh
    stack_down
    exit 130
  }
  trap on_signal INT TERM
  rc=0
  wait "$steps" || rc=$?
  exit $rc
fi

total=10
[ "$local_only" = 1 ] && total=6
n=0
say() {
  n=$((n + 1))
  printf '\n\033[1m==> %s/%s %s\033[0m\n' "$n" "$total" "$*"
}
elapsed() { echo "$(($(date +%s) - start_s)) s"; }

build=${HRET_DEMO_BUILD:-build}
say "installing what is missing and building hret ($build/hret, $build/fake-llm)"
[ "${HRET_DEMO_SKIP_DEPS:-0}" = 1 ] || deploy/local/deps.sh
if [ "${HRET_DEMO_SKIP_BUILD:-0}" != 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then # an existing build keeps its own settings
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$build" -j "$(nproc)" --target hret fake-llm >/dev/null
fi
[ -x "$build/hret" ] && [ -x "$build/fake-llm" ] || {
  echo "demo.sh: no $build/hret or $build/fake-llm (build them, or unset HRET_DEMO_SKIP_BUILD)" >&2
  exit 1
}
export STACK_BIN="$src/$build"
case $build in /*) STACK_BIN=$build ;; esac
hret="$STACK_BIN/hret"
export PATH="$STACK_BIN:$PATH"

export STACK_DIR=$HRET_DEMO_DIR
source deploy/local/stack_lib.sh
stack_init
trap 'stack_down' EXIT
trap 'exit 143' TERM
trap 'echo "demo: failed at line $LINENO (exit $?); logs in $STACK_DIR" >&2' ERR

endpoint=${HRET_DEMO_ENDPOINT:-}
items=${HRET_DEMO_ITEMS:-$([ -n "$endpoint" ] && echo 200 || echo 1000)}
models_for() { # the STACK_MODELS lines: baseline is fake, candidate fake or the real endpoint
  echo "baseline $FAKE_URL baseline"
  if [ -n "$endpoint" ]; then
    echo "candidate $endpoint ${HRET_DEMO_MODEL:?set HRET_DEMO_MODEL to the model id served at HRET_DEMO_ENDPOINT} $([ -n "${HRET_DEMO_API_KEY:-}" ] && echo HRET_DEMO_API_KEY)"
  else
    echo "candidate $FAKE_URL candidate"
  fi
}

# ---- --local: one process, no Kafka --------------------------------------------------------
if [ "$local_only" = 1 ]; then
  say "generating a KMMLU-format sample set and its answer key; starting fake-llm"
  stack_data "$items"
  stack_fake baseline=0.55 candidate=0.68
  echo "    (baseline answers 55% right, candidate 68%)"
  STACK_MODELS=$(models_for) STACK_MLFLOW_TRACKING=false stack_config
  for m in baseline candidate; do
    say "hret run: $m on KMMLU in this process (HRET's prompt and string_match scoring)"
    "$hret" run --dataset kmmlu --model "$m" --run-name "demo-$m" \
      --output "$STACK_DIR/results/$m.json"
  done
  say "hret compare: is the candidate really better? (paired McNemar test on the same questions)"
  "$hret" compare "$STACK_DIR/results/baseline.json" "$STACK_DIR/results/candidate.json"
  say "hret report: the comparison as a page to share"
  "$hret" report "$STACK_DIR/results/baseline.json" "$STACK_DIR/results/candidate.json" \
    --html "$STACK_DIR/results/report.html" 2>/dev/null
  echo
  echo "results JSON (HRET's save_results layout): $STACK_DIR/results/{baseline,candidate}.json"
  echo "report (open it in a browser): $STACK_DIR/results/report.html"
  echo "next: make demo without --local runs the same through Kafka, PostgreSQL and MLflow"
  echo "demo finished in $(elapsed)"
  exit 0
fi

# ---- the fleet -----------------------------------------------------------------------------
say "starting PostgreSQL (the system of record), MLflow (in the background) and the sample data"
stack_pg
stack_mlflow_start
stack_data "$items"

say "starting fake-llm: an OpenAI-compatible server with two 'models' of known accuracy"
stack_fake baseline=0.55 candidate=0.68
echo "    baseline answers 55% of the questions right, candidate 68%"
[ -n "$endpoint" ] && echo "    candidate: ${HRET_DEMO_MODEL:-} at $endpoint (HRET_DEMO_ENDPOINT)"

say "starting Kafka, the request and result bus (a real broker from jars: 30-60 s here)"
stack_kafka

say "starting the fleet: two workers, the monitor and the MLflow bridge"
STACK_MODELS=$(models_for) stack_config \
  "monitor:" \
  "  rules:" \
  "    - {name: kmmlu-floor, kind: threshold, metric: accuracy, op: \"<\", threshold: 0.60, dataset: kmmlu}" \
  "    - {name: kmmlu-regress, kind: regression, dataset: kmmlu, baseline: previous, max_drop: 0.02}"
echo "    monitor rules: kmmlu-floor (accuracy < 0.60), kmmlu-regress (a significant drop of"
echo "    more than 2 points against the model's previous run)"
cfg=$HRET_CONFIG
stack_role worker-1 worker --config "$cfg"
stack_role worker-2 worker --config "$cfg"
stack_role monitor monitor --config "$cfg"
stack_mlflow_ready
stack_role bridge-mlflow bridge mlflow --config "$cfg"
stack_wait_ready worker-1 worker-2 monitor bridge-mlflow

say "hret submit --wait: one request, both models on KMMLU, through Kafka"
echo "    hret submit --dataset kmmlu --model baseline,candidate --run-name demo --meta epoch=1 --wait"
"$hret" submit --config "$cfg" --dataset kmmlu --model baseline,candidate --run-name demo \
  --meta epoch=1 --wait --timeout 300 >"$STACK_DIR/submit.out" 2>"$STACK_DIR/submit.log" ||
  stack_die "the request did not complete: $(cat "$STACK_DIR/submit.out" "$STACK_DIR/submit.log")"
request_id=$(head -n 1 "$STACK_DIR/submit.out")
grep -v '^comparison ' "$STACK_DIR/submit.out" | sed 's/^/    /' || true

q() { PGOPTIONS='-c client_min_messages=warning' psql "$HRET_PG" -qAt -F ' ' -c "$1"; }
run_of() { q "SELECT run_id FROM runs WHERE request_id = '$request_id' AND model_name = '$1'"; }
run_a=$(run_of baseline)
run_b=$(run_of candidate)

say "accuracy of each model with 95% intervals, and the paired comparison (hret compare)"
mkdir -p "$STACK_DIR/results"
for m in baseline candidate; do
  "$hret" runs export "$(run_of $m)" --config "$cfg" --output "$STACK_DIR/results/$m.json" 2>/dev/null
done
files=("$STACK_DIR/results/baseline.json" "$STACK_DIR/results/candidate.json")
"$hret" compare "${files[@]}" --json >"$STACK_DIR/results/comparison.json"
python3 - "$STACK_DIR/results/comparison.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))["overall"]
for name, k, n in (("baseline", "a", "n_a"), ("candidate", "b", "n_b")):
    lo, hi = o[f"accuracy_{k}_ci"]
    print(f"    {name:<10} accuracy {100 * o[f'accuracy_{k}']:.1f}%  (95% Wilson interval "
          f"{100 * lo:.1f} to {100 * hi:.1f}, {o[n]} questions)")
PY
echo
# the overall line and the verdict; per subset (Holm-adjusted): hret compare FILE_A FILE_B
"$hret" compare "${files[@]}" | awk '/^subsets/ { skip = 1 } /^verdict/ { skip = 0 } !skip' |
  sed 's/^/    /'
echo

say "what the monitor and the MLflow bridge did with the result events"
for _ in $(seq 300); do # each rule judges each run once
  [ "$(q "SELECT count(DISTINCT run_id) FROM monitor_evaluations e JOIN runs r USING (run_id)
          WHERE r.request_id = '$request_id'")" = 2 ] && break
  sleep 0.2
done
alerts=$(q "SELECT '    ALERT ' || severity || ' ' || rule || ': ' || message FROM alerts
            WHERE run_id IN ('$run_a', '$run_b') ORDER BY rule, model_name")
if [ -n "$alerts" ]; then
  echo "$alerts"
else
  echo "    no alert raised"
fi
echo "    (rows in the alerts table, events on hret.eval.alerts; add monitor.channels to get"
echo "     them in Slack, PagerDuty or a signed webhook)"
for _ in $(seq 600); do
  [ "$(q "SELECT count(*) FROM bridge_state WHERE sink = 'mlflow' AND state = 'finished'
          AND subject IN ('$run_a', '$run_b')")" = 2 ] && break
  sleep 0.2
done
exp_id=$(curl -sf -m 5 "$MLFLOW_URL/api/2.0/mlflow/experiments/get-by-name?experiment_name=hret-demo" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["experiment"]["experiment_id"])' ||
  echo "?")
echo "    MLflow experiment hret-demo: $MLFLOW_URL/#/experiments/$exp_id"
q "SELECT model_name, b.external_id FROM bridge_state b JOIN runs r ON r.run_id = b.subject
   WHERE b.sink = 'mlflow' AND r.request_id = '$request_id' ORDER BY model_name" |
  while read -r model ext; do
    echo "      $model: $MLFLOW_URL/#/experiments/$exp_id/runs/$ext"
  done

say "where the results are"
echo "    request $request_id; runs in PostgreSQL (hret status $request_id):"
"$hret" status "$request_id" --config "$cfg" | sed 's/^/      /'
echo "    results JSON (hret runs export RUN): $STACK_DIR/results/{baseline,candidate}.json"
echo "    MLflow store: $STACK_DIR/mlflow; configuration: $cfg; logs: $STACK_DIR/*.log"
counter() { # role metric: the sum of a counter's series on the role's Prometheus /metrics
  curl -s -m 2 "http://127.0.0.1:$(awk -v n="$1" '$2 == n { print $1 }' "$STACK_DIR/ports")/metrics" |
    awk -v m="$2" '$1 ~ "^" m "({|$)" { s += $2 } END { print s + 0 }'
}
echo "    the paired comparison as JSON: $STACK_DIR/results/comparison.json"
echo "    /metrics: worker-1 scored $(counter worker-1 hret_samples_scored_total) samples," \
  "worker-2 $(counter worker-2 hret_samples_scored_total) (ports in $STACK_DIR/ports)"
echo
echo "stopping everything the demo started (the data stays in $STACK_DIR; to look again:"
echo "  deploy/local/pg.sh start $(cat "$STACK_DIR/pg_dir")  and  deploy/local/mlflow.sh serve $STACK_DIR/mlflow 5000)"
say "hret report: the comparison and the model's history as a page to share"
"$hret" report "$run_a" "$run_b" --config "$cfg" --db "$HRET_PG" \
  --html "$STACK_DIR/results/report.html" 2>/dev/null
STACK_KEEP_DATA=1 stack_down
echo "report (open it in a browser): $STACK_DIR/results/report.html"
echo "next: examples/ (examples/stack.sh up starts this stack for them), hret help submit"
echo "demo finished in $(elapsed)"
