# Sourced by shell tests: the binaries, a scratch dir, fail(), start_fake() and a cleanup that
# stops every fake-llm started and removes the scratch dir. A test that needs more cleanup
# defines extra_cleanup() (e.g. pg_teardown) before anything can fail.
set -euo pipefail
hret="$HRET_BUILD_DIR/hret"
fake="$HRET_BUILD_DIR/fake-llm"
src="$HRET_SOURCE_DIR"
work=$(mktemp -d)
pids=()
extra_cleanup() { :; }
cleanup() {
  # and their children: unshare --fork (e2e.fleet_worker_ids) ignores SIGTERM, so its worker
  # outlived the test and idled on for hours, competing with whatever ran next
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    pkill -TERM -P "$p" 2>/dev/null || true
  done
  extra_cleanup
  rm -rf "$work"
}
trap cleanup EXIT
# a command that ends the test through set -e says which one it was (not in set +e stretches)
trap '_test_rc=$?; [[ $- != *e* ]] || echo "FAIL: ${BASH_SOURCE[0]}:$LINENO: \`$BASH_COMMAND\` exited $_test_rc" >&2' ERR
fail() { echo "FAIL: $*" >&2; exit 1; }
source "$src/tests/support/listening.sh"

# start_fake NAME FLAGS...: starts build/fake-llm on a free port and sets $port. Not for use in
# a subshell: cleanup must know the pid.
start_fake() {
  local name=$1
  shift
  "$fake" --port 0 --log-level warn "$@" >"$work/$name.out" 2>&1 &
  pids+=($!)
  port=$(listening_port "$work/$name.out" "fake-llm $name") || exit 1
}
