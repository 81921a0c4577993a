#!/usr/bin/env bash
# make test-deploy: the container image built and run for real (issue 24). CI runs it after
# `make test`. Needs root (a private dockerd) and Debian's apt (the image installs packages).
#
#  1. a private dockerd and the debian:bookworm(-slim) base images (deploy/local/docker_lib.sh;
#     rootfs and engine data cached in HRET_DEPLOY_CACHE=/var/cache/hret-deploy, so a second
#     run on the machine reuses the base images and the build's layers);
#  2. `docker build` of deploy/Dockerfile from the sources of this checkout, every run (the
#     layer cache makes it quick when nothing changed), tagged by their content:
#     hret:src-<hash> (docker_build_hret); every container of the test runs that tag;
#  3. PostgreSQL, Kafka and MLflow on the host from the project's own scripts (stack_lib.sh);
#     every hret container runs with --network host and the docker run arguments
#     k8s_docker_args.py derives from the Kubernetes manifests (non-root, read-only root
#     filesystem, no capabilities, no privilege escalation, the config mounted read-only at
#     /etc/hret, tmpfs for each emptyDir, the grace period as the stop timeout);
#  4. migrate (the Job), two workers, the monitor and the MLflow bridge (the Deployments);
#     their /healthz and /readyz, and Docker's health status (the image's HEALTHCHECK) healthy;
#  5. a request for two fake models of known accuracy (1 and 0 against the answer key) through
#     `hret submit --wait` in a container: both accuracies exact, 400 samples stored, the
#     MLflow bridge created the runs in MLflow; datasets.root comes from the mounted config
#     (/mnt/data), which the image's defaults used to override;
#  6. the CronJob's container (80-cronjob-nightly.yaml, request from its ConfigMap, no
#     request_id) run twice: two new requests, each completed;
#  7. SIGTERM (docker stop) to a worker in the middle of a slow request: it exits 0 within the
#     manifest's grace period, the other worker finishes (it did shards of the request),
#     every sample is stored once;
#  8. compose (deploy/local/test_compose.sh; HRET_TEST_DEPLOY_COMPOSE=0 skips it): local
#     stand-ins for the third-party images and `docker-compose up` through to a completed
#     request whose accuracies are checked against the answer key.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
started=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(($(date +%s) - started))" "$*" >&2; }

step "dependencies"
deploy/local/deps.sh
. deploy/local/docker_lib.sh
. deploy/local/stack_lib.sh

work=$(mktemp -d /tmp/hret-test-deploy.XXXXXX)
chmod 755 "$work" # the containers' user (10001) reads the mounted config and data
STACK_DIR=$work/stack
STACK_BIN=$work/no-host-binaries # every hret process of this test runs in a container
label="hret-test-deploy=$$"
k8s=$src/deploy/k8s

# fail REASON: the containers' last lines, then the reason, last (CI shows the end of the output)
fail() {
  local c
  for c in $(docker_cli ps -aq --filter "label=$label" 2>/dev/null); do
    echo "---- $(docker_cli inspect -f '{{.Name}}' "$c") (last lines)" >&2
    docker_cli logs --tail 15 "$c" >&2 2>&1 || true
  done
  echo "FAIL: $*" >&2
  exit 1
}
# a command that ends the script under set -e says so (the reason last, as fail does)
trap '_rc=$?; fail "line $LINENO: exited $_rc: $BASH_COMMAND"' ERR
cleanup() {
  local ids
  if [ -n "${DOCKER_HOST:-}" ]; then
    ids=$(docker_cli ps -aq --filter "label=$label" 2>/dev/null || true)
    [ -z "$ids" ] || docker_cli rm -f $ids >/dev/null 2>&1 || true
  fi
  docker_down
  stack_down
  rm -rf "$work"
}
trap cleanup EXIT

step "private dockerd and base images"
docker_up
docker_bases


step "PostgreSQL, Kafka and MLflow on the host (deploy/local)"
stack_init
pg_line=$("$src/deploy/local/pg.sh" start "$(stack_pg_dir)") || fail "PostgreSQL did not start"
eval "export $pg_line"
# the containers reach the server over TCP (pg.sh's HRET_PG names its Unix socket directory)
pg_tcp=$(sed 's/host=[^ ]*/host=127.0.0.1/' <<<"$HRET_PG")
stack_kafka
stack_mlflow_start
stack_data 200
chmod -R a+rX "$STACK_DIR/data"

step "(MLflow starting meanwhile) docker build -f deploy/Dockerfile (legacy builder) of these sources"
image=$(docker_build_hret "$src" "$work/build.log") || fail "docker build: $(tail -n 30 "$work/build.log")"
docker_say "image under test: $image = $(docker_cli image inspect -f '{{.Id}}' "$image"), $(docker_cli image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'), built from $(git describe --always --dirty 2>/dev/null || echo 'these sources')"
stack_mlflow_ready

# ---- containers ---------------------------------------------------------------------------
# k8s_run NAME MANIFEST CONTAINER [docker run options...] -- ARGS...: the container as the
# manifest runs it, detached, on the host network, with its own config directory
# $work/etc/NAME (mounted where the manifest mounts ConfigMap hret-config) and the sample data
# read-only at /mnt/data.
k8s_args() { # manifest container name
  python3 "$src/deploy/local/k8s_docker_args.py" "$1" "$2" --configmap "hret-config=$work/etc/$3" \
    --configmap "hret-nightly-request=$work/request"
}
k8s_run() {
  local name=$1 manifest=$2 container=$3 opts=()
  shift 3
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  local args
  mapfile -t args < <(k8s_args "$manifest" "$container" "$name") || fail "k8s_docker_args $manifest"
  # a pod's hostname is its own (hret's worker id is host:pid, and pid is 1 in each container)
  docker_cli run --label "$label" --name "td$$-$name" --hostname "td$$-$name" --network host \
    -v "$STACK_DIR/data:/mnt/data:ro" "${args[@]}" "${opts[@]}" "$image" "$@"
}

# config NAME PORT: $work/etc/NAME/hret_config.yaml, the operator's config for one container.
config() {
  mkdir -p "$work/etc/$1"
  cat >"$work/etc/$1/hret_config.yaml" <<YAML
output_dir: "/var/lib/hret/results"
auto_save_results: false
log_format: json
mlflow_tracking: true
kafka: {brokers: "$HRET_KAFKA", group_id: "hret-workers"}
postgres: {conninfo: "$pg_tcp"}
datasets: {root: "/mnt/data", shard_size: 25}
mlflow: {tracking_uri: "$MLFLOW_URL", experiment: "hret-test-deploy"}
models:
  right: {base_url: "http://127.0.0.1:$fake_port/v1", model: right, max_inflight: 16}
  wrong: {base_url: "http://127.0.0.1:$fake_port/v1", model: wrong, max_inflight: 16}
  slow: {base_url: "http://127.0.0.1:$slow_port/v1", model: slow, max_inflight: 2}
  gpt-4o-mini: {base_url: "http://127.0.0.1:$fake_port/v1", model: right, max_inflight: 16}
http: {listen: "127.0.0.1:$2"}
YAML
  chmod -R a+rX "$work/etc"
}

step "fake-llm (from the image) with the answer key: right=1, wrong=0; a slow one (200 ms)"
mkdir -p "$work/etc/fake-llm" "$work/request"
fake_port=$(stack_free_port)
slow_port=$(stack_free_port)
fake() { # name port fake-llm options...
  local name=$1 p=$2
  shift 2
  k8s_run "$name" "$k8s/40-worker.yaml" worker -d --entrypoint /usr/local/bin/fake-llm \
    --no-healthcheck -- --host 127.0.0.1 --port "$p" --answer-key /mnt/data/kmmlu/answer_key.tsv \
    --seed 5 "$@" >/dev/null
  for _ in $(seq 100); do
    curl -sf -m 2 "http://127.0.0.1:$p/health" >/dev/null && return 0
    sleep 0.2
  done
  fail "$name does not answer on 127.0.0.1:$p"
}
fake fake-llm "$fake_port" --model-accuracy right=1 --model-accuracy wrong=0
fake fake-slow "$slow_port" --latency-ms 200

step "migrate (the Job's container)"
config migrate 0
k8s_run migrate "$k8s/30-migrate-job.yaml" migrate --rm -- migrate >"$work/migrate.log" 2>&1 ||
  fail "migrate: $(tail -n 5 "$work/migrate.log")"

step "two workers, the monitor and the MLflow bridge (the Deployments' containers)"
declare -A port
for r in worker-1 worker-2 monitor bridge; do
  port[$r]=$(stack_free_port)
  config "$r" "${port[$r]}"
done
k8s_run worker-1 "$k8s/40-worker.yaml" worker -d -- worker >/dev/null
k8s_run worker-2 "$k8s/40-worker.yaml" worker -d -- worker >/dev/null
k8s_run monitor "$k8s/50-monitor.yaml" monitor -d -- monitor >/dev/null
k8s_run bridge "$k8s/55-bridge-mlflow.yaml" bridge -d -- bridge mlflow >/dev/null
for r in worker-1 worker-2 monitor bridge; do
  for _ in $(seq 150); do
    curl -sf -m 2 "http://127.0.0.1:${port[$r]}/readyz" >/dev/null && break
    [ "$(docker_cli inspect -f '{{.State.Running}}' "td$$-$r")" = true ] || fail "$r exited"
    sleep 0.2
  done
  curl -sf -m 2 "http://127.0.0.1:${port[$r]}/healthz" >/dev/null || fail "$r: /healthz"
  curl -sf -m 2 "http://127.0.0.1:${port[$r]}/readyz" >/dev/null || fail "$r: /readyz"
  docker_say "$r: /healthz and /readyz answer 200 on 127.0.0.1:${port[$r]}"
done
# Docker's health status: the image's HEALTHCHECK (it asks /healthz on the config's http.listen).
for r in worker-1 worker-2 monitor bridge; do
  for _ in $(seq 120); do
    h=$(docker_cli inspect -f '{{.State.Health.Status}}' "td$$-$r")
    [ "$h" = healthy ] && break
    sleep 0.5
  done
  [ "$h" = healthy ] || fail "$r: Docker health status '$h' after 60 s"
done
docker_say "Docker health status: healthy for the workers, the monitor and the bridge"

step "hret submit --wait in a container: two models against the answer key"
config submit 0
k8s_run submit "$k8s/80-cronjob-nightly.yaml" submit --rm -- submit --dataset kmmlu \
  --model right,wrong --run-name deploy-test --wait --timeout 300 >"$work/submit.out" 2>&1 ||
  fail "submit: $(cat "$work/submit.out")"
grep -q 'completed run=.* model=right dataset=kmmlu accuracy=1.0000$' "$work/submit.out" ||
  fail "model right (always right per the answer key): $(cat "$work/submit.out")"
grep -q 'completed run=.* model=wrong dataset=kmmlu accuracy=0.0000$' "$work/submit.out" ||
  fail "model wrong (always wrong per the answer key): $(cat "$work/submit.out")"
docker_say "$(grep -c '^completed' "$work/submit.out") runs completed: accuracy 1.0000 and 0.0000 as the answer key says"
q() { psql "$HRET_PG" -XAtqc "$1"; }
[ "$(q "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.run_name = 'deploy-test'")" = 400 ] ||
  fail "samples rows for deploy-test"
docker_say "400 samples stored"
python3 "$src/deploy/local/mlflow_runs.py" "$MLFLOW_URL" hret-test-deploy \
  $(q "SELECT run_id || '=' || (metrics->>'accuracy') FROM runs WHERE run_name = 'deploy-test'") ||
  fail "the MLflow bridge did not forward the runs"

step "the CronJob's container twice (request from its ConfigMap, no request_id)"
mkdir -p "$work/request"
python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d["kind"] == "ConfigMap":
        open(sys.argv[2] + "/nightly.yaml", "w").write(d["data"]["nightly.yaml"])
    if d["kind"] == "CronJob":
        c = d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        print("\n".join(c["args"]))' "$k8s/80-cronjob-nightly.yaml" "$work/request" >"$work/cron.args"
chmod -R a+rX "$work/request"
mapfile -t cron_args <"$work/cron.args"
grep -q request_id "$work/request/nightly.yaml" && fail "the nightly request has a request_id"
for night in 1 2; do
  config "nightly-$night" 0
  k8s_run "nightly-$night" "$k8s/80-cronjob-nightly.yaml" submit --rm -- "${cron_args[@]}" \
    >"$work/nightly-$night.out" 2>&1 || fail "nightly $night: $(cat "$work/nightly-$night.out")"
  grep -q '^completed run=.* model=gpt-4o-mini dataset=kmmlu accuracy=1.0000$' "$work/nightly-$night.out" ||
    fail "nightly $night: $(cat "$work/nightly-$night.out")"
done
[ "$(q "SELECT count(DISTINCT request_id) FROM runs WHERE run_name = 'nightly' AND status = 'completed'")" = 2 ] ||
  fail "two nightly requests did not complete: $(q "SELECT request_id, status FROM runs WHERE run_name = 'nightly'")"
docker_say "two scheduled submits: two requests, two completed runs"

step "SIGTERM to a worker during a request: it stops within the grace period, nothing is lost"
grace=$(python3 "$src/deploy/local/k8s_docker_args.py" "$k8s/40-worker.yaml" worker --grace)
config sigterm 0
k8s_run sigterm "$k8s/80-cronjob-nightly.yaml" submit -d -- submit --dataset kmmlu --model slow \
  --run-name deploy-sigterm --wait --timeout 300 >/dev/null
# SIGTERM in the middle: a shard done, two or more still to do
shard_count() { # status...
  q "SELECT count(*) FROM shards s JOIN runs r USING (run_id) WHERE r.run_name = 'deploy-sigterm' AND s.status IN ($1)"
}
for _ in $(seq 300); do
  [ "$(shard_count "'done'")" -ge 1 ] && [ "$(shard_count "'pending','running'")" -ge 2 ] && break
  sleep 0.2
done
[ "$(shard_count "'pending','running'")" -ge 2 ] || fail "the slow request was never in the middle"
t=$(date +%s)
docker_cli stop -t "$grace" "td$$-worker-1" >/dev/null
took=$(($(date +%s) - t))
code=$(docker_cli inspect -f '{{.State.ExitCode}}' "td$$-worker-1")
[ "$code" = 0 ] || fail "worker-1 exit status $code after SIGTERM (137: killed after $grace s)"
[ "$took" -lt "$grace" ] || fail "worker-1 took $took s to stop (grace $grace s)"
docker_say "worker-1 exited 0, $took s after SIGTERM (grace ${grace} s)"
[ "$(docker_cli wait "td$$-sigterm")" = 0 ] || fail "the request did not complete on worker-2: $(docker_cli logs "td$$-sigterm" 2>&1 | tail -n 5)"
[ "$(q "SELECT count(*), count(DISTINCT sample_idx) FROM samples s JOIN runs r USING (run_id) WHERE r.run_name = 'deploy-sigterm'")" = "200|200" ] ||
  fail "samples after the SIGTERM: $(q "SELECT count(*), count(DISTINCT sample_idx) FROM samples s JOIN runs r USING (run_id) WHERE r.run_name = 'deploy-sigterm'")"
[ "$(q "SELECT status FROM runs WHERE run_name = 'deploy-sigterm'")" = completed ] || fail "deploy-sigterm run"
owners=$(q "SELECT string_agg(DISTINCT owner, ' ') FROM shards s JOIN runs r USING (run_id) WHERE r.run_name = 'deploy-sigterm'")
[[ " $owners " == *" td$$-worker-2:"* ]] || fail "worker-2 did none of the request's shards: $owners"
docker_say "the request completed: 200 samples, each once; shards done by $owners"
for r in worker-2 monitor bridge; do
  docker_cli stop -t 30 "td$$-$r" >/dev/null
  code=$(docker_cli inspect -f '{{.State.ExitCode}}' "td$$-$r")
  [ "$code" = 0 ] || fail "$r exit status $code after SIGTERM"
done
docker_say "worker-2, the monitor and the bridge exited 0 on SIGTERM"

if [ "${HRET_TEST_DEPLOY_COMPOSE:-1}" != 0 ]; then
  step "compose: stand-in images and docker-compose up to a completed request"
  # test_compose.sh prints its own stack's logs and its reason last: nothing more after them
  HRET_TEST_IMAGE=$image "$src/deploy/local/test_compose.sh" "$work/compose" || exit 1
fi

step "make test-deploy passed in $(($(date +%s) - started)) s"
