#!/usr/bin/env bash
# hret dataset import/list/show/rm against a real PostgreSQL: from the fake Hugging Face rows
# API (paging, 429 retries, configs and splits from /splits, a changed row -> a new version,
# identical content -> no-op, truncated cells refused, hub:OWNER/NAME through
# datasets.hub_rows_url) and from a download directory (every data file kept as it is: each
# stored row is its file's cells in order).
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
  hf_port=$(listening_port "$work/hf.out") || exit 1
  url="http://127.0.0.1:$hf_port/rows?dataset=HAERAE-HUB/KMMLU"
}
versions() { pg_sql "SELECT count(*) FROM datasets WHERE name = '$1'"; }

pg_setup
cd "$work"

# 1. every config with a test split (from /splits), 3 pages + 1, two 429s on the way
start_hf --configs Accounting:250,Law:40 --fail-first 2
"$hret" dataset import kmmlu-hf --from "$url" --split test >out1.txt || fail "import: $(cat out1.txt)"
grep -q "^imported kmmlu-hf version [0-9a-f]\{12\}: 290 rows in 2 files" out1.txt || fail "$(cat out1.txt)"
stats=$(curl -s "http://127.0.0.1:$hf_port/fake/stats")
python3 -c 'import json,sys; s=json.loads(sys.argv[1]); assert s["sent_429"] == 2 and s["rows_requests"] == 6, s' "$stats" ||
  fail "paging: $stats"
[ "$(pg_sql "SELECT count(*) FROM dataset_items JOIN datasets USING (dataset_id) WHERE name = 'kmmlu-hf'")" -eq 290 ] ||
  fail "items"
[ "$(pg_sql "SELECT string_agg(DISTINCT item_id, ',' ORDER BY item_id) FROM dataset_items")" = "Accounting/test.jsonl,Law/test.jsonl" ] ||
  fail "files"
got=$(pg_sql "SELECT data->>0 FROM dataset_items WHERE item_id = 'Accounting/test.jsonl' AND item_idx = 249")
want=$(printf 'Accounting 문제 249: 다음 중 옳은 것은? "따옴표"\t탭\\역슬래시')
[ "$got" = "$want" ] || fail "row content: $got"
[ "$(pg_sql "SELECT max(item_idx) FROM dataset_items")" -eq 289 ] || fail "item order"

[ "$(pg_sql "SELECT files->0->'columns'->>7 FROM datasets WHERE name = 'kmmlu-hf'")" = "Human Accuracy" ] ||
  fail "columns"
[ "$(pg_sql "SELECT data->>1 || ' ' || (data->>7) FROM dataset_items WHERE item_id = 'Law/test.jsonl' AND item_idx = 251")" = "2 0.35" ] ||
  fail "non-string cells as JSON text: $(pg_sql "SELECT data FROM dataset_items WHERE item_idx = 251")"

# 2. the same content again: a no-op
"$hret" dataset import kmmlu-hf --from "$url" --split test | grep -q "is already imported: nothing to do" ||
  fail "re-import"
[ "$(versions kmmlu-hf)" -eq 1 ] || fail "re-import made a version"

# 3. one row changed: a new version beside the old one
start_hf --configs Accounting:250,Law:40 --variant 1
"$hret" dataset import kmmlu-hf --from "$url" --split test | grep -q "^imported kmmlu-hf" || fail "variant"
[ "$(versions kmmlu-hf)" -eq 2 ] || fail "no new version"
[ "$(pg_sql "SELECT count(DISTINCT version) FROM datasets")" -eq 2 ] || fail "versions differ"

# 4. named configs and split
"$hret" dataset import kmmlu-dev --from "$url" --subset Law --split dev | grep -q ": 5 rows in 1 files" ||
  fail "--subset/--split"
[ "$(pg_sql "SELECT kind || ' ' || split || ' ' || subsets::text FROM datasets WHERE name = 'kmmlu-dev'")" = 'files dev ["Law"]' ] ||
  fail "dataset row"

# 4b. every config and split (no --split), through hub:OWNER/NAME and datasets.hub_rows_url
printf 'datasets: {hub_rows_url: "http://127.0.0.1:%s"}\n' "$hf_port" >hub.yaml
"$hret" dataset import kmmlu-all --config hub.yaml --from hub:HAERAE-HUB/KMMLU >all.txt ||
  fail "hub import: $(cat all.txt)"
grep -q ": 300 rows in 4 files" all.txt || fail "all splits: $(cat all.txt)"
"$hret" dataset show kmmlu-all --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
files = {f["path"]: f["rows"] for f in d["files"]}
assert files == {"Accounting/test.jsonl": 250, "Accounting/dev.jsonl": 5, "Law/test.jsonl": 40,
                 "Law/dev.jsonl": 5}, files
assert len(d["version"]) == 64' || fail "show --json"

# 4c. resumable: an import that stops part-way keeps its pages; the next attempt fetches only
# the pages it lacks, and the kept pages are gone once the import is complete
start_hf --configs Accounting:250,Law:40 --broken Accounting:200
set +e
"$hret" dataset import kmmlu-resume --from "$url" --split test >/dev/null 2>resume.err
rc=$?
set -e
[ $rc -ne 0 ] && grep -q "HTTP 404" resume.err || fail "broken page: $rc $(cat resume.err)"
[ "$(versions kmmlu-resume)" -eq 0 ] || fail "a failed import stored a version"
[ "$(pg_sql "SELECT count(*) FROM dataset_import_pages")" -eq 2 ] ||
  fail "kept pages: $(pg_sql "SELECT config, page_offset FROM dataset_import_pages")"
start_hf --port "$hf_port" --configs Accounting:250,Law:40 # the same URL: the same import
"$hret" dataset import kmmlu-resume --from "$url" --split test >resume.txt || fail "resume"
grep -q "resumed with 2 pages" resume.txt && grep -q ": 290 rows in 2 files" resume.txt ||
  fail "resume: $(cat resume.txt)"
stats=$(curl -s "http://127.0.0.1:$hf_port/fake/stats")
python3 -c 'import json,sys; s=json.loads(sys.argv[1]); assert s["rows_requests"] == 2, s' "$stats" ||
  fail "the resumed import fetched again: $stats"
[ "$(pg_sql "SELECT version FROM datasets WHERE name = 'kmmlu-resume'")" = \
  "$(pg_sql "SELECT version FROM datasets WHERE name = 'kmmlu-hf' ORDER BY created_at LIMIT 1")" ] ||
  fail "the resumed import differs from a whole one"
[ "$(pg_sql "SELECT count(*) FROM dataset_import_pages")" -eq 0 ] || fail "kept pages left"

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

# 6. from a download directory: every data file as it is, hidden folders skipped
python3 "$src/tests/data/gen_kmmlu_synth.py" --out synth --items 300 --seed 2 >/dev/null
rm synth/answer_key.tsv # the generator's key, not a data file
mkdir -p synth/.cache && echo "a,b" >synth/.cache/skip.csv
"$hret" dataset import kmmlu --from synth >dir1.txt || fail "$(cat dir1.txt)"
want=$(python3 -c '
import csv, glob, sys
print(sum(sum(1 for _ in csv.DictReader(open(f, encoding="utf-8"))) for f in glob.glob("synth/**/*.csv", recursive=True)))')
grep -q ": $want rows in" dir1.txt || fail "dir import: $(cat dir1.txt), want $want rows"
"$hret" dataset import kmmlu --from synth | grep -q "already imported" || fail "dir re-import"
"$hret" dataset show kmmlu >show.txt || fail "show"
grep -q "^kmmlu version [0-9a-f]\{64\}$" show.txt && grep -q "data/Accounting-test.csv" show.txt ||
  fail "show: $(cat show.txt)"
grep -q "skip.csv" show.txt && fail "hidden folder imported"
first=$(python3 -c '
import csv, json
rows = list(csv.reader(open("synth/data/Accounting-test.csv", encoding="utf-8")))
print(json.dumps(rows[1], ensure_ascii=False, separators=(",", ":")))')
got=$(pg_sql "SELECT data FROM dataset_items i JOIN datasets d USING (dataset_id) WHERE d.name = 'kmmlu' AND i.item_id = 'data/Accounting-test.csv' ORDER BY item_idx LIMIT 1")
python3 -c 'import json, sys; assert json.loads(sys.argv[1]) == json.loads(sys.argv[2]), sys.argv' "$got" "$first" ||
  fail "stored row: $got, file: $first"

# 7. list
"$hret" dataset list --json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
names = sorted(r["name"] for r in rows)
assert names == ["kmmlu", "kmmlu-all", "kmmlu-dev", "kmmlu-hf", "kmmlu-hf", "kmmlu-resume"], names
assert all(len(r["version"]) == 64 for r in rows)' || fail "list"
"$hret" dataset list kmmlu-hf | grep -c "kmmlu-hf" | grep -qx 2 || fail "list NAME"

# 8. rm: one version by prefix, then all; usage errors
old=$(pg_sql "SELECT version FROM datasets WHERE name = 'kmmlu-hf' ORDER BY created_at LIMIT 1")
"$hret" dataset rm kmmlu-hf --version "${old:0:10}" | grep -q "removed 1 version of kmmlu-hf" || fail "rm --version"
[ "$(versions kmmlu-hf)" -eq 1 ] || fail "rm left $(versions kmmlu-hf)"
set +e
"$hret" dataset rm kmmlu-hf >/dev/null 2>rm.err
rc=$?
"$hret" dataset rm kmmlu-hf --version "abc%" >/dev/null 2>rm2.err
rc2=$?
"$hret" dataset show nope >/dev/null 2>show.err
rc3=$?
set -e
[ $rc -eq 2 ] && grep -q "either --version V or --all" rm.err || fail "rm without a choice: $rc"
[ $rc2 -ne 0 ] && grep -q "hex digits" rm2.err || fail "rm with a wildcard: $rc2 $(cat rm2.err)"
[ $rc3 -eq 1 ] && grep -q "no version of nope" show.err || fail "show unknown: $rc3"
"$hret" dataset rm kmmlu-hf --all | grep -q "removed 1 version" || fail "rm --all"
[ "$(versions kmmlu-hf)" -eq 0 ] || fail "rm --all left versions"
[ "$(pg_sql "SELECT count(*) FROM dataset_items i LEFT JOIN datasets d USING (dataset_id) WHERE d.dataset_id IS NULL")" -eq 0 ] ||
  fail "items of removed versions left"
echo "pg dataset: ok"
