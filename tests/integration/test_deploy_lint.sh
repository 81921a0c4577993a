#!/usr/bin/env bash
# deploy/ checked without a Docker engine or a cluster (neither runs here):
# - deploy_lint.py: YAML parses; compose.yaml against the Compose Specification JSON schema;
#   k8s manifests against the Kubernetes JSON schemas (strict) plus targeted checks of the
#   KEDA ScaledObject, probes, secrets and selectors; the Dockerfile's stages, base, user,
#   packages and RUN lines; the systemd units' commands and users;
# - `hret config check` on deploy/hret_config.compose.yaml and on the ConfigMap's config;
# - the CronJob's request file: `hret submit --dry-run` accepts it and gives it a new
#   request_id each time (deploy_lint_schedule.py checks it has none);
# - `bash -n` on deploy/local/*.sh and on the shell bodies in compose.yaml;
# - `systemd-analyze verify` on the units (with the hret of this build), when it can run.
# The schemas come from the virtualenv deploy/local/deps.sh creates, so nothing is fetched.
set -euo pipefail
src="$HRET_SOURCE_DIR"
hret="$HRET_BUILD_DIR/hret"
venv="$src/deploy/local/.cache/deploy-venv"
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import kubernetes_validate, compose' 2>/dev/null ||
  fail "no $venv with kubernetes-validate and docker-compose: run deploy/local/deps.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$hret" --help >"$tmp/help.txt"
"$venv/bin/python" "$src/tests/integration/deploy_lint.py" "$src" "$tmp" "$tmp/help.txt" ||
  fail "deploy_lint.py"

"$hret" config check "$src/deploy/hret_config.compose.yaml" || fail "compose config"
cp "$tmp/configmap_hret_config.yaml" "$tmp/hret_config.yaml"
"$hret" config check "$tmp/hret_config.yaml" || fail "the ConfigMap's hret_config.yaml"

# the CronJob's request (no request_id) against the ConfigMap's config: valid, and a new
# request_id each time, as on two nights
for night in 1 2; do
  "$hret" submit --config "$tmp/hret_config.yaml" --dry-run "$tmp/nightly_request.yaml" \
    >"$tmp/night$night.json" || fail "hret submit --dry-run of the CronJob's request"
done
python3 - "$tmp/night1.json" "$tmp/night2.json" <<'PY2' || fail "the CronJob's request_id"
import json, sys
a, b = (json.load(open(p))["request_id"] for p in sys.argv[1:3])
assert a and b and a != b, (a, b)
PY2

for f in "$src"/deploy/local/*.sh "$src"/deploy/local/standins/*.sh "$src"/tests/integration/test_deploy_lint.sh \
  "$tmp"/compose_scripts/*.sh; do
  bash -n "$f" || fail "bash -n $f"
done
echo "deploy_lint: bash -n ok on $(ls "$src"/deploy/local/*.sh "$tmp"/compose_scripts/*.sh | wc -l) scripts"

# systemd-analyze verify reads the units as systemd would (unknown keys, bad values, missing
# executables). The binaries are not installed here: verify copies that run this build's hret.
if ! command -v systemd-analyze >/dev/null; then
  echo "deploy_lint: SKIP systemd-analyze verify: systemd-analyze not installed (Debian package systemd)"
else
  mkdir "$tmp/units"
  for u in "$src"/deploy/systemd/*.service; do
    sed "s|/usr/local/bin/hret|$hret|g" "$u" >"$tmp/units/$(basename "$u")"
  done
  cp "$src"/deploy/systemd/*.timer "$tmp/units/"
  # a unit that must fail, so a verify that checks nothing cannot pass unnoticed
  printf '[Service]\nExecStart=/nonexistent/hret worker\nBogusKey=1\n' >"$tmp/units/hret-broken.service"
  if (cd "$tmp/units" && systemd-analyze verify hret-broken.service) >"$tmp/sa.log" 2>&1; then
    echo "deploy_lint: SKIP systemd-analyze verify: it accepts a broken unit here ($(head -n 1 "$tmp/sa.log"))"
  else
    rm "$tmp/units/hret-broken.service"
    (cd "$tmp/units" && systemd-analyze verify hret-migrate.service hret-worker@9464.service \
      hret-monitor.service hret-bridge@mlflow.service hret-api.service hret-nightly.service \
      hret-nightly.timer) >"$tmp/sa.log" 2>&1 ||
      { cat "$tmp/sa.log" >&2; fail "systemd-analyze verify"; }
    if [ -s "$tmp/sa.log" ]; then
      cat "$tmp/sa.log" >&2
      fail "systemd-analyze verify printed warnings"
    fi
    echo "deploy_lint: systemd-analyze verify ok on $(ls "$src"/deploy/systemd/*.service | wc -l) units"
  fi
fi
echo "deploy_lint: ok"
