#!/usr/bin/env bash
# Runs examples/checkpoint_eval.py (a training loop submitting each checkpoint over hret api with
# the Python client) with the stack's environment. The client is clients/python, used from the
# source tree here with httpx from a pinned venv (deploy/local/pyvenv.sh); in your own project,
# `pip install clients/python` instead.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/.." && pwd)
venv=$("$src/deploy/local/pyvenv.sh" pyclient)
PYTHONPATH="$src/clients/python/src" "$venv/bin/python" "$src/examples/checkpoint_eval.py"
