#!/usr/bin/env bash
# A/B test: two models on the same KMMLU questions in one request, then a paired significance
# test. The seed's guide ran scipy's independent t-test on per-sample scores; the right test
# for two models on the same items is paired: McNemar's exact test on the discordant items
# (A right / B wrong vs A wrong / B right), with a paired bootstrap interval of the difference.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

echo "1. one request, both models (the workers also publish hret.comparison.completed.v1):"
hret submit --dataset kmmlu --model baseline,candidate --run-name ab-test --wait 2>/dev/null |
  grep -v '^comparison ' | tee "$ex_work/submit.out"
request=$(head -n 1 "$ex_work/submit.out")

echo "2. each run as HRET's results JSON (hret runs export), then hret compare:"
for m in baseline candidate; do
  run=$(ex_sql "SELECT run_id FROM runs WHERE request_id = '$request' AND model_name = '$m'")
  hret runs export "$run" --output "$ex_work/$m.json" 2>/dev/null
done
hret compare "$ex_work/baseline.json" "$ex_work/candidate.json" |
  awk '/^subsets/ { skip = 1 } /^verdict/ { skip = 0 } !skip'
echo
echo "(per subset, Holm-adjusted: the same command without the filter; --json for machines)"
