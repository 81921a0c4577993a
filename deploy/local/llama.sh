#!/usr/bin/env bash
# A real inference server for the test suite: llama.cpp's server through llama-cpp-python,
# built once from PyPI (about 6 minutes on 2 cores) into a venv under
# deploy/local/.cache/llama-venv (git-ignored), with the `gguf` package that writes the tiny
# test model (tests/support/llama_model.py). A lock makes concurrent users wait for the one
# build instead of racing it.
#
#   deploy/local/llama.sh venv               create the venv when missing; print its path
#   deploy/local/llama.sh model FILE         write the tiny random-weight model to FILE
#   deploy/local/llama.sh serve FILE PORT    run the OpenAI-compatible server in the
#                                            foreground on 127.0.0.1:PORT
#
# Environment: HRET_LLAMA_VENV (another venv path).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
want="llama-cpp-python[server]==0.3.36 gguf==0.19.0"
venv=${HRET_LLAMA_VENV:-$here/.cache/llama-venv}

die() { echo "llama.sh: $*" >&2; exit 1; }

make_venv() {
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock -w 1800 9 || die "waited 30 min for $venv.lock (another build still running?)"
  if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
    echo "llama.sh: building $want into $venv (first run only, about 6 minutes)" >&2
    rm -rf "$venv"
    local log
    log=$(mktemp)
    # shellcheck disable=SC2086 # $want is a list of requirement specifiers
    if ! { python3 -m venv "$venv" &&
      CMAKE_BUILD_PARALLEL_LEVEL=2 "$venv/bin/pip" install -q --disable-pip-version-check \
        --no-cache-dir $want; } >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      rm -f "$log"
      die "pip install $want failed (needs build-essential, cmake, python3-venv and PyPI; log above)"
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
  model)
    [ $# -eq 2 ] || die "usage: llama.sh model FILE"
    make_venv
    exec "$venv/bin/python" "$here/../../tests/support/llama_model.py" "$2"
    ;;
  serve)
    [ $# -eq 3 ] || die "usage: llama.sh serve FILE PORT"
    make_venv
    # n_ctx 2048 keeps the context-length error reachable with a long prompt; logits_all is
    # what echo + logprobs (hret's log_likelihood mode) need.
    exec "$venv/bin/python" -m llama_cpp.server --model "$2" --host 127.0.0.1 --port "$3" \
      --n_ctx 2048 --n_threads 1 --logits_all true --model_alias tiny
    ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
