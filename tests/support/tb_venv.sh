#!/usr/bin/env bash
# tb_venv.sh VENV: creates the virtualenv with the tensorboard package that tests read event files
# back with, once; concurrent tests wait on a mkdir lock. Exits non-zero (pip's tail on stderr)
# when it cannot be installed.
set -euo pipefail
venv=$1
lock="$venv.lock"
"$venv/bin/python" -c 'import tensorboard' 2>/dev/null && exit 0
mkdir -p "$(dirname "$venv")"
for _ in $(seq 600); do mkdir "$lock" 2>/dev/null && break; sleep 1; done
trap 'rmdir "$lock"' EXIT
if ! "$venv/bin/python" -c 'import tensorboard' 2>/dev/null; then
  rm -rf "$venv"
  log=$(mktemp)
  { python3 -m venv "$venv" && "$venv/bin/pip" install -q tensorboard; } >"$log" 2>&1 ||
    { tail -5 "$log" >&2; rm -f "$log"; exit 1; }
  rm -f "$log"
fi
