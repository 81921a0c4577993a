#!/usr/bin/env bash
# pyarrow for the Parquet tests: the reader in worker/datasets/hret_parquet*.c is checked against
# files that pyarrow writes (tests/data/parquet/gen_parquet.py). Installed once from PyPI into a
# venv under deploy/local/.cache/pyarrow-venv (git-ignored); a lock makes concurrent users wait
# for the one install instead of racing it.
#
#   deploy/local/pyarrow.sh venv        create the venv when missing; print its path
#
# Environment: HRET_PYARROW_VENV (another venv path).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
want="pyarrow==26.0.1"
venv=${HRET_PYARROW_VENV:-$here/.cache/pyarrow-venv}

die() { echo "pyarrow.sh: $*" >&2; exit 1; }

make_venv() {
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock -w 900 9 || die "waited 15 min for $venv.lock (another install still running?)"
  if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]; then
    echo "pyarrow.sh: installing $want into $venv (first run only, under a minute)" >&2
    rm -rf "$venv"
    local log
    log=$(mktemp)
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check \
      "$want"; } >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      rm -f "$log"
      die "pip install $want failed (needs python3-venv and access to PyPI; log above)"
    fi
    rm -f "$log"
    echo "$want" >"$venv/.stamp"
  fi
  exec 9>&-
}

case ${1:-} in
  venv)
    make_venv
    echo "$venv"
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
