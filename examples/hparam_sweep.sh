#!/usr/bin/env bash
# A hyperparameter sweep, then picking the best run: one request per setting, the settings in
# metadata.hyperparameters (stored on every run, sent to MLflow as params), all under one
# run-name prefix. hret metrics compare --group-by metadata.hyperparameters.lr ranks the
# settings by mean accuracy (several seeds per setting would be pooled per group).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

sweep="sweep-$(date +%s)"
settings=("0.001 16 0.1" "0.01 32 0.2" "0.005 64 0.15") # lr batch_size dropout
requests=()
for s in "${settings[@]}"; do
  read -r lr bs dropout <<<"$s"
  # the model trained with these settings, served as lr-<lr> by the fake
  cat >"$ex_work/$lr.json" <<JSON
{"run_name": "$sweep", "datasets": [{"name": "kmmlu"}],
 "models": [{"name": "sweep-model", "endpoint": $(ex_endpoint "lr-$lr")}],
 "metadata": {"hyperparameters": {"lr": $lr, "batch_size": $bs, "dropout": $dropout}}}
JSON
  requests+=("$(hret submit "$ex_work/$lr.json" 2>/dev/null)")
  echo "submitted lr=$lr batch_size=$bs dropout=$dropout: request ${requests[-1]}"
done
for r in "${requests[@]}"; do # wait for all three (submit --wait per request works too)
  for _ in $(seq 300); do
    hret status "$r" --json | grep -q '"status":"completed"' && break
    sleep 0.5
  done
done
runs=$(ex_sql "SELECT string_agg(run_id, ',') FROM runs WHERE run_name = '$sweep'")
echo
echo "hret metrics compare accuracy --runs <the sweep's runs> --group-by metadata.hyperparameters.lr"
hret metrics compare accuracy --runs "$runs" --group-by metadata.hyperparameters.lr
