#!/usr/bin/env bash
# clients/python end to end: `pip install clients/python` (with pytest) into a fresh venv, then its
# pytest suite (clients/python/tests) against a live stack: hret api, a worker, a real Kafka
# broker, PostgreSQL and fake-llm serving models a, b and c (c answers as a).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

stack_up 40
stack_config 'api: {listen: "127.0.0.1:0", tokens_file: "'"$work"'/tokens"}'
sed -i "/^  b: {base_url/a\\  c: {base_url: \"http://127.0.0.1:$port/v1\", model: a}" "$work/hret.yaml"
grep -q '^  c: ' "$work/hret.yaml" || fail "model c not configured"

# from a copy: pip's setuptools build writes build/ and *.egg-info next to the sources
cp -r "$src/clients/python" "$work/pkg"
rm -rf "$work/pkg/build" "$work/pkg/src/"*.egg-info
python3 -m venv "$work/venv" >"$work/venv.log" 2>&1 || fail "python3 -m venv: $(cat "$work/venv.log")"
"$work/venv/bin/pip" install -q --disable-pip-version-check "$work/pkg" pytest==8.3.4 \
  >>"$work/venv.log" 2>&1 || fail "pip install clients/python: $(tail -20 "$work/venv.log")"
"$work/venv/bin/python" -c 'import hret, httpx; print(hret.__version__)' >/dev/null ||
  fail "hret does not import from the fresh venv"

token=$("$hret" api token add py --scopes submit,read --config "$work/hret.yaml" | tail -n 1)
reader=$("$hret" api token add py-read --scopes read --config "$work/hret.yaml" | tail -n 1)
stack_worker
"$hret" api --config "$work/hret.yaml" >>"$work/api.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q 'serving /v1 on' "$work/api.log" && break; sleep 0.05; done
api_port=$(sed -n 's/.*serving \/v1 on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/api.log")
[ -n "$api_port" ] || fail "hret api did not start"

# pytest runs from a copy of the tests, so it imports the installed package, not the source tree
cp -r "$src/clients/python/tests" "$work/pytests"
(cd "$work" && HRET_API_URL="http://127.0.0.1:$api_port" HRET_API_TOKEN="$token" \
  HRET_API_READ_TOKEN="$reader" timeout 600 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
  "$work/pytests") >"$work/pytest.out" 2>&1 || { cat "$work/pytest.out" >&2; fail "pytest"; }
tail -n 2 "$work/pytest.out" >&2
! grep -qF "$token" "$work/api.log" "$work/worker.log" || fail "the token is in a log"
echo "pyclient: ok" >&2
