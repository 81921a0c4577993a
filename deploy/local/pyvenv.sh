#!/usr/bin/env bash
# A pinned Python tool venv under deploy/local/.cache/NAME-venv (git-ignored), installed once
# from PyPI; a lock makes concurrent users wait for the one install instead of racing it (the
# way mlflow.sh does for MLflow). Prints the venv's path.
#
#   deploy/local/pyvenv.sh schemathesis     schemathesis for the OpenAPI property test
#   deploy/local/pyvenv.sh llama            llama.cpp's server (llama-cpp-python, built from
#                                           source: about 6 minutes) and gguf (llama.sh)
#   deploy/local/pyvenv.sh pyclient         httpx, for examples run with clients/python/src
#   deploy/local/pyvenv.sh pyarrow          pyarrow, which writes the Parquet test files
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "pyvenv.sh: $*" >&2; exit 1; }

case ${1:-} in
  schemathesis) want="schemathesis==4.32.5" ;;
  llama) want="llama-cpp-python[server]==0.3.36 gguf==0.19.0" ;;
  pyclient) want="httpx==0.28.1" ;;
  pyarrow) want="pyarrow==26.0.1" ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
venv=$here/.cache/$1-venv

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock -w 1800 9 || die "waited 30 min for $venv.lock (another install still running?)"
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
  echo "pyvenv.sh: installing $want into $venv (first run only)" >&2
  rm -rf "$venv"
  log=$(mktemp)
  # shellcheck disable=SC2086 # $want is a list of requirements
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check \
    $want; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -f "$log"
    die "pip install $want failed (needs python3-venv and access to PyPI; log above)"
  fi
  rm -f "$log"
  echo "$want" >"$venv/.stamp"
fi
exec 9>&-
echo "$venv"
