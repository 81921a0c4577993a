#!/usr/bin/env bash
# Hostile requests beyond the fixture folders (test_request_schema.sh): sizes and depths the
# fixture config's 4 KiB cap or Python's json module cannot hold. With a 1 MiB cap, hret submit
# --dry-run refuses 10,000 levels of nesting (arrays, objects, unclosed) with the depth reason and
# a 2 MiB message with the size reason; and the SQL metacharacters of
# tests/data/requests/valid/sql_metacharacters.json come out of normalisation byte for byte.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
data="$src/tests/data/requests"
cfg="$work/hret_config.yaml"
sed 's/max_message_bytes: 4096/max_message_bytes: 1048576/' "$data/hret_config.yaml" >"$cfg"
grep -q 'max_message_bytes: 1048576' "$cfg" || fail "fixture config has no max_message_bytes: 4096"

refused() { # file, reason
  local rc=0
  "$hret" submit --dry-run --config "$cfg" "$1" >/dev/null 2>"$work/err" || rc=$?
  [ $rc -eq 2 ] || fail "$(basename "$1"): exit $rc, want 2: $(head -c 300 "$work/err")"
  grep -qF -- "$2" "$work/err" || fail "$(basename "$1"): '$(head -c 300 "$work/err")' lacks '$2'"
}

python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
n = 10000
open(f"{w}/deep_arrays.json", "w").write('{"metadata": {"x": ' + "[" * n + "]" * n + "}}")
open(f"{w}/deep_objects.json", "w").write('{"metadata": ' + '{"a": ' * n + "1" + "}" * n + "}")
open(f"{w}/deep_unclosed.json", "w").write("[" * n)
open(f"{w}/oversize.json", "w").write('{"run_name": "' + "x" * (2 << 20) + '"}')
PY
refused "$work/deep_arrays.json" "nesting deeper than 32 levels"
refused "$work/deep_objects.json" "nesting deeper than 32 levels"
refused "$work/deep_unclosed.json" "nesting deeper than 32 levels"
refused "$work/oversize.json" "over kafka.max_message_bytes (1048576)"

# SQL metacharacters in every free-text field: accepted, and the normalised request carries each
# value unchanged (names, subsets, splits, ids and metrics are refused by their pattern instead: see
# tests/data/requests/invalid/sql_in_*.json).
sql="$data/valid/sql_metacharacters.json"
"$hret" submit --dry-run --config "$cfg" "$sql" >"$work/sql.out" 2>"$work/err" ||
  fail "sql_metacharacters.json refused: $(cat "$work/err")"
python3 - "$sql" "$work/sql.out" <<'PY' || fail "a value changed in normalisation"
import json, sys
src = json.load(open(sys.argv[1]))
out = json.load(open(sys.argv[2]))
checks = [
    ("run_name", src["run_name"], out.get("run_name")),
    ("data_dir", src["datasets"][0]["data_dir"], out["datasets"][0].get("data_dir")),
    ("endpoint.model", src["models"][1]["endpoint"]["model"],
     out["models"][1].get("endpoint", {}).get("model")),
    ("metadata", src["metadata"], out.get("metadata")),
    ("tracking", src["tracking"], out.get("tracking")),
]
bad = [f"{k}: {a!r} -> {b!r}" for k, a, b in checks if a != b]
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "request_security: depth, size and SQL metacharacters checked"
