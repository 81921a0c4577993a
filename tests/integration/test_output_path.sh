#!/usr/bin/env bash
# --output keeps what the path is (issue 18 item 1): a symlink stays a symlink and its target
# gets the results, a FIFO is written into (its reader gets the JSON), `-` is standard output,
# a character device is written into (never replaced: /dev/full fails with ENOSPC and stays a
# device), an existing regular file is replaced atomically keeping its mode; the same for
# `hret score --output`.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 20 --seed 3 >/dev/null
start_fake good --answer-key "$work/synth/answer_key.tsv" --accuracy 0.6 --seed 5
cat >"$work/hret_config.yaml" <<YAML
log_level: warn
output_dir: $work/out
models:
  good: {base_url: "http://127.0.0.1:$port/v1", model: fake-model}
YAML
run() { # --output PATH, more flags
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model good --quiet "$@"
}
is_results() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["results"][0]["samples"]) == 20' "$1"; }

# a symlink stays a symlink; its target gets the results
mkdir "$work/real"
echo old >"$work/real/target.json"
ln -s real/target.json "$work/link.json"
run --output "$work/link.json" >/dev/null || fail "run to a symlink"
[ -L "$work/link.json" ] || fail "the symlink was replaced by a file"
is_results "$work/real/target.json" || fail "the symlink's target did not get the results"
# a dangling symlink: its target is created
ln -s real/new.json "$work/dangling.json"
run --output "$work/dangling.json" >/dev/null || fail "run to a dangling symlink"
[ -L "$work/dangling.json" ] && is_results "$work/real/new.json" || fail "dangling symlink"

# an existing file keeps its mode; no temporary file is left behind
echo old >"$work/mode.json"
chmod 640 "$work/mode.json"
run --output "$work/mode.json" >/dev/null || fail "run to an existing file"
[ "$(stat -c %a "$work/mode.json")" = 640 ] || fail "mode became $(stat -c %a "$work/mode.json")"
is_results "$work/mode.json" || fail "existing file not replaced"
[ -z "$(ls -A "$work" | grep -v -e '^synth$' -e '^real$' -e '\.json$' -e '\.out$' -e '\.yaml$')" ] ||
  fail "left behind: $(ls -A "$work")"

# a FIFO is written into: its reader gets the whole document
mkfifo "$work/fifo"
python3 -c 'import sys; open(sys.argv[2], "w").write(open(sys.argv[1]).read())' "$work/fifo" "$work/fifo.got" &
reader=$!
run --output "$work/fifo" >/dev/null || fail "run to a FIFO"
wait $reader
[ -p "$work/fifo" ] || fail "the FIFO was replaced"
is_results "$work/fifo.got" || fail "the FIFO's reader did not get the results"

# `-` is standard output (the summary then goes to stderr), no file named -
(cd "$work" && run --output - >"$work/stdout.json" 2>"$work/stdout.err") || fail "--output -"
[ ! -e "$work/-" ] || fail "wrote a file named -"
is_results "$work/stdout.json" || fail "stdout did not get the results"
grep -q "accuracy" "$work/stdout.err" || fail "summary not on stderr with --output -"

# a character device is written into, never replaced
if [ "$(id -u)" = 0 ]; then
  set +e
  run --output /dev/full >/dev/null 2>"$work/full.err"
  rc=$?
  set -e
  [ -c /dev/full ] || fail "/dev/full is no longer a character device"
  [ $rc -eq 1 ] || fail "writing to /dev/full exits $rc, want 1"
  grep -q "No space left" "$work/full.err" || fail "no ENOSPC message: $(cat "$work/full.err")"
fi
run --output /dev/null >/dev/null || fail "run to /dev/null"
[ -c /dev/null ] || fail "/dev/null was replaced"

# hret score --output through a symlink
run --output "$work/score_in.json" >/dev/null
python3 - "$work/score_in.json" "$work/score.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    for s in d["results"][0]["samples"]:
        f.write(json.dumps({"prediction": s["prediction"], "reference": s["reference"], "options": s["options"]}) + "\n")
PY
echo old >"$work/real/scored.jsonl"
ln -s real/scored.jsonl "$work/scored_link.jsonl"
"$hret" score --input "$work/score.jsonl" --output "$work/scored_link.jsonl" 2>/dev/null || fail "score"
[ -L "$work/scored_link.jsonl" ] || fail "score replaced the symlink"
[ "$(wc -l <"$work/real/scored.jsonl")" -eq 20 ] || fail "score's symlink target not written"
echo "output paths: ok"
