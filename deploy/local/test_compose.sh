#!/usr/bin/env bash
# deploy/compose.yaml for real, the last step of make test-deploy (deploy/local/test_deploy.sh
# calls it with its dockerd running and the hret image built):
#
#   test_compose.sh WORKDIR        (DOCKER_HOST and HRET_TEST_IMAGE set by the caller)
#
# HRET_TEST_IMAGE is the hret image the caller built from these sources in this run
# (docker_build_hret: hret:src-<content hash>); this script refuses an image whose
# hret.source-id label is not the hash of the sources as they are now, and checks that every
# hret container compose started runs exactly that image.
#
# No image registry is reachable, so the third-party images are stand-ins built here from the
# sources the local stack uses (deploy/local/standins/): Kafka from the Maven Central jars of
# deploy/local/kafka.sh, PostgreSQL 15 from Debian, MLflow from PyPI (the version
# deploy/local/mlflow.sh pins). compose.yaml takes them through HRET_KAFKA_IMAGE,
# HRET_POSTGRES_IMAGE and HRET_MLFLOW_IMAGE; the file itself is used as it is, on compose's own
# bridge network (container to container; dockerd runs with --iptables=false, so only the
# published ports, through docker-proxy, reach the host: MLflow's and the API's, moved to free
# ports by HRET_MLFLOW_PORT and HRET_API_PORT). One override file, written here, gives the
# fake-llm service the generated dataset's answer key and accuracies 1 and 0 for its two models,
# as compose.yaml's comment says to (its own accuracies only apply with a key). `docker-compose
# up` (Debian's docker-compose 1.29) starts everything with its health and completion
# conditions; then `docker-compose run submit ... --wait` sends a request that must complete
# with accuracy 1.0000 for `baseline` and 0.0000 for `candidate`, the samples must be in the
# stack's PostgreSQL and the MLflow bridge must have put both runs into MLflow.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
work=${1:?usage: test_compose.sh WORKDIR}
: "${DOCKER_HOST:?DOCKER_HOST is not set (run by deploy/local/test_deploy.sh)}"
image=${HRET_TEST_IMAGE:?HRET_TEST_IMAGE is not set}
. deploy/local/docker_lib.sh
. deploy/local/stack_lib.sh # stack_free_port
say() { docker_say "[${SECONDS}s] $*"; } # seconds since this step began

mkdir -p "$work"
chmod 755 "$work"
# fail REASON: the stack's state and last lines, then the reason, last (CI shows the end)
fail() {
  dc ps >&2 2>&1 || true
  dc logs --no-color --tail 10 >&2 2>&1 || true
  echo "FAIL: compose: $*" >&2
  exit 1
}
# a command that ends the script under set -e says so (the reason last, as fail does)
trap '_rc=$?; fail "line $LINENO: exited $_rc: $BASH_COMMAND"' ERR
dc() { docker-compose -f "$src/deploy/compose.yaml" -f "$work/compose.test.yaml" "$@"; }
export COMPOSE_PROJECT_NAME="hrettd$$"
cleanup() { dc down -v -t 30 >/dev/null 2>&1 || true; }
trap cleanup EXIT

# ---- the hret image: built from these sources ---------------------------------------------------
image_id=$(docker_cli image inspect -f '{{.Id}}' "$image") || fail "no image $image"
[ "$(docker_cli image inspect -f '{{index .Config.Labels "hret.source-id"}}' "$image")" = \
  "$(docker_source_id "$src")" ] ||
  fail "$image was not built from the sources as they are now (label hret.source-id); build it with docker_build_hret"
say "hret image: $image = $image_id"

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
    # python -m pip: the venv's bin/pip names in its #! the path the venv was made through,
    # which another checkout sharing deploy/local/.cache may not have
    "$venv/bin/python" -m pip download -q --disable-pip-version-check --only-binary=:all: -d "$dir" \
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
  DOCKER_BUILDKIT=0 docker_cli build --force-rm --network host -t "$tag" "$@" "$ctx" \
    >"$work/build-$name.log" 2>&1 ||
    fail "building the $name stand-in: $(tail -n 20 "$work/build-$name.log")"
  say "stand-in $tag built (deploy/local/standins/$name.Dockerfile)"
}
export HRET_IMAGE=$image
export HRET_KAFKA_IMAGE=hret-standin/kafka:$kafka_version
export HRET_POSTGRES_IMAGE=hret-standin/postgres:15
export HRET_MLFLOW_IMAGE=hret-standin/mlflow:${mlflow_pin#mlflow==}
standin kafka "$HRET_KAFKA_IMAGE"
standin postgres "$HRET_POSTGRES_IMAGE"
standin mlflow "$HRET_MLFLOW_IMAGE" --build-arg "MLFLOW=$mlflow_pin"
docker_cli image prune -f >/dev/null # a stand-in's earlier build, if its Dockerfile changed

# ---- the compose stack ---------------------------------------------------------------------
export HRET_DATA_DIR=$work/data HRET_MLFLOW_PORT HRET_API_PORT
python3 tests/data/gen_kmmlu_synth.py --out "$HRET_DATA_DIR/kmmlu" --items 90 --seed 3 >/dev/null
chmod -R a+rX "$HRET_DATA_DIR"
HRET_MLFLOW_PORT=$(stack_free_port)
HRET_API_PORT=$(stack_free_port)
# fake-llm with the answer key: baseline always right, candidate always wrong
cat >"$work/compose.test.yaml" <<'YAML'
services:
  fake-llm:
    command:
      - --host=0.0.0.0
      - --port=8000
      - --threads=2
      - --answer-key=/var/lib/hret/data/kmmlu/answer_key.tsv
      - --model-accuracy=fake-baseline=1
      - --model-accuracy=fake-candidate=0
    volumes:
      - ${HRET_DATA_DIR}:/var/lib/hret/data:ro
YAML

dc config -q || fail "docker-compose config"
say "docker-compose up -d (project $COMPOSE_PROJECT_NAME, compose's bridge network)"
dc up -d --no-build >"$work/up.log" 2>&1 || fail "up: $(tail -n 20 "$work/up.log")"

# state SERVICE: "status health exitcode" of each of the service's containers, one a line
state() {
  local id
  for id in $(docker_cli ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
    --filter "label=com.docker.compose.service=$1"); do
    docker_cli inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.ExitCode}}' "$id"
  done
}
# Until every one-shot has exited 0 and every service is healthy (a healthcheck that fails for
# a while on a loaded machine may still pass: only an exit is final), at most 5 minutes.
healthy="kafka postgres mlflow fake-llm worker monitor bridge-mlflow api"
deadline=$((SECONDS + 300))
while :; do
  pending=""
  for s in migrate kafka-init; do
    st=$(state "$s")
    case $st in
    "exited - 0") ;;
    exited*) fail "$s exited: $st" ;;
    *) pending+=" $s($st)" ;;
    esac
  done
  for s in $healthy; do
    st=$(state "$s")
    n=$(grep -c '^running healthy ' <<<"$st" || true)
    [ "$s" = worker ] && want=3 || want=1
    grep -q '^exited' <<<"$st" && fail "$s exited: $st"
    [ "$n" = "$want" ] || pending+=" $s($(tr '\n' ',' <<<"$st"))"
  done
  [ -z "$pending" ] || [ "$SECONDS" -ge "$deadline" ] && break
  sleep 1
done
[ -z "$pending" ] || fail "not healthy or not done after 5 minutes:$pending"
say "up: migrate and kafka-init exited 0; Kafka, PostgreSQL, MLflow, fake-llm, 3 workers, the monitor, the bridge and the API healthy"

for s in fake-llm migrate worker monitor bridge-mlflow api; do
  for id in $(dc ps -q "$s"); do
    [ "$(docker_cli inspect -f '{{.Image}}' "$id")" = "$image_id" ] ||
      fail "$s runs $(docker_cli inspect -f '{{.Config.Image}} {{.Image}}' "$id"), not $image"
  done
done
say "every hret container runs $image"

# --no-deps: the stack is up (checked above); without it docker-compose 1.29 starts the
# kafka-init one-shot again and fails the run if that second pass does not exit 0
dc run --rm -T --no-deps submit --dataset kmmlu --model baseline,candidate --run-name compose-test \
  --wait --timeout 300 >"$work/submit.out" 2>&1 || fail "submit: $(cat "$work/submit.out")"
grep -q '^completed run=.* model=baseline dataset=kmmlu accuracy=1.0000$' "$work/submit.out" ||
  fail "model baseline (always right per the answer key): $(cat "$work/submit.out")"
grep -q '^completed run=.* model=candidate dataset=kmmlu accuracy=0.0000$' "$work/submit.out" ||
  fail "model candidate (always wrong per the answer key): $(cat "$work/submit.out")"
say "request completed: baseline 1.0000 and candidate 0.0000 as the answer key says"
samples=$(dc exec -T postgres psql -U hret -d hret -XAtqc \
  "SELECT count(*) || ' ' || count(DISTINCT (run_id, sample_idx)) FROM samples s JOIN runs r USING (run_id) WHERE r.run_name = 'compose-test'") ||
  fail "psql in the postgres service"
[ "$samples" = "180 180" ] || fail "samples of compose-test in PostgreSQL: $samples (want 2 runs x 90, each once)"
say "180 samples in the stack's PostgreSQL"
python3 deploy/local/mlflow_runs.py "http://127.0.0.1:$HRET_MLFLOW_PORT" hret \
  $(sed -n 's/^completed run=\([^ ]*\) .* accuracy=\([0-9.]*\)$/\1=\2/p' "$work/submit.out") ||
  fail "the MLflow bridge did not forward the runs"
say "compose passed (docker-compose down -v follows)"
