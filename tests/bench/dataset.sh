#!/usr/bin/env bash
# The data path's numbers: `hret dataset import` of a 35k-row set from files (the CSV download
# and the same rows as Parquet shards) and from the fake rows API (tests/fakes/fake_hf_rows.py,
# 35 configs x 1,000 rows, 100 rows a page), in rows/s; and a worker's load of that version
# from PostgreSQL, cold (rows read, tables rebuilt) and cached, plus the loader's rendering.
# Nothing is asserted. A throwaway PostgreSQL (tests/support/pg_env.sh); output in
# build/bench/dataset.{json,md}.
#   tests/bench/dataset.sh            (after a build in build/; HRET_BUILD_DIR for another)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
export HRET_SOURCE_DIR=$src
build=${HRET_BUILD_DIR:-$src/build}
hret="$build/hret"
cmake --build "$build" -j2 --target hret bench-dsload >/dev/null
out="$src/build/bench"
mkdir -p "$out"
work=$(mktemp -d)
hf_pid=""
source "$src/tests/support/pg_env.sh"
cleanup() {
  [ -n "$hf_pid" ] && kill "$hf_pid" 2>/dev/null || true
  pg_teardown
  rm -rf "$work"
}
trap cleanup EXIT
pg_setup
now() { date +%s.%N; }

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/csv" --items 35000 --seed 1 >/dev/null
rm "$work/csv/answer_key.tsv"
venv=$(bash "$src/deploy/local/pyvenv.sh" pyarrow)
"$venv/bin/python" - "$work/csv" "$work/parquet" <<'PY'
import glob, os, sys
import pyarrow.csv as pc, pyarrow.parquet as pq
src, dst = sys.argv[1:]
for f in glob.glob(f"{src}/**/*.csv", recursive=True):
    rel = os.path.relpath(f, src)[:-4] + ".parquet"
    os.makedirs(os.path.dirname(f"{dst}/{rel}"), exist_ok=True)
    pq.write_table(pc.read_csv(f), f"{dst}/{rel}", compression="snappy")
PY
rows=$(python3 -c '
import csv, glob, sys
print(sum(sum(1 for _ in csv.DictReader(open(f, encoding="utf-8"))) for f in glob.glob(sys.argv[1] + "/**/*.csv", recursive=True)))' "$work/csv")

import_rate() { # NAME FROM [args...] -> seconds
  local t0 t1
  t0=$(now)
  "$hret" dataset import "$@" --db "$HRET_PG" >"$work/import.txt" || { cat "$work/import.txt" >&2; exit 1; }
  t1=$(now)
  python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.3f}")' "$t0" "$t1"
}
csv_s=$(import_rate kmmlu --from "$work/csv")
pq_s=$(import_rate kmmlu-parquet --from "$work/parquet")

python3 "$src/tests/fakes/fake_hf_rows.py" --port 0 \
  --configs "$(python3 -c 'print(",".join(f"S{i:02d}:1000" for i in range(35)))')" >"$work/hf.out" 2>&1 &
hf_pid=$!
for _ in $(seq 100); do grep -q listening "$work/hf.out" 2>/dev/null && break; sleep 0.05; done
hf_port=$(sed 's/.*://' "$work/hf.out")
api_s=$(import_rate kmmlu-api --from "http://127.0.0.1:$hf_port/rows?dataset=HAERAE-HUB/KMMLU" --split test)
api_rows=35000

load=$("$build/bench-dsload" "$HRET_PG" kmmlu kmmlu)
python3 - "$out" "$rows" "$csv_s" "$pq_s" "$api_rows" "$api_s" "$load" <<'PY'
import json, sys
out, rows, csv_s, pq_s, api_rows, api_s, load = sys.argv[1:]
rows, api_rows = int(rows), int(api_rows)
load = json.loads(load)
res = [
    {"name": "import_files_csv_rows_per_s", "value": round(rows / float(csv_s)), "unit": "rows/s",
     "notes": f"{rows} rows in {csv_s} s (90 CSV files, hret dataset import --from DIR)"},
    {"name": "import_files_parquet_rows_per_s", "value": round(rows / float(pq_s)), "unit": "rows/s",
     "notes": f"{rows} rows in {pq_s} s (the same rows as snappy Parquet)"},
    {"name": "import_rows_api_rows_per_s", "value": round(api_rows / float(api_s)), "unit": "rows/s",
     "notes": f"{api_rows} rows in {api_s} s (fake rows API, 350 pages of 100, 4 in flight)"},
    {"name": "worker_load_cold_ms", "value": load["cold_ms"], "unit": "ms",
     "notes": f"{load['rows']} rows read from PostgreSQL and rebuilt as tables"},
    {"name": "worker_load_cached_ms", "value": load["cached_ms"], "unit": "ms",
     "notes": "the same version from the per-version cache (one lookup query)"},
    {"name": "loader_render_ms", "value": load["render_ms"], "unit": "ms",
     "notes": f"kmmlu's loader rendering {load['samples']} prompts from the cached tables"},
]
json.dump(res, open(f"{out}/dataset.json", "w"), indent=1)
with open(f"{out}/dataset.md", "w") as f:
    f.write("| measure | value | unit | notes |\n|---|---:|---|---|\n")
    for r in res:
        f.write(f"| {r['name']} | {r['value']} | {r['unit']} | {r['notes']} |\n")
print(open(f"{out}/dataset.md").read())
PY
