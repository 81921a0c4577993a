#!/usr/bin/env bash
# Installs the Debian 12 packages hret builds, tests and benchmarks with. Idempotent: only what
# is missing is installed, so a second run costs a dpkg query.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git curl ca-certificates python3 python3-venv
  librdkafka-dev libcurl4-openssl-dev libcjson-dev libyaml-dev libpq-dev libmicrohttpd-dev
  libcmocka-dev libssl-dev clang-format
  postgresql                  # throwaway clusters for the tests (deploy/local/pg.sh)
  python3-jsonschema          # event schema checks in the test suite
  openjdk-17-jdk-headless maven  # a real Kafka broker from Maven Central jars (deploy/local/kafka.sh)
  wrk time                    # the HTTP ceiling and peak RSS in make bench
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
