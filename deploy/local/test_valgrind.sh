#!/usr/bin/env bash
# make test-valgrind: the test suite once under valgrind memcheck. Builds build-valgrind (Debug,
# no sanitizers), runs every C test executable under valgrind (ctest runs a target through its
# CROSSCOMPILING_EMULATOR, set here to a valgrind wrapper) and puts the same wrapper in place of
# build-valgrind/hret, so the shell-driven tests run the program under valgrind too. Library
# noise is suppressed by tests/valgrind.supp. A test fails when valgrind reports an error or a
# definite leak; each process's report is in build-valgrind/valgrind/<pid>.log.
#   deploy/local/test_valgrind.sh [ctest args...]   (default: -L 'unit|integration')
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build="$src/build-valgrind"
logs="$build/valgrind"
jobs=$(nproc 2>/dev/null || echo 2)
command -v valgrind >/dev/null || { echo "valgrind missing (deploy/local/deps.sh)" >&2; exit 1; }

mkdir -p "$logs"
vg="$build/vg-run"
cat >"$vg" <<WRAP
#!/usr/bin/env bash
exec valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \\
  --errors-for-leak-kinds=definite --num-callers=30 --gen-suppressions=all \\
  --suppressions="$src/tests/valgrind.supp" --log-file="$logs/%p.log" "\$@"
WRAP
chmod +x "$vg"

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DHRET_SANITIZE= \
  -DCMAKE_CROSSCOMPILING_EMULATOR="$vg" >/dev/null
cmake --build "$build" -j "$jobs"
# the program the shell tests run: the wrapper in front of the real binary
if [ "$(head -c 4 "$build/hret" | od -An -c | tr -d ' ')" = "177ELF" ]; then
  mv -f "$build/hret" "$build/hret.bin"
fi
printf '#!/usr/bin/env bash\nexec "%s" "%s" "$@"\n' "$vg" "$build/hret.bin" >"$build/hret"
chmod +x "$build/hret"

rm -f "$logs"/*.log
[ $# -gt 0 ] || set -- -L 'unit|integration'
set +e
(cd "$build" && ctest --output-on-failure -j "$jobs" "$@")
rc=$?
set -e
# a report with content is an error or a definite leak (--quiet leaves the others empty)
bad=()
for f in "$logs"/*.log; do
  [ -s "$f" ] && bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "valgrind: ${#bad[@]} process(es) with errors:" >&2
  for f in "${bad[@]}"; do
    echo "== $f" >&2
    head -n 60 "$f" >&2
  done
  rc=1
fi
[ $rc -eq 0 ] && echo "valgrind: clean ($(ls "$logs" | wc -l) processes checked)"
exit $rc
