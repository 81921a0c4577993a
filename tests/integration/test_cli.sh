#!/usr/bin/env bash
# The CLI skeleton: help that teaches, config check exit statuses and positions.
set -euo pipefail
hret="$HRET_BUILD_DIR/hret"
src="$HRET_SOURCE_DIR"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$hret" --help)
for cmd in run score worker submit status runs metrics compare dataset migrate bridge monitor config; do
  grep -qE "^  $cmd " <<<"$out" || fail "--help does not list $cmd"
done
"$hret" help config | grep -q 'hret config check' || fail "help config"
"$hret" config --help | grep -q 'file:line:column' || fail "config --help"

set +e
"$hret" no-such-command 2>/tmp/hret_cli_err.$$; rc=$?
set -e
[ $rc -eq 2 ] || fail "unknown command exits $rc, want 2"
grep -q "unknown command 'no-such-command'" /tmp/hret_cli_err.$$ || fail "unknown command message"

# commands not built yet say so and exit 2
for cmd in $("$hret" --help | awk '/\[not built yet\]/ {print $1}'); do
  set +e
  "$hret" "$cmd" >/dev/null 2>/tmp/hret_cli_err.$$; rc=$?
  set -e
  [ $rc -eq 2 ] || fail "$cmd (not built) exits $rc"
  grep -q "not built yet" /tmp/hret_cli_err.$$ || fail "$cmd does not say it is not built"
done

"$hret" config check "$src/examples/hret_config.yaml" | grep -q ': ok$' || fail "example config"

set +e
(cd "$src/tests/data/config/bad" && "$hret" config check misspelled_key.yaml) 2>/tmp/hret_cli_err.$$; rc=$?
set -e
[ $rc -eq 2 ] || fail "misspelled key exits $rc"
grep -q "^misspelled_key.yaml:2:1: unknown key 'max_wokers'" /tmp/hret_cli_err.$$ || fail "misspelled position"

set +e
(cd "$src/tests/data/config/bad" && "$hret" config check wrong_type.yaml) 2>/tmp/hret_cli_err.$$; rc=$?
set -e
[ $rc -eq 2 ] || fail "wrong type exits $rc"
grep -q "^wrong_type.yaml:5:17: models.gpt4.timeout_ms: expected an integer" /tmp/hret_cli_err.$$ || fail "wrong type position"

# show redacts nothing it should not print, and its output is a valid config
"$hret" config show "$src/examples/hret_config.yaml" > /tmp/hret_cli_show.$$.yaml
"$hret" config check /tmp/hret_cli_show.$$.yaml >/dev/null || fail "config show output does not validate"
env_out=$(HRET_LOG_LEVEL=loud "$hret" config check "$src/examples/hret_config.yaml" 2>&1 || true)
grep -q "^environment HRET_LOG_LEVEL: log_level: expected one of" <<<"$env_out" || fail "env override error"

# every command takes --config F; config check/show too, the same as a positional FILE
"$hret" config show --config "$src/examples/hret_config.yaml" >/tmp/hret_cli_show2.$$.yaml ||
  fail "config show --config F"
cmp -s /tmp/hret_cli_show.$$.yaml /tmp/hret_cli_show2.$$.yaml || fail "config show --config F differs from config show F"
"$hret" config check --config "$src/examples/hret_config.yaml" | grep -q ': ok$' || fail "config check --config F"
set +e
"$hret" config show --config "$src/examples/hret_config.yaml" "$src/examples/hret_config.yaml" 2>/tmp/hret_cli_err.$$; rc=$?
set -e
[ $rc -eq 2 ] || fail "config show with both --config and FILE exits $rc, want 2"
# -V and --version as well as version
for v in -V --version version; do
  "$hret" $v | grep -qE '^hret [0-9]' || fail "hret $v does not print the version"
done
rm -f /tmp/hret_cli_err.$$ /tmp/hret_cli_show.$$.yaml /tmp/hret_cli_show2.$$.yaml
echo "cli: ok"
