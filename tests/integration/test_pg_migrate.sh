#!/usr/bin/env bash
# hret migrate against a real PostgreSQL: from empty, again (a no-op), four processes at once,
# --status, a changed migration refused, and the binary's embedded SQL (run from another
# directory, no source tree needed).
set -euo pipefail
hret="$HRET_BUILD_DIR/hret"
source "$HRET_SOURCE_DIR/tests/support/pg_env.sh"
work=$(mktemp -d)
cleanup() { pg_teardown; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pg_setup
cd "$work" # nowhere near schemas/sql
nfiles=$(ls "$HRET_SOURCE_DIR"/schemas/sql/*.sql | wc -l)

# 1. status of an empty database: everything pending, nothing created
out=$("$hret" migrate --status)
[ "$(grep -c ' pending$' <<<"$out")" -eq "$nfiles" ] || fail "empty status: $out"
[ "$(pg_sql "SELECT to_regclass('runs') IS NULL")" = t ] || fail "--status created tables"

# 2. from empty
"$hret" migrate >"$work/m1.out" 2>&1 || fail "first migrate: $(cat "$work/m1.out")"
grep -q "$nfiles applied now; schema up to date" "$work/m1.out" || fail "first: $(cat "$work/m1.out")"
for t in requests runs shards samples metrics response_cache outbox comparisons alerts \
  bridge_state datasets dataset_items; do
  [ "$(pg_sql "SELECT to_regclass('$t') IS NOT NULL")" = t ] || fail "table $t missing"
done
[ "$(pg_sql "SELECT count(*) FROM schema_migrations")" -eq "$nfiles" ] || fail "schema_migrations"
# consumers dedupe on state of their own (requests, shards, bridge_state, monitor_evaluations); the
# shared consumed_events table nothing wrote is gone (issue 16 item 10)
[ "$(pg_sql "SELECT to_regclass('consumed_events') IS NULL")" = t ] || fail "consumed_events still exists"
sum=$(sha256sum "$HRET_SOURCE_DIR/schemas/sql/001_init.sql" | cut -d' ' -f1)
[ "$(pg_sql "SELECT checksum FROM schema_migrations WHERE name = '001_init.sql'")" = "$sum" ] ||
  fail "checksum is not the file's SHA-256"

# 3. again: a no-op that changes nothing
before=$(pg_sql "SELECT applied_at FROM schema_migrations ORDER BY name")
"$hret" migrate | grep -q "0 applied now; schema up to date" || fail "second migrate"
[ "$(pg_sql "SELECT applied_at FROM schema_migrations ORDER BY name")" = "$before" ] ||
  fail "re-applied"
"$hret" migrate --status | grep -q "001_init.sql .* applied$" || fail "status after"

# 4. four processes at once on a fresh database: each file applied exactly once, all succeed
pg_sql "DROP SCHEMA public CASCADE; CREATE SCHEMA public"
pids=()
for i in 1 2 3 4; do
  "$hret" migrate >"$work/c$i.out" 2>&1 &
  pids+=($!)
done
for i in 0 1 2 3; do
  wait "${pids[$i]}" || fail "concurrent migrate $i: $(cat "$work/c$((i + 1)).out")"
done
total=0
for i in 1 2 3 4; do
  n=$(sed -n 's/^migrate: \([0-9]*\) applied now.*/\1/p' "$work/c$i.out")
  total=$((total + n))
done
[ "$total" -eq "$nfiles" ] || fail "concurrent runs applied $total files in all, want $nfiles"
[ "$(pg_sql "SELECT count(*) FROM schema_migrations")" -eq "$nfiles" ] || fail "concurrent rows"

# 5. an applied file that changed is refused, and nothing else happens
pg_sql "UPDATE schema_migrations SET checksum = 'edited' WHERE name = '001_init.sql'"
set +e
"$hret" migrate >"$work/bad.out" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "changed migration exits $rc"
grep -q "001_init.sql changed after it was applied" "$work/bad.out" || fail "$(cat "$work/bad.out")"
status=$("$hret" migrate --status || true)
grep -q "001_init.sql .*CHANGED" <<<"$status" || fail "status does not show the change: $status"

# 6. no database configured: a usage error that says how to get one
set +e
env -u HRET_PG "$hret" migrate >/dev/null 2>"$work/nodb.err"
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "no database" "$work/nodb.err" || fail "no database: $rc"
echo "pg migrate: ok"
