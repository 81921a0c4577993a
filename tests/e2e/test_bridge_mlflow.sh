#!/usr/bin/env bash
# hret bridge mlflow end to end against a real `mlflow server` (deploy/local/mlflow.sh: pinned
# PyPI mlflow in a venv cached under deploy/local/.cache; sqlite store, proxied artifacts,
# loopback port), with real Kafka, PostgreSQL, fake-llm and a worker (stack_env.sh). Everything
# is read back through MLflow's REST API (runs/search, metrics/get-history, artifacts proxy):
#   1. a two-model request (--run-name mlrun --meta epoch=3 --meta lr=0.001, mlflow_tracking on)
#      becomes two FINISHED runs in the configured experiment, named mlrun/<model>, with the hret
#      tags, params epoch/lr/evaluation.method, every metric equal to the result event's at step
#      3 (one history point each), and hret_results.json equal to the event;
#      a hand-made hret.run.failed.v1 (track_metrics [accuracy], nested metadata) becomes a FAILED
#      run with the error tags, only accuracy, and params optimizer.name/optimizer.beta;
#   2. the bridge again from the first event under a fresh group (bridge_state kept): no new run,
#      still one history point per metric;
#   3. MLflow stopped, a third request submitted, MLflow started again on the same port and
#      database: the bridge retries with backoff and the run appears exactly once.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

mlflow_pid=""
mlflow_start() { # in the background (the pinned venv, sqlite, proxied artifacts); see mlflow_ready
  "$src/deploy/local/mlflow.sh" serve "$work/mlflow" "$mlport" >>"$work/mlflow.log" 2>&1 &
  mlflow_pid=$! # mlflow.sh execs the server: this is its pid
}
mlflow_ready() {
  for _ in $(seq 600); do
    curl -sf -m 2 "$mlflow/health" >/dev/null && return 0
    kill -0 "$mlflow_pid" 2>/dev/null || fail "mlflow server exited: $(tail -20 "$work/mlflow.log")"
    sleep 0.5
  done
  fail "mlflow server not ready after 300 s"
}
mlflow_stop() { # the CLI and its uvicorn child
  [ -n "$mlflow_pid" ] || return 0
  local kids
  kids=$(ps -o pid= --ppid "$mlflow_pid" || true)
  # shellcheck disable=SC2086 # one pid per word
  kill $kids "$mlflow_pid" 2>/dev/null || true
  wait "$mlflow_pid" 2>/dev/null || true
  for k in $kids; do
    for _ in $(seq 100); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
  done
  mlflow_pid=""
}
# The outcome is the test's: a cleanup step that fails (a log still being written) changes nothing.
trap 'rc=$?; set +e; mlflow_stop; cleanup; exit $rc' EXIT

start_bridge() { # log extra-args...
  local log=$1
  shift
  HRET_LOG_LEVEL=debug "$hret" bridge mlflow --config "$work/hret.yaml" "$@" >>"$work/$log" 2>&1 &
  bridge=$!
  pids+=($bridge)
}
wait_log() { # file pattern count [seconds]
  for _ in $(seq $((${4:-60} * 10))); do
    [ "$(grep -c -e "$2" "$work/$1" || true)" -ge "$3" ] && return 0
    sleep 0.1
  done
  fail "timed out waiting for $3 x '$2' in $1"
}
result_events() { # every event of the results topic so far into $work/events.jsonl
  kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -e -q -f '%s\n' >"$work/events.jsonl"
}
check() { # phase: reads MLflow back and compares it with the run events seen so far
  python3 "$src/tests/e2e/bridge_mlflow_check.py" "$mlflow" hret-e2e "$work/events.jsonl" "$1" ||
    fail "MLflow does not hold what the events say ($1)"
}

"$src/deploy/local/mlflow.sh" venv >/dev/null # installs once (cached, locked)
mlport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mlflow="http://127.0.0.1:$mlport"
mlflow_start # starts while the stack comes up: it is the slowest part
stack_up 40
stack_config "mlflow_tracking: true" "mlflow: {tracking_uri: \"$mlflow\", experiment: hret-e2e}" \
  'http: {listen: ""}'
stack_worker
mlflow_ready

# 1. two runs --------------------------------------------------------------------------------------
stack_submit --dataset kmmlu --model a,b --run-name mlrun --meta epoch=3 --meta lr=0.001 \
  >"$work/submit1.out" || fail "submit: $(cat "$work/submit1.out")"
stack_check_calls 80 # 2 models x 40 samples, one call each (issue 16)
stack_produce hand-failed hret.run.failed.v1 run-failed '{"request_id":"req-hand","run_id":"run-failed","status":"failed","model":{"name":"a"},"dataset":{"name":"kmmlu","split":"test"},"error":{"class":"endpoint","message":"HTTP 500 from the endpoint"},"counts":{"samples":3,"errors":2},"metrics":{"accuracy":0.25,"latency_p50_ms":12.5},"track_metrics":["accuracy"],"metadata":{"step":"2","optimizer":{"name":"adam","beta":[0.9,0.99]}},"failed_at":"2026-11-28T10:00:00.000Z"}'
start_bridge bridge1.log
wait_log bridge1.log 'MLflow run [0-9a-f]* FINISHED' 2
wait_log bridge1.log 'MLflow run [0-9a-f]* FAILED' 1
result_events
check first

# 2. a replay from the first event changes nothing -------------------------------------------------
stack_stop "$bridge" bridge
start_bridge bridge2.log --group "hret-bridge-mlflow-replay-$RANDOM"
wait_log bridge2.log 'is finished already: nothing to do' 2
wait_log bridge2.log 'is failed already: nothing to do' 1
stack_stop "$bridge" bridge
grep -q 'created MLflow run\|FINISHED\|FAILED' "$work/bridge2.log" && fail "the replay wrote to MLflow again"
check replay

# 3. an MLflow outage delays the third run and loses nothing -------------------------------------
start_bridge bridge3.log
mlflow_stop
stack_submit --dataset kmmlu --model a --run-name outage --meta epoch=4 >"$work/submit3.out" ||
  fail "submit: $(cat "$work/submit3.out")"
wait_log bridge3.log 'will retry in' 2 120
mlflow_start
mlflow_ready
wait_log bridge3.log 'MLflow run [0-9a-f]* FINISHED' 1 120
stack_stop "$bridge" bridge
result_events
check outage
echo "ok: MLflow bridge (4 runs; a replay and an outage duplicated nothing)"
