#!/usr/bin/env bash
# The local stack the examples run against: the same pieces as make demo (deploy/local/stack_lib.sh),
# left running in the background until you stop it.
#
#   examples/stack.sh up     start PostgreSQL, Kafka, MLflow, fake-llm, two workers, the monitor,
#                            hret api and the MLflow bridge (about a minute); then run any example
#   examples/stack.sh down   stop all of it and delete its data
#   examples/stack.sh env    print the environment the examples read (source-able)
#
# State, logs and the generated hret_config.yaml live in $HRET_EXAMPLES_DIR (default
# /tmp/hret-examples-<uid>). HRET_EXAMPLES_MLFLOW=0 leaves out MLflow and its bridge (no Python
# venv needed); HRET_DEMO_BUILD picks the build directory (default build/).
#
# fake-llm plays every model of the examples; each answers right with a known probability:
#   baseline 0.55, candidate 0.68                    (config models, used by name)
#   ckpt-1..ckpt-4 0.45/0.55/0.62/0.66               (training checkpoints)
#   lr-0.001 0.58, lr-0.005 0.66, lr-0.01 0.52       (a hyperparameter sweep)
#   prod-v1 0.70, prod-v2 0.50                       (a production model, then a bad release)
# The examples reach the non-config ones as inline endpoints (endpoints.allow_inline, 127.0.0.1).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
STACK_DIR=${HRET_EXAMPLES_DIR:-/tmp/hret-examples-$(id -u)}
build=${HRET_DEMO_BUILD:-build}
STACK_BIN=$src/$build
case $build in /*) STACK_BIN=$build ;; esac
export STACK_DIR STACK_BIN
source deploy/local/stack_lib.sh

fake_models="baseline=0.55 candidate=0.68 ckpt-1=0.45 ckpt-2=0.55 ckpt-3=0.62 ckpt-4=0.66
lr-0.001=0.58 lr-0.005=0.66 lr-0.01=0.52 prod-v1=0.70 prod-v2=0.50"

up() {
  if [ -f "$STACK_DIR/env" ]; then
    echo "a stack is up already in $STACK_DIR (examples/stack.sh down stops it)" >&2
    exit 1
  fi
  [ -x "$STACK_BIN/hret" ] && [ -x "$STACK_BIN/fake-llm" ] ||
    stack_die "no $STACK_BIN/hret or fake-llm: run make build first (or set HRET_DEMO_BUILD)"
  rm -rf "$STACK_DIR"
  stack_init
  trap 'echo "stack.sh: start failed; stopping what started (logs: $STACK_DIR)" >&2; stack_down' ERR
  echo "starting the example stack in $STACK_DIR"
  stack_pg
  local mlflow=${HRET_EXAMPLES_MLFLOW:-1}
  [ "$mlflow" = 1 ] && stack_mlflow_start
  stack_data 400
  # shellcheck disable=SC2086 # one NAME=P per word
  stack_fake $fake_models
  stack_kafka
  # inline endpoints: fake-llm's host and port only (the allowlist names the port)
  local fake_hostport=${FAKE_URL#http://}
  fake_hostport=${fake_hostport%%/*}
  STACK_MODELS="baseline $FAKE_URL baseline
candidate $FAKE_URL candidate" STACK_MLFLOW_TRACKING=false STACK_EXPERIMENT=hret-examples \
    STACK_SHARD_SIZE=100 stack_config \
    "endpoints: {allow_inline: true, allow_private_networks: true, allowlist: [\"$fake_hostport\"]}" \
    "api: {listen: \"127.0.0.1:$(stack_free_port)\", tokens_file: \"$STACK_DIR/api_tokens\"}" \
    "monitor:" \
    "  rules:" \
    "    - {name: floor, kind: threshold, metric: accuracy, op: \"<\", threshold: 0.40, dataset: kmmlu}" \
    "    - {name: regress, kind: regression, run_name: \"nightly*\", baseline: previous, max_drop: 0.05}"
  stack_role worker-1 worker --config "$HRET_CONFIG"
  stack_role worker-2 worker --config "$HRET_CONFIG"
  stack_role monitor monitor --config "$HRET_CONFIG"
  (umask 077 && "$STACK_BIN/hret" api token add examples --scopes submit,read \
    --config "$HRET_CONFIG" | tail -n 1 >"$STACK_DIR/api.token")
  stack_role api api --config "$HRET_CONFIG"
  local api_url
  api_url="http://$(sed -n 's/^api: {listen: "\([^"]*\)".*/\1/p' "$HRET_CONFIG")"
  stack_say "api: $api_url/v1 (token in $STACK_DIR/api.token; clients/python reads HRET_API_URL, HRET_API_TOKEN)"
  if [ "$mlflow" = 1 ]; then
    stack_mlflow_ready
    stack_role bridge-mlflow bridge mlflow --config "$HRET_CONFIG"
  fi
  {
    echo "export HRET_CONFIG='$HRET_CONFIG' HRET_PG='$HRET_PG' HRET_KAFKA='$HRET_KAFKA'"
    echo "export FAKE_URL='$FAKE_URL' MLFLOW_URL='${MLFLOW_URL:-}' HRET_STACK_DIR='$STACK_DIR'"
    echo "export PATH='$STACK_BIN':\"\$PATH\""
    echo "export HRET_API_URL='$api_url' HRET_API_TOKEN=\"\$(cat '$STACK_DIR/api.token')\""
  } >"$STACK_DIR/env"
  trap - ERR
  echo "up. Examples find it through $STACK_DIR/env, e.g.: examples/ab_test.sh"
  [ "$mlflow" = 1 ] && echo "MLflow: $MLFLOW_URL  (runs are tracked when a request asks: tracking.mlflow)"
  echo "stop it with: examples/stack.sh down"
}

case ${1:-} in
  up) up ;;
  down)
    if [ -f "$STACK_DIR/pids" ]; then
      stack_down
      rm -rf "$STACK_DIR"
      echo "stopped; $STACK_DIR removed"
    else
      echo "no example stack in $STACK_DIR"
    fi
    ;;
  env)
    cat "$STACK_DIR/env" 2>/dev/null || stack_die "no stack is up in $STACK_DIR: examples/stack.sh up"
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
