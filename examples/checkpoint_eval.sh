#!/usr/bin/env bash
# Runs examples/checkpoint_eval.py (a training loop submitting each checkpoint) with the stack's
# environment.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
python3 "$(dirname "$0")/checkpoint_eval.py"
