#!/usr/bin/env bash
# Which layer each effective value comes from, and that the container image does not override a
# mounted config (issue 24):
# - `hret config show` names each value's source: the file (file:line:column), the environment
#   (the variable) or the built-in default;
# - precedence default < file < environment, the documented order;
# - the image's ENV sets no config key: with the Dockerfile's ENV exported, an operator's config
#   (datasets.root: /mnt/data, ...) is what takes effect, as a mount at /etc/hret must;
# - the container defaults the image ships (deploy/hret_config.container.yaml, copied to
#   /etc/hret/hret_config.yaml) validate and give the container settings.
set -euo pipefail
hret="$HRET_BUILD_DIR/hret"
src="$HRET_SOURCE_DIR"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/op.yaml" <<'YAML'
log_level: warn
datasets:
  root: "/mnt/data"
http:
  listen: "0.0.0.0:9555"
YAML

# One line of `config show`: the value and its source comment.
show_line() { # output key (the indented key as printed)
  grep -E "^$2: " <<<"$1" | sed -n 1p
}

out=$(env -u HRET_LOG_LEVEL -u HRET_DATASETS_ROOT -u HRET_HTTP_LISTEN \
  HRET_LOG_FORMAT=json "$hret" config show "$tmp/op.yaml")
line=$(show_line "$out" '  root')
[ "$line" = "  root: \"/mnt/data\"  # $tmp/op.yaml:3:9" ] || fail "datasets.root source: '$line'"
line=$(show_line "$out" 'log_format')
[ "$line" = "log_format: json  # environment HRET_LOG_FORMAT" ] || fail "log_format source: '$line'"
line=$(show_line "$out" '  shard_size')
[ "$line" = "  shard_size: 256  # default" ] || fail "datasets.shard_size source: '$line'"
# the environment wins over the file
out=$(HRET_LOG_LEVEL=error "$hret" config show "$tmp/op.yaml")
line=$(show_line "$out" 'log_level')
[ "$line" = "log_level: error  # environment HRET_LOG_LEVEL" ] || fail "env over file: '$line'"
# the annotated output is still a config that loads
"$hret" config show "$tmp/op.yaml" >"$tmp/shown.yaml"
"$hret" config check "$tmp/shown.yaml" >/dev/null || fail "annotated config show does not validate"

# The Dockerfile's runtime ENV, as the container sees it.
python3 - "$src/deploy/Dockerfile" >"$tmp/image.env" <<'PY'
import re, shlex, sys
text = re.sub(r"\\\n", " ", open(sys.argv[1], encoding="utf-8").read())
stage = []
for line in text.splitlines():
    s = line.strip()
    if re.match(r"FROM\s", s, re.I):
        stage = []
    elif re.match(r"ENV\s", s, re.I):
        stage += [w for w in shlex.split(s[4:]) if "=" in w]
print("\n".join(stage))
PY
keys=$("$hret" config reference | awk -F'|' '{gsub(/[ `]/, "", $5); if ($5 ~ /^HRET_/) print $5}')
while IFS='=' read -r name _; do
  [ -n "$name" ] || continue
  if grep -qx "$name" <<<"$keys" || [ "$name" = HRET_PG ] || [ "$name" = HRET_KAFKA ]; then
    fail "deploy/Dockerfile sets ENV $name: it overrides the same key of a mounted config"
  fi
done <"$tmp/image.env"
out=$(env -i PATH="$PATH" $(cat "$tmp/image.env") "$hret" config show "$tmp/op.yaml")
line=$(show_line "$out" '  root')
[ "$line" = "  root: \"/mnt/data\"  # $tmp/op.yaml:3:9" ] ||
  fail "under the image's ENV the mounted datasets.root is not effective: '$line'"

# The defaults the image ships in /etc/hret/hret_config.yaml (an operator's mount replaces it).
shipped="$src/deploy/hret_config.container.yaml"
"$hret" config check "$shipped" >/dev/null || fail "$shipped does not validate"
grep -q 'COPY deploy/hret_config.container.yaml /etc/hret/hret_config.yaml' "$src/deploy/Dockerfile" ||
  fail "the image does not ship $shipped as /etc/hret/hret_config.yaml"
out=$(env -i PATH="$PATH" "$hret" config show "$shipped")
for want in 'listen: "0.0.0.0:9464"' 'log_format: json' 'root: "/var/lib/hret/data"' \
  'output_dir: "/var/lib/hret/results"'; do
  grep -qF "$want  # $shipped:" <<<"$out" || fail "shipped defaults: no '$want' from the file"
done
echo "config_sources: ok"
