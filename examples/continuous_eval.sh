#!/usr/bin/env bash
# Continuous evaluation with a degradation alert: a "nightly" evaluation of the production model
# runs three times; before the third, a bad release goes out (the fake serves prod-v2, 20
# points worse). The monitor's rule `regress` (examples/stack.sh: run_name nightly*, baseline
# previous, max_drop 0.05) compares each run with the previous one of the same model and
# dataset, paired on the shared questions (McNemar exact), and raises an alert: a row in the
# alerts table, an hret.alert.raised.v1 event on hret.eval.alerts, and a notice to each
# monitor.channels entry (Slack, PagerDuty, a signed webhook) when configured.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

model="prod-$(date +%s)" # a fresh label, so earlier runs of this example are not the baseline
night=0
for served in prod-v1 prod-v1 prod-v2; do
  night=$((night + 1))
  cat >"$ex_work/night$night.json" <<JSON
{"run_name": "nightly-$night", "datasets": [{"name": "kmmlu"}],
 "models": [{"name": "$model", "endpoint": $(ex_endpoint "$served"), "params": {"temperature": 0.0$night}}]}
JSON
  echo "night $night: $model served as $served"
  hret submit "$ex_work/night$night.json" --wait 2>/dev/null | sed 's/^/  /'
done

echo "waiting for the monitor to judge the last run..."
for _ in $(seq 150); do
  [ "$(ex_sql "SELECT count(*) FROM monitor_evaluations e JOIN runs r USING (run_id)
               WHERE r.model_name = '$model' AND r.run_name = 'nightly-3'")" -ge 1 ] && break
  sleep 0.2
done
alerts=$(ex_sql "SELECT rule, severity, message FROM alerts WHERE model_name = '$model'")
if [ -z "$alerts" ]; then
  echo "no alert raised (monitor log: $HRET_STACK_DIR/monitor.log)" >&2
  exit 1
fi
echo "alerts raised (SELECT rule, severity, message FROM alerts):"
echo "$alerts" | sed 's/^/  /'
