#!/usr/bin/env bash
# deploy/compose.yaml for real, the last step of make test-deploy (deploy/local/test_deploy.sh
# calls it with its dockerd running and the hret image built):
#
#   test_compose.sh WORKDIR        (DOCKER_HOST and HRET_TEST_IMAGE set by the caller)
#
# No image registry is reachable, so the third-party images are stand-ins built here from the
# sources the local stack uses (deploy/local/standins/): Kafka from the Maven Central jars of
# deploy/local/kafka.sh, PostgreSQL 15 from Debian, MLflow from PyPI (the version
# deploy/local/mlflow.sh pins). compose.yaml takes them through HRET_KAFKA_IMAGE,
# HRET_POSTGRES_IMAGE and HRET_MLFLOW_IMAGE; the file itself is used as it is, on compose's own
# bridge network (container to container; dockerd runs with --iptables=false, so only the
# published MLflow port, through docker-proxy, reaches the host). `docker-compose up` (Debian's
# docker-compose 1.29) starts everything with its health and completion conditions, then
# `docker-compose run submit ... --wait` sends a request that must complete, and the MLflow
# bridge must have put its run into MLflow.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
work=${1:?usage: test_compose.sh WORKDIR}
: "${DOCKER_HOST:?DOCKER_HOST is not set (run by deploy/local/test_deploy.sh)}"
image=${HRET_TEST_IMAGE:?HRET_TEST_IMAGE is not set}
. deploy/local/docker_lib.sh
. deploy/local/stack_lib.sh # stack_free_port

mkdir -p "$work"
chmod 755 "$work"
fail() {
  echo "FAIL: compose: $*" >&2
  dc ps >&2 2>&1 || true
  dc logs --tail 10 >&2 2>&1 || true
  exit 1
}
dc() { docker-compose -f "$src/deploy/compose.yaml" "$@"; }
export COMPOSE_PROJECT_NAME="hrettd$$"
cleanup() { dc down -v -t 30 >/dev/null 2>&1 || true; }
trap cleanup EXIT

# ---- stand-in images ------------------------------------------------------------------------
kafka_version=$(sed -n 's/^version=\${KAFKA_VERSION:-\([0-9.]*\)}$/\1/p' deploy/local/kafka.sh)
mlflow_pin=$(sed -n 's/^want="\(mlflow==[0-9.]*\)".*/\1/p' deploy/local/mlflow.sh)
kcache=$(readlink -f deploy/local/.cache)/kafka-$kafka_version
[ -f "$kcache/admin/HretKafkaReady.class" ] ||
  fail "no $kcache/admin/HretKafkaReady.class (deploy/local/kafka.sh compiles it on its first start)"

# mlflow_wheels: the pinned mlflow and its dependencies as wheels, downloaded once per machine
# by the host's pip (of the venv deploy/local/mlflow.sh makes) into the deploy cache.
mlflow_wheels() {
  local dir=$HRET_DEPLOY_CACHE/wheels/$mlflow_pin venv
  if [ ! -f "$dir/.complete" ]; then
    venv=$(deploy/local/mlflow.sh venv) || fail "deploy/local/mlflow.sh venv"
    rm -rf "$dir"
    mkdir -p "$dir"
    "$venv/bin/pip" download -q --disable-pip-version-check --only-binary=:all: -d "$dir" \
      "$mlflow_pin" >"$work/wheels.log" 2>&1 || fail "pip download $mlflow_pin: $(tail -n 5 "$work/wheels.log")"
    touch "$dir/.complete"
  fi
  printf '%s\n' "$dir"
}

standin() { # name tag [docker build args...]: build deploy/local/standins/NAME.Dockerfile
  local name=$1 tag=$2 ctx=$work/ctx-$1
  shift 2
  mkdir -p "$ctx"
  cp deploy/local/standins/"$name".Dockerfile "$ctx/Dockerfile"
  cp deploy/local/standins/*.sh "$ctx/"
  [ "$name" != kafka ] || cp -r "$kcache/libs" "$kcache/admin" "$ctx/"
  [ "$name" != mlflow ] || cp -r "$(mlflow_wheels)" "$ctx/wheels"
  DOCKER_BUILDKIT=0 docker_cli build --network host -t "$tag" "$@" "$ctx" >"$work/build-$name.log" 2>&1 ||
    fail "building the $name stand-in: $(tail -n 20 "$work/build-$name.log")"
  docker_say "stand-in $tag built (deploy/local/standins/$name.Dockerfile)"
}
export HRET_IMAGE=$image
export HRET_KAFKA_IMAGE=hret-standin/kafka:$kafka_version
export HRET_POSTGRES_IMAGE=hret-standin/postgres:15
export HRET_MLFLOW_IMAGE=hret-standin/mlflow:${mlflow_pin#mlflow==}
standin kafka "$HRET_KAFKA_IMAGE"
standin postgres "$HRET_POSTGRES_IMAGE"
standin mlflow "$HRET_MLFLOW_IMAGE" --build-arg "MLFLOW=$mlflow_pin"

# ---- the compose stack ---------------------------------------------------------------------
export HRET_DATA_DIR=$work/data
python3 tests/data/gen_kmmlu_synth.py --out "$HRET_DATA_DIR/kmmlu" --items 90 --seed 3 >/dev/null
chmod -R a+rX "$HRET_DATA_DIR"
export HRET_MLFLOW_PORT
HRET_MLFLOW_PORT=$(stack_free_port)

dc config -q || fail "docker-compose config"
docker_say "docker-compose up -d (project $COMPOSE_PROJECT_NAME)"
dc up -d --no-build >"$work/up.log" 2>&1 || fail "up: $(tail -n 20 "$work/up.log")"
for _ in $(seq 120); do
  n=$(dc ps | grep -c '(healthy)' || true)
  [ "$n" -ge 7 ] && break # kafka, postgres, mlflow, fake-llm, 3 workers (+ monitor, bridge)
  sleep 1
done
dc ps >"$work/ps.txt"
grep -q 'migrate.*Exit 0' "$work/ps.txt" || fail "migrate did not exit 0"
grep -q 'kafka-init.*Exit 0' "$work/ps.txt" || fail "kafka-init did not exit 0"
for s in worker_1 worker_2 worker_3 monitor_1 bridge-mlflow_1; do
  grep -q "_${s} .*(healthy)" "$work/ps.txt" || fail "$s is not healthy: $(cat "$work/ps.txt")"
done
docker_say "up: migrate and kafka-init exited 0; 3 workers, the monitor and the bridge healthy"

dc run --rm -T submit --dataset kmmlu --model baseline,candidate --run-name compose-test \
  --wait --timeout 300 >"$work/submit.out" 2>&1 || fail "submit: $(cat "$work/submit.out")"
[ "$(grep -c '^completed run=.* dataset=kmmlu accuracy=' "$work/submit.out")" = 2 ] ||
  fail "submit did not see two completed runs: $(cat "$work/submit.out")"
docker_say "request completed: $(grep '^completed' "$work/submit.out" | sed 's/ run=[^ ]*//' | tr '\n' ';')"
python3 deploy/local/mlflow_runs.py "http://127.0.0.1:$HRET_MLFLOW_PORT" hret \
  $(sed -n 's/^completed run=\([^ ]*\) .* accuracy=\([0-9.]*\)$/\1=\2/p' "$work/submit.out") ||
  fail "the MLflow bridge did not forward the runs"
