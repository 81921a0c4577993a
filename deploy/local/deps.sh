#!/usr/bin/env bash
# Installs the Debian 12 packages hret builds, tests and benchmarks with, and the virtualenv of
# the deploy lint (below). Idempotent: only what is missing is installed, so a second run costs
# a dpkg query and a stamp read.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git curl ca-certificates python3 python3-venv
  librdkafka-dev libcurl4-openssl-dev libcjson-dev libyaml-dev libpq-dev libmicrohttpd-dev
  libcmocka-dev libssl-dev clang-format
  libsnappy-dev zlib1g-dev libzstd-dev  # Parquet codecs (worker/datasets/hret_parquet*.c)
  postgresql                  # throwaway clusters for the tests (deploy/local/pg.sh)
  python3-jsonschema          # event schema checks in the test suite
  python3-scipy python3-statsmodels   # statistics checked against SciPy in the test suite
  systemd                     # systemd-analyze verify of deploy/systemd units (nothing is started)
  openjdk-17-jdk-headless maven  # a real Kafka broker from Maven Central jars (deploy/local/kafka.sh)
  wrk time                    # the HTTP ceiling and peak RSS in make bench
  kcat                        # e2e tests read topics back (tests/support/stack_env.sh)
  clang libclang-rt-14-dev valgrind  # make fuzz (libFuzzer, ASan+UBSan) and make test-valgrind
  chromium fonts-noto-cjk     # hret report pages rendered by a real browser, Korean in Noto CJK
  docker.io debootstrap docker-compose  # make test-deploy: a private dockerd, local base images
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The schemas integration.deploy_lint validates deploy/ against, offline at test time: the
# Kubernetes JSON schemas bundled in kubernetes-validate, and the Compose Specification schema
# shipped inside docker-compose 1.29.2 (installed without its dependencies: only the schema
# file is used). A stamp names the versions, so a second run costs one file read.
venv=$(cd "$(dirname "$0")" && pwd)/.cache/deploy-venv
want="kubernetes-validate==1.37.0 docker-compose==1.29.2"
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
  echo "deps: creating $venv ($want)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check kubernetes-validate==1.37.0
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps docker-compose==1.29.2
  echo "$want" >"$venv/.stamp"
fi

# hret api's OpenAPI property test: schemathesis, a pinned venv made once under
# deploy/local/.cache by pyvenv.sh (which holds the pin). clients/python's test makes a fresh venv
# of its own each run (pip install clients/python pytest), which is what it tests; the examples
# run the client from the tree with httpx from the pyclient venv.
"$(dirname "$0")/pyvenv.sh" schemathesis >/dev/null
"$(dirname "$0")/pyvenv.sh" pyclient >/dev/null

# llama.cpp's server for the e2e test against a real inference server (tests/e2e/test_llama.sh):
# llama-cpp-python built from source (about 6 minutes the first time) by llama.sh through pyvenv.sh.
"$(dirname "$0")/llama.sh" venv >/dev/null

# pyarrow writes the files the Parquet reader's tests read (tests/data/parquet/).
"$(dirname "$0")/pyvenv.sh" pyarrow >/dev/null
