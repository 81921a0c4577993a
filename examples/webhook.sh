#!/usr/bin/env bash
# A custom integration via webhook: `hret bridge webhook` POSTs result events, signed with
# HMAC-SHA256, to any HTTP endpoint; examples/webhook_receiver.py verifies the signature and
# dedupes on X-Hret-Delivery. The seed's ctx.add_mlops_integration(custom_logger), but out of
# process: the evaluation never waits for (or breaks because of) your integration.
# The bridge runs here with a config of its own (the stack's plus a webhooks: entry) and a
# consumer group of its own; the secret is passed by variable name (secret_env), never written.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

export HRET_WEBHOOK_SECRET="example-secret-$RANDOM$RANDOM"
label="hooked-$(date +%s)"
python3 "$(dirname "$0")/webhook_receiver.py" --count 1 >"$ex_work/receiver.out" 2>&1 &
receiver=$!
bridge=""
trap 'kill $receiver $bridge 2>/dev/null; wait 2>/dev/null; rm -rf "$ex_work"' EXIT
for _ in $(seq 100); do grep -q listening "$ex_work/receiver.out" && break; sleep 0.05; done
url="http://$(sed -n 's/^listening on //p' "$ex_work/receiver.out")/hret"
echo "receiver: $url (examples/webhook_receiver.py)"

{
  cat "$HRET_CONFIG"
  cat <<YAML
webhooks:
  - name: example
    url: "$url"
    secret_env: HRET_WEBHOOK_SECRET
    events: ["hret.run.completed.v1"]
    models: ["$label"]
YAML
} >"$ex_work/hret_config.yaml"
hret bridge webhook --config "$ex_work/hret_config.yaml" --group "hret-example-webhook-$label" \
  >"$ex_work/bridge.log" 2>&1 &
bridge=$!
echo "bridge: hret bridge webhook (events hret.run.completed.v1 of model $label only)"

cat >"$ex_work/req.json" <<JSON
{"run_name": "webhook-demo", "datasets": [{"name": "kmmlu"}],
 "models": [{"name": "$label", "endpoint": $(ex_endpoint candidate)}]}
JSON
hret submit "$ex_work/req.json" --wait 2>/dev/null | sed 's/^/submitted: /'
for _ in $(seq 300); do kill -0 $receiver 2>/dev/null || break; sleep 0.2; done
if kill -0 $receiver 2>/dev/null; then
  echo "no verified delivery in 60 s; bridge log:" >&2
  tail -n 20 "$ex_work/bridge.log" >&2
  exit 1
fi
echo "the receiver verified the signature and got:"
sed 's/^/  /' "$ex_work/receiver.out"
