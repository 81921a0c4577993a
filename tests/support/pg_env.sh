# PostgreSQL for the integration tests (sourced by tests/integration/test_pg_*.sh).
#
#   pg_setup        exports HRET_PG for a database of this test alone: with HRET_PG already set
#                   (a server the caller runs), a fresh database on that server; otherwise a
#                   throwaway cluster of our own (deploy/local/pg.sh in a temporary directory)
#   pg_setup own    always our own cluster (for tests that stop and restart the server)
#   pg_stop/pg_start  stop or restart our own cluster (same port and data)
#   pg_teardown     drops the database or destroys the cluster; call it from the EXIT trap
#   pg_sql SQL      runs SQL with psql (static SQL written by the test)
#
# No test skips for want of a database: pg.sh needs only the Debian postgresql package
# (deploy/local/deps.sh).
pg_src=${HRET_SOURCE_DIR:?HRET_SOURCE_DIR is not set}
source "$pg_src/tests/support/listening.sh"
pg_dir=""
pg_db=""
pg_admin=""

pg_setup() {
  if [ -n "${HRET_PG:-}" ] && [ "${1:-}" != own ]; then
    case $HRET_PG in
      postgres://* | postgresql://*) ;; # URIs: fall through to our own cluster
      *)
        pg_admin=$HRET_PG
        pg_db="hret_test_$$_$RANDOM"
        psql "$pg_admin" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null
        export HRET_PG="$pg_admin dbname=$pg_db"
        return 0
        ;;
    esac
  fi
  pg_dir=$(mktemp -d /tmp/hret-pgtest.XXXXXX)
  local line
  line=$("$pg_src/deploy/local/pg.sh" start "$pg_dir")
  eval "export $line"
}

pg_stop() {
  "$pg_src/deploy/local/pg.sh" stop "$pg_dir"
}

pg_start() {
  "$pg_src/deploy/local/pg.sh" start "$pg_dir" >/dev/null
}

pg_sql() {
  PGOPTIONS='-c client_min_messages=warning' psql "$HRET_PG" -qAt -v ON_ERROR_STOP=1 -c "$1"
}

pg_teardown() {
  if [ -n "$pg_dir" ]; then
    "$pg_src/deploy/local/pg.sh" destroy "$pg_dir" || true
    pg_dir=""
  elif [ -n "$pg_db" ]; then
    psql "$pg_admin" -qAt -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
    pg_db=""
  fi
}
