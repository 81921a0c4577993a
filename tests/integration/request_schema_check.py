"""The event JSON Schemas (schemas/events/*.schema.json, draft 2020-12) against the fixtures.

Run by test_request_schema.sh. Modes:
  schemas SCHEMA_DIR EVENTS_DIR      every schema is a valid 2020-12 schema whose title is its
                                     file name, and EVENTS_DIR/<type>.json validates against it
  fixtures SCHEMA_DIR FIXTURE_DIR    valid/*.json must validate; invalid/*.json must not, unless a
                                     sibling .schema-valid says why the schema cannot see the
                                     problem (then it must validate: the schema may not be
                                     stricter than the parser)
  validate SCHEMA_FILE [FILE|-]...   each document validates (stdin for -)
Prints one line per problem and "N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import sys

import jsonschema


def load_doc(path):
    """The JSON document, or None when it is not UTF-8 JSON (the parser refuses those too)."""
    try:
        if path == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as f:
                raw = f.read()
        return json.loads(raw.decode("utf-8", errors="strict"))
    except (UnicodeDecodeError, ValueError):
        return None


def validator(schema_path):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors_of(v, doc):
    if doc is None:
        return ["not UTF-8 JSON"]
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
            for e in v.iter_errors(doc)]


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed or not self.passed else 0


def mode_schemas(schema_dir, events_dir):
    t = Tally()
    for name in sorted(os.listdir(schema_dir)):
        if not name.endswith(".schema.json"):
            continue
        path = os.path.join(schema_dir, name)
        try:
            v = validator(path)
        except jsonschema.SchemaError as e:
            t.check(False, f"{name}: not a draft 2020-12 schema: {e.message}")
            continue
        title = v.schema.get("title")
        t.check(title + ".schema.json" == name, f"{name}: title {title!r} does not match")
        example = os.path.join(events_dir, title + ".json")
        if not os.path.exists(example):
            t.check(False, f"{name}: no example {example}")
            continue
        errs = errors_of(v, load_doc(example))
        t.check(not errs, f"{example}: {errs}")
    return t.finish()


def mode_fixtures(schema_dir, fixture_dir):
    v = validator(os.path.join(schema_dir, "hret.eval.requested.v1.schema.json"))
    t = Tally()
    for kind in ("valid", "invalid"):
        folder = os.path.join(fixture_dir, kind)
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".json"):
                continue
            path = os.path.join(folder, name)
            errs = errors_of(v, load_doc(path))
            marker = path[:-5] + ".schema-valid"
            want_valid = kind == "valid" or os.path.exists(marker)
            if want_valid:
                t.check(not errs, f"{kind}/{name}: the schema refuses it: {errs[:2]}")
            else:
                t.check(bool(errs), f"{kind}/{name}: the schema accepts it (the parser refuses "
                                    "it; add a .schema-valid note if the schema cannot see why)")
    return t.finish()


def mode_validate(schema_file, files):
    v = validator(schema_file)
    t = Tally()
    for path in files:
        errs = errors_of(v, load_doc(path))
        t.check(not errs, f"{path}: {errs[:3]}")
    return t.finish()


def main(argv):
    if len(argv) >= 3 and argv[0] == "schemas":
        return mode_schemas(argv[1], argv[2])
    if len(argv) >= 3 and argv[0] == "fixtures":
        return mode_fixtures(argv[1], argv[2])
    if len(argv) >= 3 and argv[0] == "validate":
        return mode_validate(argv[1], argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
