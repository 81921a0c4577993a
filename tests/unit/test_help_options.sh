#!/usr/bin/env bash
# Help and README do not drift from the code: every long option a command accepts appears in
# its `hret help <command>` text (read from the getopt tables, so options added later are
# covered), and the README does not call built commands "not built yet".
set -uo pipefail
src="$HRET_SOURCE_DIR"
status=0
python3 "$src/tests/support/help_options.py" "$src" "$HRET_BUILD_DIR/hret" || status=1
if grep -n "not built yet" "$src/README.md"; then
  echo "FAIL: README says commands are not built yet; every command is (hret --help)" >&2
  status=1
fi
exit $status
