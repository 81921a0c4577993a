#!/usr/bin/env bash
# make fuzz: builds the fuzz targets (tests/fuzz/fuzz_<name>.c) with clang and libFuzzer under
# ASan+UBSan in build-fuzz, runs each for HRET_FUZZ_SECONDS (default 60) on its seed corpus and
# writes build/fuzz/report.md (target, seconds, executions, crashes). New inputs go to a scratch
# corpus in build/fuzz/corpus/<name> unless --save, which adds them to tests/fuzz/corpus/<name>.
# Crashing inputs land in build/fuzz/crashes/<name>/; fix the bug, then copy the input to
# tests/fuzz/regressions/<name>/ so ctest fuzz.<name> replays it from then on.
#   tests/fuzz/run.sh [--save] [name...]   (names default to every target)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${HRET_FUZZ_SECONDS:-60}
save=0
if [ "${1:-}" = "--save" ]; then
  save=1
  shift
fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$src"/tests/fuzz/fuzz_*.c; do
    n=$(basename "$f" .c)
    names+=("${n#fuzz_}")
  done
fi

command -v clang >/dev/null || { echo "fuzz: clang missing (deploy/local/deps.sh)" >&2; exit 1; }
build="$src/build-fuzz"
out="$src/build/fuzz"
mkdir -p "$out"
targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
# clang's warnings on library macros are noise here (the gcc -Werror build is the judge): the
# build's output goes to a log, shown only when the build fails.
if ! { cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHRET_SANITIZE=address,undefined -DHRET_FUZZ=ON \
  "-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -Wno-unknown-warning-option" &&
  cmake --build "$build" -j 2 --target "${targets[@]}"; } >"$out/build.log" 2>&1; then
  tail -n 40 "$out/build.log" >&2
  echo "fuzz: build failed, see $out/build.log" >&2
  exit 1
fi
report="$out/report.md"
{
  echo "# Fuzzing report ($(date -u +%Y-%m-%dT%H:%MZ), $(clang --version | sed -n 1p))"
  echo
  echo "libFuzzer, ASan+UBSan, one job per target, ${seconds}s each."
  echo
  echo "| target | seconds | executions | exec/s | corpus | crashes |"
  echo "|---|---:|---:|---:|---:|---:|"
} >"$report"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=0
for n in "${names[@]}"; do
  seeds="$src/tests/fuzz/corpus/$n"
  scratch="$out/corpus/$n"
  crashes="$out/crashes/$n"
  mkdir -p "$scratch" "$crashes"
  dirs=("$scratch" "$seeds")
  [ $save -eq 1 ] && dirs=("$seeds")
  log="$out/$n.log"
  start=$(date +%s)
  set +e
  "$build/tests/fuzz/fuzz_$n" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  took=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  size=$(find "${dirs[@]}" -type f | wc -l)
  found=$(find "$crashes" -type f | wc -l)
  if [ $rc -ne 0 ] && [ "$found" -eq 0 ]; then
    found=1 # a crash without an artifact (e.g. the driver itself): see the log
  fi
  [ "$found" -eq 0 ] || failed=1
  echo "fuzz_$n: ${took}s, ${execs:-?} executions (${rate:-?}/s), corpus $size, crashes $found"
  echo "| fuzz_$n | $took | ${execs:-?} | ${rate:-?} | $size | $found |" >>"$report"
done
echo "fuzz: report in $report"
[ $failed -eq 0 ] || { echo "fuzz: crashes found, see $out/crashes and $out/*.log" >&2; exit 1; }
