# The local stack for e2e tests of the roles that follow the results topic (bridges, monitor):
# sourced after tests/support/test_env.sh. Gives
#
#   stack_up [ITEMS]  a Kafka broker of the test's own with its topics (names suffixed with a tag,
#                     plus $STACK_TOPICS), PostgreSQL (pg_env.sh; STACK_PG=own: a cluster of the
#                     test's own, for pg_stop/pg_start), a synthetic KMMLU-shaped set of
#                     ITEMS (default 40) with its answer key under $work/data/kmmlu, and fake-llm
#                     serving models a (55% right) and b (70%) on $port (more fake-llm flags in
#                     $STACK_FAKE_FLAGS, e.g. --latency-ms 100); exports HRET_KAFKA, HRET_PG
#   stack_config [YAML...]  writes $work/hret.yaml: kafka topics, datasets, models a and b, then
#                     the extra YAML lines given (top-level keys). Knobs: $STACK_SHARD_SIZE (16),
#                     $STACK_LEASE_S (60), $STACK_INFLIGHT (16 per model), $STACK_KAFKA_PROPERTIES
#                     (a YAML flow map of librdkafka properties, {})
#   stack_worker      starts a worker on $work/hret.yaml (log: $work/worker.log); $worker is its pid
#   stack_submit ARGS...  hret submit --wait on $work/hret.yaml (prints the outcome lines)
#   stack_events TOPIC N  prints the first N messages of TOPIC (value only, one per line)
#   stack_produce ID TYPE KEY JSON  one CloudEvent (binary mode) onto the results topic
#   stack_request CE_ID REQUEST_ID MODEL  a kmmlu request for MODEL as a CloudEvent with the given
#                     ce_id onto the requests topic (kcat: the test picks the ids)
#   stack_stop PID NAME   SIGTERM; fails unless the role exits 0 within 20 s
#   stack_metrics_port LOG  the port of a role's /metrics, from the "listening on" line of LOG
#                     (give the role `http: {listen: "127.0.0.1:0"}`)
#   stack_assigned LOG  the partitions the role logging to LOG holds now (its /metrics:
#                     hret_consumer_assigned_partitions; 0 before it serves them)
#   stack_wait_handled LOG N  until the role logging to LOG has handled N events (done or
#                     dead-lettered), read from its /metrics
#   stack_llm_calls [PORT]  the model calls (chat, completions, Anthropic messages and Azure
#                     chat requests) fake-llm on PORT
#                     (default $port) has received since it started or was reset
#   stack_retries LOG...  the endpoint retries counted by the live roles logging to LOG... (their
#                     /metrics: hret_endpoint_retries_total)
#   stack_outbox_drained WHAT  waits (60 s at most) until every outbox row is published; fails
#                     naming WHAT and a few rows left otherwise
#   stack_check_calls WANT [SLACK] [PORT]  fails unless WANT <= model calls <= WANT + SLACK: the
#                     fleet called the model once per request it needed (issue 16); SLACK is what
#                     a test may lose on purpose (at most the in-flight limit per killed worker)
#
# Topic names: $req_topic, $task_topic, $res_topic, $alert_topic; bridges' dead letters are
# hret.bridge.<sink>.dlq (created too). cleanup stops the broker and drops the database.
source "$src/tests/support/pg_env.sh"
kafka_dir=""
extra_cleanup() {
  [ -n "$kafka_dir" ] && "$src/deploy/local/kafka.sh" stop --dir "$kafka_dir" >/dev/null 2>&1
  pg_teardown
}
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
}

stack_tag="s$$_$RANDOM"
req_topic="hret.eval.requests.$stack_tag"
task_topic="hret.eval.tasks.$stack_tag"
res_topic="hret.eval.results.$stack_tag"
alert_topic="hret.eval.alerts.$stack_tag"

stack_up() {
  local items=${1:-40} line
  kafka_dir="$work/kafka"
  line=$(HRET_KAFKA_TOPICS="$req_topic $req_topic.dlq $task_topic $task_topic.dlq $res_topic \
$res_topic.dlq $alert_topic hret.bridge.mlflow.dlq hret.bridge.wandb.dlq \
hret.bridge.tensorboard.dlq hret.bridge.webhook.dlq ${STACK_TOPICS:-}" \
    "$src/deploy/local/kafka.sh" start --dir "$kafka_dir" | grep '^HRET_KAFKA=')
  export "${line?}"
  pg_setup ${STACK_PG:-}
  python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/data/kmmlu" --items "$items" \
    --seed 7 >/dev/null
  # shellcheck disable=SC2086 # word splitting of the extra flags is meant
  start_fake llm --answer-key "$work/data/kmmlu/answer_key.tsv" --model-accuracy a=0.55 \
    --model-accuracy b=0.7 --seed 5 ${STACK_FAKE_FLAGS:-}
  "$hret" migrate --db "$HRET_PG" >/dev/null
}

stack_config() {
  {
    cat <<YAML
output_dir: $work/out
log_level: info
kafka:
  brokers: "$HRET_KAFKA"
  group_id: "hret-workers-$stack_tag"
  requests_topic: "$req_topic"
  tasks_topic: "$task_topic"
  results_topic: "$res_topic"
  alerts_topic: "$alert_topic"
  properties: ${STACK_KAFKA_PROPERTIES:-{\}}
postgres: {conninfo: "$HRET_PG"}
datasets: {root: "$work/data", shard_size: ${STACK_SHARD_SIZE:-16}, shard_lease_s: ${STACK_LEASE_S:-60}}
models:
  a: {base_url: "http://127.0.0.1:$port/v1", model: a, max_inflight: ${STACK_INFLIGHT:-16}}
  b: {base_url: "http://127.0.0.1:$port/v1", model: b, max_inflight: ${STACK_INFLIGHT:-16}}
YAML
    # every role on a port of its own (several run at once), unless the test says otherwise
    local l own_http=0
    for l in "$@"; do case $l in http:*) own_http=1 ;; esac; done
    [ $own_http = 1 ] || echo 'http: {listen: "127.0.0.1:0"}'
    for l in "$@"; do printf '%s\n' "$l"; done
  } >"$work/hret.yaml"
}

stack_worker() {
  "$hret" worker --config "$work/hret.yaml" >>"$work/worker.log" 2>&1 &
  worker=$!
  pids+=($worker)
}

stack_submit() {
  "$hret" submit --config "$work/hret.yaml" --wait --timeout 180 "$@"
}

stack_events() { # topic count
  kcat -C -b "$HRET_KAFKA" -t "$1" -o beginning -c "$2" -e -q -f '%s\n'
}

stack_produce() { # ce_id ce_type key json
  { printf '%s' "$4" | tr -d '\n'; echo; } | kcat -P -b "$HRET_KAFKA" -t "$res_topic" -k "$3" \
    -H ce_specversion=1.0 -H "ce_id=$1" -H ce_source=/test -H "ce_type=$2" \
    -H ce_time=2026-11-28T10:00:00.000Z -H content-type=application/json
}

stack_request() { # ce_id request_id model
  printf '{"request_id": "%s", "datasets": [{"name": "kmmlu"}], "models": [{"name": "%s"}]}\n' "$2" "$3" |
    kcat -P -b "$HRET_KAFKA" -t "$req_topic" -k "$2" -H ce_specversion=1.0 -H "ce_id=$1" \
      -H ce_source=/test -H ce_type=hret.eval.requested.v1 -H ce_time=2026-12-07T10:00:00.000Z \
      -H content-type=application/json
}

stack_stop() { # pid name
  kill -TERM "$1"
  for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && fail "$2 still running 20 s after SIGTERM"
  local rc=0
  wait "$1" || rc=$?
  [ $rc = 0 ] || fail "$2 exit status $rc after SIGTERM"
}

stack_metrics_port() { # log
  sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) for.*/\1/p' "$work/$1" | tail -1
}

stack_assigned() { # log
  local p
  p=$(stack_metrics_port "$1")
  [ -n "$p" ] || { echo 0; return; }
  curl -sf "http://127.0.0.1:$p/metrics" |
    awk '/^hret_consumer_assigned_partitions/ {s += $2} END {print s + 0}' || echo 0
}

stack_wait_handled() { # log count
  local n=0 p
  for _ in $(seq 600); do
    p=$(stack_metrics_port "$1")
    n=0
    [ -n "$p" ] && n=$(curl -sf "http://127.0.0.1:$p/metrics" |
      awk '/^hret_events_total\{outcome="(done|rejected)"\}/ {s += $2} END {print s + 0}' || true)
    [ "${n:-0}" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "timed out: $1 handled ${n:-0} of $2 events"
}

stack_llm_calls() { # [port]
  curl -sf "http://127.0.0.1:${1:-$port}/fake/stats" |
    python3 -c 'import json, sys; e = json.load(sys.stdin)["endpoints"]; print(e["chat_completions"] + e["completions"] + e["messages"] + e["azure_chat_completions"])'
}

stack_retries() { # log...
  local total=0 l p n
  for l in "$@"; do
    p=$(stack_metrics_port "$l")
    [ -n "$p" ] || fail "no /metrics port in $l"
    n=$(curl -sf "http://127.0.0.1:$p/metrics" |
      awk '/^hret_endpoint_retries_total\{/ {s += $2} END {print s + 0}') || fail "/metrics of $l"
    total=$((total + n))
  done
  echo "$total"
}

stack_outbox_drained() { # what
  local n
  for _ in $(seq 300); do
    n=$(pg_sql "SELECT count(*) FROM outbox WHERE published_at IS NULL" 2>/dev/null || echo "db down")
    [ "$n" = 0 ] && return 0
    sleep 0.2
  done
  fail "$1: outbox rows left unpublished: $(pg_sql "SELECT event_id, ce_type, attempts, last_error FROM outbox WHERE published_at IS NULL LIMIT 3")"
}

stack_check_run() { # run_id items shards: each sample stored once, every shard done at its first attempt
  local got
  got=$(pg_sql "SELECT count(*), count(DISTINCT sample_idx) FROM samples WHERE run_id = '$1'")
  [ "$got" = "$2|$2" ] || fail "samples (stored, distinct): $got, want $2|$2"
  got=$(pg_sql "SELECT count(*) FILTER (WHERE status = 'done' AND attempts = 1) || ' of ' || count(*) FROM shards WHERE run_id = '$1'")
  [ "$got" = "$3 of $3" ] ||
    fail "shards done at the first attempt: $got: $(pg_sql "SELECT shard_idx, status, owner, attempts FROM shards WHERE run_id = '$1'")"
}

stack_check_calls() { # want [slack] [port]
  local got
  got=$(stack_llm_calls "${3:-}") || fail "fake-llm stats"
  [ "$got" -ge "$1" ] && [ "$got" -le $(($1 + ${2:-0})) ] ||
    fail "fake-llm was called $got times; want $1${2:+ (+ at most $2)}: a shard was run twice"
  echo "model calls: $got (want $1${2:+ + at most $2})" >&2
}
