#!/usr/bin/env bash
# Multi-dataset evaluation: one request, one model, several datasets: one run per (model,
# dataset), each with its own results; then accuracy per dataset side by side with
# hret metrics compare --group-by dataset.
# The stack's data root has the KMMLU sample; this copies the small HAE-RAE Bench and
# KorMedMCQA samples bundled with the tests next to it. fake-llm knows only the KMMLU answers,
# so the other two score near 0 here: with a real model they are real benchmarks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/.." && pwd)

root=$(hret config show | sed -n 's/^ *root: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' | head -n 1)
for d in haerae_bench kormedmcqa; do
  [ -d "$root/$d" ] || cp -r "$src/tests/data/datasets/$d" "$root/$d"
done
cat >"$ex_work/multi.json" <<JSON
{"run_name": "multi-$(date +%s)", "models": [{"name": "candidate"}],
 "datasets": [{"name": "kmmlu"},
   {"name": "haerae_bench", "subset": ["general_knowledge", "loan_words"]},
   {"name": "kormedmcqa", "subset": ["doctor", "nurse"]}]}
JSON
hret submit "$ex_work/multi.json" --wait 2>/dev/null | tee "$ex_work/out"
request=$(head -n 1 "$ex_work/out")
runs=$(ex_sql "SELECT string_agg(run_id, ',') FROM runs WHERE request_id = '$request'")
echo
echo "hret metrics compare accuracy --runs <the request's runs> --group-by dataset"
hret metrics compare accuracy --runs "$runs" --group-by dataset
