#!/usr/bin/env bash
# hret_stats against live SciPy/statsmodels: regenerates the reference values (the committed
# grid plus random cases) and runs the stats unit test on them. An extra check on top of the
# stored fixture; SKIPs when SciPy or statsmodels is not importable by python3 (set
# HRET_STATS_PYTHON to use another interpreter, e.g. a virtualenv's).
set -euo pipefail
py="${HRET_STATS_PYTHON:-python3}"
src="$HRET_SOURCE_DIR"
test_bin="$HRET_BUILD_DIR/tests/unit_test_stats"
if ! "$py" -c 'import scipy, statsmodels' 2>/dev/null; then
  echo "SKIP: $py cannot import scipy and statsmodels; the stored-fixture unit test" \
    "(unit.stats) still checks the same values"
  exit 0
fi
[ -x "$test_bin" ] || { echo "FAIL: $test_bin not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seed="${HRET_STATS_SEED:-$RANDOM}"
"$py" "$src/tests/data/stats/gen_scipy_values.py" --out "$work/live.json" --random 200 --seed "$seed"
echo "live SciPy values: $("$py" -c 'import scipy, statsmodels; print("scipy", scipy.__version__, "statsmodels", statsmodels.__version__)'), random seed $seed"
HRET_STATS_FIXTURE="$work/live.json" "$test_bin"
echo "stats vs live scipy: ok"
