#!/usr/bin/env bash
# Under `set -o pipefail`, `cmd | head -n N` fails whenever head exits before cmd has written
# everything (cmd dies of SIGPIPE), and `set -e` then ends the script without a word: CI lost a
# whole submission to e2e.fault_infra that way. Scripts take the first lines with `sed -n 1,Np`,
# which reads its input to the end. Every script here runs under pipefail
# (tests source test_env.sh), so the check covers them all.
set -euo pipefail
src=${HRET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src"
bad=$(grep -nE '\|[[:space:]]*head([[:space:]]|$|\))' tests/*/*.sh deploy/*/*.sh .ci/run | grep -vE '^[^:]*:[0-9]+:[[:space:]]*#' || true)
if [ -n "$bad" ]; then
  printf 'a pipe into head (use sed -n 1,Np):\n%s\n' "$bad" >&2
  exit 1
fi
echo "shell pipes: no pipe into head"
