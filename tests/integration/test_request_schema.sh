#!/usr/bin/env bash
# The request contract from both sides: the JSON Schemas in schemas/events (Python jsonschema,
# draft 2020-12) and the C parser (hret submit --dry-run) must agree on every fixture in
# tests/data/requests/{valid,invalid}; an invalid fixture the schema cannot judge (config-
# dependent names, size, depth) has a .schema-valid note and must then pass the schema. The
# normalised request hret submit would send must pass the schema too, and every event schema
# must accept its example in tests/data/requests/events.
set -euo pipefail
hret="$HRET_BUILD_DIR/hret"
src="$HRET_SOURCE_DIR"
data="$src/tests/data/requests"
check="$src/tests/integration/request_schema_check.py"
cfg="$data/hret_config.yaml"
fail() { echo "FAIL: $*" >&2; exit 1; }

# Debian's python3-jsonschema (deps.sh) lives with /usr/bin/python3; another python3 first on
# PATH (pyenv, a venv) may not have it.
py=""
for cand in /usr/bin/python3 python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import jsonschema' 2>/dev/null; then
    py=$cand
    break
  fi
done
[ -n "$py" ] || fail "no python3 with jsonschema (deploy/local/deps.sh installs python3-jsonschema)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$py" "$check" schemas "$src/schemas/events" "$data/events" || fail "event schemas"
"$py" "$check" fixtures "$src/schemas/events" "$data" || fail "schema vs fixtures"

# The C side on the same files, through the CLI: valid ones normalise, invalid ones exit 2 with
# the expected reason.
n=0
for f in "$data"/valid/*.json; do
  out="$tmp/$(basename "$f")"
  "$hret" submit --dry-run --config "$cfg" "$f" >"$out" 2>"$tmp/err" ||
    fail "$(basename "$f"): hret submit refuses it: $(cat "$tmp/err")"
  n=$((n + 1))
done
"$py" "$check" validate "$src/schemas/events/hret.eval.requested.v1.schema.json" "$tmp"/*.json ||
  fail "a normalised request does not pass the schema"
for f in "$data"/invalid/*.json; do
  set +e
  "$hret" submit --dry-run --config "$cfg" "$f" >/dev/null 2>"$tmp/err"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "$(basename "$f"): hret submit exits $rc, want 2"
  want=$(head -n 1 "${f%.json}.expected")
  grep -qF -- "$want" "$tmp/err" || fail "$(basename "$f"): '$(cat "$tmp/err")' lacks '$want'"
  n=$((n + 1))
done

# Flags and YAML build the same normalised request.
"$hret" submit --dry-run --config "$cfg" --dataset kmmlu --model baseline,candidate \
  --subset Accounting --limit 5 --run-name flags --meta epoch=3 --request-id req-1 >"$tmp/flags.json"
cat >"$tmp/req.yaml" <<'YAML'
request_id: req-1
run_name: flags
datasets:
  - {name: kmmlu, subset: [Accounting], limit: 5}
models: [{name: baseline}, {name: candidate}]
metadata:
  epoch: 3
YAML
"$hret" submit --dry-run --config "$cfg" "$tmp/req.yaml" >"$tmp/yaml.json"
cmp -s "$tmp/flags.json" "$tmp/yaml.json" ||
  fail "flags and YAML differ: $(cat "$tmp/flags.json") vs $(cat "$tmp/yaml.json")"
"$py" "$check" validate "$src/schemas/events/hret.eval.requested.v1.schema.json" "$tmp/flags.json" ||
  fail "flags request"

# A repeated key in a YAML request is an error at any depth, named with its position.
cat >"$tmp/dup.yaml" <<'YAML'
run_name: dup
datasets:
  - name: kmmlu
    limit: 5
    limit: 6
models: [{name: baseline}]
YAML
if "$hret" submit --dry-run --config "$cfg" "$tmp/dup.yaml" >"$tmp/out" 2>"$tmp/err"; then
  fail "a repeated key in a YAML request was accepted: $(cat "$tmp/out")"
fi
grep -q "dup.yaml:5:5: .*repeated key 'limit'" "$tmp/err" ||
  fail "repeated key message: $(cat "$tmp/err")"
echo "request_schema: $n fixtures agree"
