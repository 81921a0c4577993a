# Sourced by the example scripts: the environment of the stack examples/stack.sh started
# (HRET_CONFIG, HRET_PG, HRET_KAFKA, FAKE_URL, MLFLOW_URL, PATH with hret) and two helpers.
ex_env="${HRET_EXAMPLES_DIR:-/tmp/hret-examples-$(id -u)}/env"
if [ ! -f "$ex_env" ]; then
  echo "no example stack is running: start one with examples/stack.sh up (about a minute)" >&2
  exit 1
fi
# shellcheck source=/dev/null
source "$ex_env"
ex_work=$(mktemp -d /tmp/hret-example.XXXXXX)
trap 'rm -rf "$ex_work"' EXIT

# ex_endpoint MODEL_ID: an inline endpoint on the stack's fake-llm (a checkpoint being served);
# the stack's config allows inline endpoints on 127.0.0.1 only (endpoints.allowlist).
ex_endpoint() { printf '{"base_url": "%s", "model": "%s"}' "$FAKE_URL" "$1"; }

# ex_sql SQL: a read-only look into PostgreSQL, the system of record.
ex_sql() { PGOPTIONS='-c client_min_messages=warning' psql "$HRET_PG" -qAt -F ' | ' -c "$1"; }
