#!/usr/bin/env bash
# A real inference server for the test suite: llama.cpp's server through llama-cpp-python, built
# once from PyPI into deploy/local/.cache/llama-venv by pyvenv.sh (about 6 minutes on 2 cores;
# a lock makes concurrent users wait for the one build), with the `gguf` package that writes the
# tiny test model (tests/support/llama_model.py).
#
#   deploy/local/llama.sh venv               create the venv when missing; print its path
#   deploy/local/llama.sh model FILE         write the tiny random-weight model to FILE
#   deploy/local/llama.sh serve FILE PORT    run the OpenAI-compatible server in the
#                                            foreground on 127.0.0.1:PORT
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "llama.sh: $*" >&2; exit 1; }
venv() { CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} "$here/pyvenv.sh" llama; }

case ${1:-} in
  venv)
    venv
    ;;
  model)
    [ $# -eq 2 ] || die "usage: llama.sh model FILE"
    v=$(venv)
    exec "$v/bin/python" "$here/../../tests/support/llama_model.py" "$2"
    ;;
  serve)
    [ $# -eq 3 ] || die "usage: llama.sh serve FILE PORT"
    v=$(venv)
    # n_ctx 2048 keeps the context-length error reachable with a long prompt; logits_all is
    # what echo + logprobs (hret's log_likelihood mode) need.
    exec "$v/bin/python" -m llama_cpp.server --model "$2" --host 127.0.0.1 --port "$3" \
      --n_ctx 2048 --n_threads 1 --logits_all true --model_alias tiny
    ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
