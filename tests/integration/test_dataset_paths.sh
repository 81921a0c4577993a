#!/usr/bin/env bash
# Request fields never reach the filesystem (hret run side; the request side is the fixture
# folders tests/data/requests/invalid/traversal_*.json). A split, few-shot split, subset or
# dataset name that is not one path component of [A-Za-z0-9._-] exits 2 before anything is read
# or sent, with the same message whether the outside path exists or not; a symbolic link inside
# the data directory that leads out of it is refused (exit 2, without naming its target) unless
# datasets.follow_symlinks is set; an ordinary run still works.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

start_fake llm
cat >"$work/hret_config.yaml" <<YAML
output_dir: $work/out
auto_save_results: false
datasets: {root: $work/root}
models:
  m: {base_url: "http://127.0.0.1:$port/v1", model: fake-model, max_retries: 0}
YAML
mkdir -p "$work/root" "$work/outside"
cp -r "$src/tests/data/datasets/click" "$work/root/click"
# A private file in CLIcK's layout outside the root: its rows would become prompts if a request
# field reached the filesystem.
cp "$work/root/click/data/train.jsonl" "$work/outside/private.jsonl"
calls() {
  curl -s "http://127.0.0.1:$port/fake/stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["chat_completions"])'
}
run() { # expected exit status, then hret run arguments; stderr in $work/err
  local want=$1 rc=0
  shift
  "$hret" run --config "$work/hret_config.yaml" --model m --quiet "$@" >"$work/out.txt" \
    2>"$work/err" || rc=$?
  [ "$rc" = "$want" ] || fail "hret run $*: exit $rc, want $want: $(head -c 400 "$work/err")"
}

# 1. names that are not one path component: exit 2, nothing read, nothing sent
for args in "--split ../../outside/private" "--split data/../../../outside/private" \
  "--split .." "--split ." "--few-shot-split ../../outside/private --num-few-shot 1" \
  "--dataset click/../../outside"; do
  # shellcheck disable=SC2086
  run 2 --dataset click $args
  grep -q "single path component" "$work/err" || fail "$args: $(cat "$work/err")"
  ! grep -q "outside/private\.jsonl\|No such file\|does not exist" "$work/err" ||
    fail "$args: the message tells about the filesystem: $(cat "$work/err")"
done
run 2 --dataset kmmlu --subset ../../outside/private
grep -q "single path component" "$work/err" || fail "subset: $(cat "$work/err")"
# the same message whether the outside file exists or not
run 2 --dataset click --split ../../outside/private
cp "$work/err" "$work/err.exists"
run 2 --dataset click --split ../../outside/missing
sed 's/missing/private/g' "$work/err" | cmp -s - "$work/err.exists" ||
  fail "messages differ for an existing and a missing outside file: $(cat "$work/err.exists") / $(cat "$work/err")"
[ "$(calls)" = 0 ] || fail "a refused run called the endpoint $(calls) times"

# 2. a symbolic link inside the data directory that leads out of it
ln -s "$work/outside/private.jsonl" "$work/root/click/data/leak.jsonl"
run 2 --dataset click --split leak
grep -q "outside the dataset root" "$work/err" || fail "symlink: $(cat "$work/err")"
! grep -q "$work/outside" "$work/err" || fail "the refusal names the link's target: $(cat "$work/err")"
run 2 --dataset click --data-dir "$work/root/click" --split leak
grep -q "outside the dataset root" "$work/err" || fail "symlink under --data-dir: $(cat "$work/err")"
[ "$(calls)" = 0 ] || fail "a refused run called the endpoint $(calls) times"
# ... allowed when the operator says so
sed -i "s|datasets: {root: $work/root}|datasets: {root: $work/root, follow_symlinks: true}|" \
  "$work/hret_config.yaml"
run 0 --dataset click --split leak
[ "$(calls)" -gt 0 ] || fail "follow_symlinks: the run sent nothing"

# 3. an ordinary run
run 0 --dataset click --split train
echo "dataset_paths: traversal names, symlinks out of the root and follow_symlinks checked"
