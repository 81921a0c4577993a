#!/usr/bin/env bash
# hret dataset import/list against a real PostgreSQL: from the fake Hugging Face rows API
# (paging, 429 retries, configs from /splits, a changed row -> a new version, identical
# content -> no-op, truncated cells refused) and from a download directory through hret's
# loader.
set -euo pipefail
hret="$HRET_BUILD_DIR/hret"
src="$HRET_SOURCE_DIR"
source "$src/tests/support/pg_env.sh"
work=$(mktemp -d)
hf_pid=""
cleanup() {
  [ -n "$hf_pid" ] && kill "$hf_pid" 2>/dev/null || true
  pg_teardown
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start_hf() { # fake_hf_rows flags... -> $url
  [ -n "$hf_pid" ] && kill "$hf_pid" 2>/dev/null && wait "$hf_pid" 2>/dev/null || true
  python3 "$src/tests/fakes/fake_hf_rows.py" "$@" >"$work/hf.out" 2>&1 &
  hf_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/hf.out" 2>/dev/null && break; sleep 0.05; done
  hf_port=$(sed 's/.*://' "$work/hf.out")
  url="http://127.0.0.1:$hf_port/rows?dataset=HAERAE-HUB/KMMLU"
}
versions() { pg_sql "SELECT count(*) FROM datasets WHERE name = '$1'"; }

pg_setup
cd "$work"

# 1. every config with a test split (from /splits), 3 pages + 1, two 429s on the way
start_hf --configs Accounting:250,Law:40 --fail-first 2
"$hret" dataset import kmmlu-hf --from "$url" >out1.txt || fail "import: $(cat out1.txt)"
grep -q "^imported kmmlu-hf version [0-9a-f]\{12\}: 290 items" out1.txt || fail "$(cat out1.txt)"
stats=$(curl -s "http://127.0.0.1:$hf_port/fake/stats")
python3 -c 'import json,sys; s=json.loads(sys.argv[1]); assert s["sent_429"] == 2 and s["rows_requests"] == 6, s' "$stats" ||
  fail "paging: $stats"
[ "$(pg_sql "SELECT count(*) FROM dataset_items JOIN datasets USING (dataset_id) WHERE name = 'kmmlu-hf'")" -eq 290 ] ||
  fail "items"
[ "$(pg_sql "SELECT string_agg(DISTINCT subset, ',' ORDER BY subset) FROM dataset_items")" = "Accounting,Law" ] ||
  fail "subsets"
got=$(pg_sql "SELECT data->>'question' FROM dataset_items WHERE item_id = 'Accounting/test/249'")
want=$(printf 'Accounting 문제 249: 다음 중 옳은 것은? "따옴표"\t탭\\역슬래시')
[ "$got" = "$want" ] || fail "row content: $got"
[ "$(pg_sql "SELECT max(item_idx) FROM dataset_items")" -eq 289 ] || fail "item order"

# 2. the same content again: a no-op
"$hret" dataset import kmmlu-hf --from "$url" | grep -q "is already imported: nothing to do" ||
  fail "re-import"
[ "$(versions kmmlu-hf)" -eq 1 ] || fail "re-import made a version"

# 3. one row changed: a new version beside the old one
start_hf --configs Accounting:250,Law:40 --variant 1
"$hret" dataset import kmmlu-hf --from "$url" | grep -q "^imported kmmlu-hf" || fail "variant"
[ "$(versions kmmlu-hf)" -eq 2 ] || fail "no new version"
[ "$(pg_sql "SELECT count(DISTINCT version) FROM datasets")" -eq 2 ] || fail "versions differ"

# 4. named configs and split
"$hret" dataset import kmmlu-dev --from "$url" --subset Law --split dev | grep -q ": 5 items" ||
  fail "--subset/--split"
[ "$(pg_sql "SELECT kind || ' ' || split || ' ' || subsets::text FROM datasets WHERE name = 'kmmlu-dev'")" = 'rows dev ["Law"]' ] ||
  fail "dataset row"

# 5. truncated cells and unknown datasets fail and store nothing
start_hf --configs Accounting:250,Law:40 --truncate Law:3
set +e
"$hret" dataset import trunc --from "$url" >/dev/null 2>err.txt
rc=$?
"$hret" dataset import nope --from "http://127.0.0.1:$hf_port/rows?dataset=no/such" >/dev/null 2>err2.txt
rc2=$?
set -e
[ $rc -eq 1 ] && grep -q "truncated cells" err.txt || fail "truncated: $rc $(cat err.txt)"
[ $rc2 -ne 0 ] && grep -q "HTTP 404" err2.txt || fail "unknown dataset: $rc2 $(cat err2.txt)"
[ "$(versions trunc)" -eq 0 ] && [ "$(versions nope)" -eq 0 ] || fail "failed imports stored"

# 6. from a download directory, through the kmmlu loader
python3 "$src/tests/data/gen_kmmlu_synth.py" --out synth --items 300 --seed 2 >/dev/null
"$hret" dataset import kmmlu --from synth --subset Accounting,Law >dir1.txt || fail "$(cat dir1.txt)"
n=$(sed -n 's/.*: \([0-9]*\) items from.*/\1/p' dir1.txt)
[ -n "$n" ] && [ "$n" -gt 0 ] || fail "dir import: $(cat dir1.txt)"
"$hret" dataset import kmmlu --from synth --subset Accounting,Law | grep -q "already imported" ||
  fail "dir re-import"
inputs=$(pg_sql "SELECT count(*) FROM dataset_items JOIN datasets USING (dataset_id) WHERE name = 'kmmlu' AND input LIKE '%정답%' AND reference ~ '^\([A-D]\)$'")
[ "$inputs" -eq "$n" ] || fail "rendered items: $inputs of $n"

# 7. list
"$hret" dataset list --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
names = sorted(r["name"] for r in rows)
assert names == ["kmmlu", "kmmlu-dev", "kmmlu-hf", "kmmlu-hf"], names
assert all(len(r["version"]) == 64 for r in rows)' || fail "list"
"$hret" dataset list kmmlu-hf | grep -c "kmmlu-hf" | grep -qx 2 || fail "list NAME"
echo "pg dataset: ok"
