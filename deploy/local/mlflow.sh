#!/usr/bin/env bash
# A real MLflow tracking server for local work: make demo, examples/stack.sh and the MLflow
# bridge's end-to-end test use the same pinned mlflow, installed once from PyPI into a venv
# under deploy/local/.cache/mlflow-venv (git-ignored). A lock makes concurrent users wait for
# the one install instead of racing it.
#
#   deploy/local/mlflow.sh venv             create the venv when missing; print its path
#   deploy/local/mlflow.sh serve DIR PORT   run `mlflow server` in the foreground on
#                                           127.0.0.1:PORT, sqlite store and artifacts in DIR
#
# Environment: HRET_MLFLOW_VENV (another venv path).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
want="mlflow==3.17.2" # tests/e2e/test_bridge_mlflow.sh pins the same version and path
venv=${HRET_MLFLOW_VENV:-$here/.cache/mlflow-venv}

die() { echo "mlflow.sh: $*" >&2; exit 1; }

make_venv() {
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock -w 900 9 || die "waited 15 min for $venv.lock (another install still running?)"
  if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
    echo "mlflow.sh: installing $want into $venv (first run only, a minute or two)" >&2
    rm -rf "$venv"
    local log
    log=$(mktemp)
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check \
      "$want"; } >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      rm -f "$log"
      die "pip install $want failed (needs python3-venv and access to PyPI; log above)"
    fi
    rm -f "$log"
    echo "$want" >"$venv/.stamp"
  fi
  exec 9>&-
}

case ${1:-} in
  venv)
    make_venv
    echo "$venv"
    ;;
  serve)
    [ $# -eq 3 ] || die "usage: mlflow.sh serve DIR PORT"
    make_venv
    mkdir -p "$2"
    dir=$(cd "$2" && pwd)
    # The job runner (huey consumers) is not needed for tracking and doubles the start-up time.
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false exec "$venv/bin/python" -m mlflow server \
      --backend-store-uri "sqlite:///$dir/mlflow.db" --artifacts-destination "$dir/artifacts" \
      --host 127.0.0.1 --port "$3" --workers 1
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
