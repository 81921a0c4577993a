# Sourced by test_env.sh and pg_env.sh. listening_port FILE [NAME]: waits for the "listening on
# HOST:PORT" line a fake server or a role prints to FILE and prints PORT. It waits up to 60 s: on a
# loaded 2-core machine a Python fake can take seconds to import. Fails naming NAME (or FILE).
listening_port() {
  local p=""
  for _ in $(seq 600); do
    p=$(sed -n 's/.*listening.*:\([0-9][0-9]*\).*/\1/p' "$1" 2>/dev/null | sed -n 1p)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  echo "FAIL: ${2:-$1} did not start in 60 s: $(cat "$1" 2>/dev/null)" >&2
  return 1
}
