#!/usr/bin/env bash
# The layer rule of worker/ (README, Layout; tests/support/layers.py): the tree keeps it, and the
# check does fail on a break (an upward include planted in a copy of the tree).
set -euo pipefail
src=${HRET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
python3 "$src/tests/support/layers.py" "$src"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/common" "$src/worker" "$tmp/"
printf '#include "hret_role.h"\n' >>"$tmp/worker/core/hret_sample.c"
printf '#include "hret_monitor.h"\n' >>"$tmp/worker/sinks/hret_bridge.c"
printf '#include "hret_results.h"\n' >>"$tmp/worker/pipeline/hret_compare.h"
printf '#include "hret_compare.h"\n' >>"$tmp/worker/pipeline/hret_metrics.h"
if out=$(python3 "$src/tests/support/layers.py" "$tmp" 2>/dev/null); then
  echo "layers.py passed a tree with planted breaks" >&2
  exit 1
fi
for want in "worker/core/hret_sample.c: includes hret_role.h of roles/, a higher layer" \
  "worker/sinks/hret_bridge.c: includes hret_monitor.h of monitor/, a peer layer" \
  "worker/pipeline: include cycle between"; do
  grep -qF "$want" <<<"$out" || { echo "layers.py did not report: $want" >&2; echo "$out" >&2; exit 1; }
done
echo "layers: the tree keeps the rule; planted breaks are reported"
