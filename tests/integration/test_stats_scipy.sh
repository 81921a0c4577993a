#!/usr/bin/env bash
# hret_stats against live SciPy/statsmodels: regenerates the reference values (the committed
# grid plus random cases) and runs the stats unit test on them, on top of the stored fixture.
# deploy/local/deps.sh installs Debian's python3-scipy and python3-statsmodels; the first of
# $HRET_STATS_PYTHON, python3, /usr/bin/python3 that imports both is used.
set -euo pipefail
src="$HRET_SOURCE_DIR"
test_bin="$HRET_BUILD_DIR/tests/unit_test_stats"
py=""
for candidate in ${HRET_STATS_PYTHON:-} python3 /usr/bin/python3; do
  if "$candidate" -c 'import scipy, statsmodels' 2>/dev/null; then
    py=$candidate
    break
  fi
done
if [ -z "$py" ]; then
  echo "FAIL: no python3 here imports scipy and statsmodels; run deploy/local/deps.sh" >&2
  exit 1
fi
[ -x "$test_bin" ] || { echo "FAIL: $test_bin not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seed="${HRET_STATS_SEED:-$RANDOM}"
"$py" "$src/tests/data/stats/gen_scipy_values.py" --out "$work/live.json" --random 200 --seed "$seed"
echo "live SciPy values: $("$py" -c 'import scipy, statsmodels; print("scipy", scipy.__version__, "statsmodels", statsmodels.__version__)'), random seed $seed"
HRET_STATS_FIXTURE="$work/live.json" "$test_bin"
echo "stats vs live scipy: ok"
