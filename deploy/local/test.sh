#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it: install what is missing, check
# formatting, build with -Werror and run every test, then rebuild under ASan+UBSan and run
# everything again. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=$(nproc 2>/dev/null || echo 2)

step() { printf '\n==> %s\n' "$*" >&2; }

step "dependencies"
deploy/local/deps.sh

step "formatting (clang-format, .clang-format)"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find common worker tests -name '*.[ch]')
clang-format --dry-run -Werror "${sources[@]}"

run_suite() { # build-dir, extra cmake args...
  local dir=$1
  shift
  step "build in $dir ($*)"
  cmake -S . -B "$dir" -DHRET_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  step "tests in $dir"
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DHRET_SANITIZE=address,undefined
step "all tests passed (plain and ASan+UBSan)"
