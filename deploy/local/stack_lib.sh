# The local hret stack as shell functions: sourced by deploy/local/demo.sh (make demo) and
# examples/stack.sh, so both start the same things the same way. Not a script of its own.
#
# Set before calling (the callers do):
#   STACK_DIR   state of this stack: config, logs, pids, data (created)
#   STACK_BIN   the directory holding hret and fake-llm
#
#   stack_init                 create STACK_DIR; after this, stack_down stops what was started
#   stack_pg                   throwaway PostgreSQL (in the directory STACK_DIR/pg_dir names),
#                              migrated; exports HRET_PG
#   stack_kafka                Kafka (KRaft, from jars) in STACK_DIR/kafka with every topic the
#                              roles use; exports HRET_KAFKA
#   stack_mlflow_start         `mlflow server` in the background (deploy/local/mlflow.sh); sets
#                              MLFLOW_URL. stack_mlflow_ready waits until it answers.
#   stack_data ITEMS           a KMMLU-format sample set (45 subsets, ITEMS questions) and its
#                              answer key in STACK_DIR/data/kmmlu
#   stack_fake NAME=P ...      fake-llm serving model NAME right with probability P; sets FAKE_URL
#   stack_config [YAML...]     writes STACK_DIR/hret_config.yaml (kafka, postgres, datasets,
#                              the fake models, mlflow; extra top-level YAML lines appended) and
#                              exports HRET_CONFIG so every hret command finds it
#   stack_role NAME ARGS...    `hret ARGS` in the background, log STACK_DIR/NAME.log, its
#                              /metrics, /healthz, /readyz on a free port (printed)
#   stack_down                 stop everything started, delete the broker's data and the
#                              database (STACK_KEEP_DATA=1: only stop PostgreSQL)
#
# Every background process is recorded in STACK_DIR/pids (one per line: pid name), in its own
# process group, so stack_down also works from another shell (examples/stack.sh down).

stack_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

stack_say() { printf '    %s\n' "$*"; }
stack_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

stack_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stack_init() {
  : "${STACK_DIR:?STACK_DIR is not set}" "${STACK_BIN:?STACK_BIN is not set}"
  mkdir -p "$STACK_DIR"
  STACK_DIR=$(cd "$STACK_DIR" && pwd)
  touch "$STACK_DIR/pids"
}

# stack_spawn NAME CMD...: CMD in the background in a process group of its own (setsid: so a
# stop reaches the children too, e.g. mlflow's uvicorn) with its output in STACK_DIR/NAME.log.
stack_spawn() {
  local name=$1
  shift
  setsid "$@" >>"$STACK_DIR/$name.log" 2>&1 </dev/null &
  echo "$! $name" >>"$STACK_DIR/pids"
  STACK_LAST_PID=$!
}

stack_alive() { # name: exit 0 when the process recorded under NAME runs
  local pid
  pid=$(awk -v n="$1" '$2 == n { p = $1 } END { print p }' "$STACK_DIR/pids")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# PostgreSQL's directory: its own under /tmp (as root the server runs as the postgres user, who
# may not get into STACK_DIR, e.g. a private mktemp directory); the path is kept in
# STACK_DIR/pg_dir, so a restart finds the same cluster.
stack_pg_dir() {
  if [ ! -s "$STACK_DIR/pg_dir" ]; then
    mktemp -d /tmp/hret-stack-pg.XXXXXX >"$STACK_DIR/pg_dir"
  fi
  cat "$STACK_DIR/pg_dir"
}

stack_pg() {
  local line dir
  dir=$(stack_pg_dir)
  line=$("$stack_src/deploy/local/pg.sh" start "$dir") ||
    stack_die "PostgreSQL did not start (log: $dir/server.log)"
  eval "export $line"
  "$STACK_BIN/hret" migrate --db "$HRET_PG" >"$STACK_DIR/migrate.log" 2>&1 ||
    stack_die "hret migrate failed: $(tail -n 5 "$STACK_DIR/migrate.log")"
  stack_say "PostgreSQL: $HRET_PG (schema migrated)"
}

stack_kafka() {
  local topics="" t line
  for t in hret.eval.requests hret.eval.tasks hret.eval.results hret.eval.alerts; do
    topics="$topics $t $t.dlq"
  done
  topics="$topics hret.monitor.dlq"
  for t in mlflow wandb tensorboard webhook; do topics="$topics hret.bridge.$t.dlq"; done
  line=$(HRET_KAFKA_TOPICS="$topics" "$stack_src/deploy/local/kafka.sh" start \
    --dir "$STACK_DIR/kafka" 2>"$STACK_DIR/kafka-start.log" | grep '^HRET_KAFKA=') ||
    stack_die "Kafka did not start: $(tail -n 5 "$STACK_DIR/kafka-start.log")"
  export "${line?}"
  stack_say "Kafka: $HRET_KAFKA (topics hret.eval.requests, .tasks, .results, .alerts and dead letters)"
}

stack_mlflow_start() {
  local port
  port=$(stack_free_port)
  MLFLOW_URL="http://127.0.0.1:$port"
  stack_spawn mlflow "$stack_src/deploy/local/mlflow.sh" serve "$STACK_DIR/mlflow" "$port"
  stack_say "MLflow server starting on $MLFLOW_URL (sqlite store in $STACK_DIR/mlflow)"
}

stack_mlflow_ready() {
  local i
  for i in $(seq 600); do
    curl -sf -m 2 "$MLFLOW_URL/health" >/dev/null && {
      stack_say "MLflow server ready: $MLFLOW_URL"
      return 0
    }
    stack_alive mlflow || stack_die "mlflow server exited: $(tail -n 20 "$STACK_DIR/mlflow.log")"
    [ $((i % 60)) = 0 ] && stack_say "(still waiting for MLflow, $((i / 2)) s)"
    sleep 0.5
  done
  stack_die "MLflow not ready after 300 s (log: $STACK_DIR/mlflow.log)"
}

stack_data() {
  python3 "$stack_src/tests/data/gen_kmmlu_synth.py" --out "$STACK_DIR/data/kmmlu" \
    --items "${1:-1000}" --seed 42 >/dev/null || stack_die "generating the sample data failed"
  stack_say "$STACK_DIR/data/kmmlu/data/<Subset>-test.csv: ${1:-1000} questions over 45 subsets"
}

stack_fake() {
  local args=() m
  for m in "$@"; do args+=(--model-accuracy "$m"); done
  stack_spawn fake-llm "$STACK_BIN/fake-llm" --port 0 --log-level warn --seed 5 --jitter-ms 20 \
    --answer-key "$STACK_DIR/data/kmmlu/answer_key.tsv" "${args[@]}"
  local port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$STACK_DIR/fake-llm.log" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || stack_die "fake-llm did not start: $(cat "$STACK_DIR/fake-llm.log")"
  FAKE_URL="http://127.0.0.1:$port/v1"
  stack_say "fake-llm: $FAKE_URL serving $*"
}

# stack_config [YAML...]: models from STACK_MODELS (lines "name url model_id [api_key_env]");
# default: each fake model on FAKE_URL.
stack_config() {
  local cfg="$STACK_DIR/hret_config.yaml" name url id key
  {
    cat <<YAML
# written by deploy/local/stack_lib.sh for the local stack in $STACK_DIR
output_dir: "$STACK_DIR/results"
log_level: info
datasets: {root: "$STACK_DIR/data", shard_size: ${STACK_SHARD_SIZE:-100}}
mlflow_tracking: ${STACK_MLFLOW_TRACKING:-true}
mlflow: {tracking_uri: "${MLFLOW_URL:-http://127.0.0.1:5000}", experiment: "${STACK_EXPERIMENT:-hret-demo}"}
YAML
    if [ -n "${HRET_KAFKA:-}" ]; then # not in demo --local
      printf 'kafka: {brokers: "%s", group_id: hret-workers}\n' "$HRET_KAFKA"
    fi
    if [ -n "${HRET_PG:-}" ]; then
      printf 'postgres: {conninfo: "%s"}\n' "$HRET_PG"
    fi
    echo "models:"
    while read -r name url id key; do
      [ -n "$name" ] || continue
      printf '  %s: {base_url: "%s", model: "%s", max_inflight: 64' "$name" "$url" "$id"
      [ -n "$key" ] && printf ', api_key_env: %s' "$key"
      printf '}\n'
    done <<<"${STACK_MODELS:-}"
    local l
    for l in "$@"; do printf '%s\n' "$l"; done
  } >"$cfg"
  "$STACK_BIN/hret" config check "$cfg" >"$STACK_DIR/config-check.log" 2>&1 ||
    stack_die "the generated configuration is invalid: $(cat "$STACK_DIR/config-check.log")"
  export HRET_CONFIG="$cfg"
  stack_say "configuration: $cfg (checked with hret config check)"
}

stack_role() {
  local name=$1 port
  shift
  port=$(stack_free_port)
  HRET_HTTP_LISTEN="127.0.0.1:$port" stack_spawn "$name" "$STACK_BIN/hret" "$@"
  echo "$port $name" >>"$STACK_DIR/ports"
  sleep 0.2
  stack_alive "$name" || stack_die "hret $* exited at once: $(tail -n 5 "$STACK_DIR/$name.log")"
  stack_say "$name: hret $*  (http://127.0.0.1:$port/metrics, /healthz, /readyz; log $STACK_DIR/$name.log)"
}

# stack_wait_ready NAME...: waits until each role answers /healthz, then gives them up to 10 s
# to answer /readyz (Kafka and PostgreSQL reachable from that process) and prints what each says.
stack_wait_ready() {
  local name port i all
  stack_url() { echo "http://127.0.0.1:$(awk -v n="$1" '$2 == n { p = $1 } END { print p }' "$STACK_DIR/ports")"; }
  for name in "$@"; do
    for _ in $(seq 300); do
      curl -sf -m 2 "$(stack_url "$name")/healthz" >/dev/null && break
      stack_alive "$name" || stack_die "$name exited: $(tail -n 5 "$STACK_DIR/$name.log")"
      sleep 0.2
    done
    curl -sf -m 2 "$(stack_url "$name")/healthz" >/dev/null ||
      stack_die "$name does not answer /healthz after 60 s (log: $STACK_DIR/$name.log)"
  done
  for i in $(seq 50); do
    all=1
    for name in "$@"; do
      curl -sf -m 2 "$(stack_url "$name")/readyz" >/dev/null || all=0
    done
    [ $all = 1 ] && break
    sleep 0.2
  done
  for name in "$@"; do
    stack_say "$name: /healthz ok, /readyz: $(curl -s -m 2 "$(stack_url "$name")/readyz" || echo no answer)"
  done
}

stack_down() {
  [ -n "${STACK_DIR:-}" ] && [ -f "$STACK_DIR/pids" ] && [ -z "${STACK_STOPPED:-}" ] || return 0
  STACK_STOPPED=1
  local pid name pids=()
  # the roles first (they commit offsets on SIGTERM), then the servers they talk to
  while read -r pid name; do
    [ -n "$pid" ] || continue
    pids+=("$pid")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done < <(tac "$STACK_DIR/pids")
  for pid in "${pids[@]}"; do
    for _ in $(seq 200); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  mv "$STACK_DIR/pids" "$STACK_DIR/pids.stopped" # what ran, for a later look
  [ -d "$STACK_DIR/kafka" ] && "$stack_src/deploy/local/kafka.sh" stop --dir "$STACK_DIR/kafka" \
    >/dev/null 2>&1
  if [ -s "$STACK_DIR/pg_dir" ]; then
    if [ "${STACK_KEEP_DATA:-0}" = 1 ]; then
      "$stack_src/deploy/local/pg.sh" stop "$(cat "$STACK_DIR/pg_dir")" >/dev/null 2>&1
    else
      "$stack_src/deploy/local/pg.sh" destroy "$(cat "$STACK_DIR/pg_dir")" >/dev/null 2>&1
      rm -f "$STACK_DIR/pg_dir"
    fi
  fi
  return 0
}
