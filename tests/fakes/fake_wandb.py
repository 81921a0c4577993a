#!/usr/bin/env python3
"""A fake Weights & Biases server for the W&B bridge's tests (W&B's own server cannot be
installed here). It speaks the part of the wire protocol in reference/infra.md §2 that a client
without the SDK uses, and checks every request against it:

  POST /graphql                            mutation UpsertBucket (§2.2), query Viewer (§2.1)
  POST /files/<entity>/<project>/<run>/file_stream                                      (§2.3)
  GET  /_fake/state                        what was recorded (not part of W&B)

Checked: HTTP Basic auth "api:<key>" (401 otherwise); a JSON body; the UpsertBucket operation's
variable declarations and their mapping to input fields (§2.2 table), the variables' types, and
the config wrapping {"key": {"value": v}} inside a JSON string; on file_stream, an upserted run,
known files, {"offset": int, "content": [str]} chunks, offsets contiguous per file (a gap, or an
overlap whose lines differ from the stored ones, is refused), history rows that are JSON objects
with an integer, non-decreasing `_step` and numeric `_runtime` and `_timestamp`, the summary as
one JSON object at offset 0, and `complete` (with an integer `exitcode`) last. A refused request
gets 400 (404 for an unknown run or path) and is recorded in `violations`.

A chunk that repeats stored lines exactly (what the SDK's retries send after a lost response)
and a repeated identical completion are accepted and counted in the run's `retransmits`.

Options: --port 0 picks a free port and prints "listening on 127.0.0.1:PORT"; --fail-first N
answers 503 to the first N W&B requests (an outage); the expected key is read from the
environment variable named by --api-key-env, so it never appears on a command line.
Python 3 standard library only."""
import argparse
import base64
import gzip
import hashlib
import json
import os
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HISTORY = "wandb-history.jsonl"
SUMMARY = "wandb-summary.json"
STREAM_FILES = {HISTORY, SUMMARY, "wandb-events.jsonl", "output.log"}
STREAM_KEYS = {"files", "complete", "exitcode", "preempting", "dropped", "uploaded"}
MAX_BODY = 16 << 20  # above the SDK's ~10 MiB request limit (§2.3)

# infra.md §2.2: GraphQL variable -> (declared type, input field it maps to).
UPSERT_VARS = {
    "id": ("String", "id"),
    "name": ("String", "name"),
    "project": ("String", "modelName"),
    "entity": ("String", "entityName"),
    "groupName": ("String", "groupName"),
    "description": ("String", "description"),
    "displayName": ("String", "displayName"),
    "notes": ("String", "notes"),
    "commit": ("String", "commit"),
    "config": ("JSONString", "config"),
    "host": ("String", "host"),
    "debug": ("Boolean", "debug"),
    "program": ("String", "jobProgram"),
    "repo": ("String", "jobRepo"),
    "jobType": ("String", "jobType"),
    "state": ("String", "state"),
    "sweep": ("String", "sweep"),
    "tags": ("[String!]", "tags"),
    "summaryMetrics": ("JSONString", "summaryMetrics"),
}
UPSERT_RE = re.compile(
    r"mutation\s+UpsertBucket\s*\(([^)]*)\)\s*\{\s*upsertBucket\s*\(\s*input\s*:\s*\{([^}]*)\}\s*\)"
    r"\s*\{(.*)\}\s*\}\s*$",
    re.S,
)
DECL_RE = re.compile(r"\$(\w+)\s*:\s*([\w\[\]!]+)")
FIELD_RE = re.compile(r"(\w+)\s*:\s*\$(\w+)")
# W&B run ids end up in URL paths; the SDK refuses these characters and more than 64 of them.
RUN_NAME_RE = re.compile(r"^[^/\\#?%:\s]{1,64}$")


class Refused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Fake:
    def __init__(self, key, default_entity, fail_first):
        self.lock = threading.Lock()
        self.key = key
        self.default_entity = default_entity
        self.fail_left = fail_first
        self.runs = {}  # (entity, project, name) -> run
        self.violations = []
        self.requests = 0
        self.outage_answers = 0
        self.heartbeats = 0

    def state(self):
        return {
            "runs": sorted(self.runs.values(), key=lambda r: (r["project"], r["name"])),
            "violations": self.violations,
            "requests": self.requests,
            "outage_answers": self.outage_answers,
            "heartbeats": self.heartbeats,
        }

    # ---- GraphQL ---------------------------------------------------------------------------

    def graphql(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise Refused(400, "graphql: body must be {\"query\": str, \"variables\": {...}}")
        variables = body.get("variables", {})
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            raise Refused(400, "graphql: variables must be an object")
        query = body["query"]
        if "mutation UpsertBucket" in query:
            return self.upsert(query, variables)
        if "query Viewer" in query:
            return {"data": {"viewer": {"id": "VXNlcjox", "entity": self.default_entity,
                                        "username": self.default_entity}}}
        raise Refused(400, "graphql: unsupported operation (the fake knows UpsertBucket, Viewer)")

    def check_upsert_shape(self, query, variables):
        m = UPSERT_RE.search(query)
        if m is None:
            raise Refused(400, "UpsertBucket: expected 'mutation UpsertBucket(<vars>) "
                          "{ upsertBucket(input: {...}) { ... } }'")
        decls = dict(DECL_RE.findall(m.group(1)))
        for var, typ in decls.items():
            if var not in UPSERT_VARS:
                raise Refused(400, f"UpsertBucket: unknown variable ${var}")
            if typ != UPSERT_VARS[var][0]:
                raise Refused(400, f"UpsertBucket: ${var} declared {typ}, "
                              f"expected {UPSERT_VARS[var][0]}")
        mapped = set()
        for field, var in FIELD_RE.findall(m.group(2)):
            if var not in decls:
                raise Refused(400, f"UpsertBucket: input field {field} uses undeclared ${var}")
            if UPSERT_VARS[var][1] != field:
                raise Refused(400, f"UpsertBucket: ${var} must map to input field "
                              f"{UPSERT_VARS[var][1]}, not {field}")
            mapped.add(var)
        selection = m.group(3)
        for word in ("bucket", "name", "project", "entity"):
            if not re.search(r"\b%s\b" % word, selection):
                raise Refused(400, f"UpsertBucket: the selection lacks {word}")
        for var, value in variables.items():
            if var not in decls or var not in mapped:
                raise Refused(400, f"UpsertBucket: variable {var} is not declared and mapped")
            if value is None:
                continue
            typ = decls[var]
            if typ == "String" and not isinstance(value, str):
                raise Refused(400, f"UpsertBucket: {var} must be a string")
            if typ == "Boolean" and not isinstance(value, bool):
                raise Refused(400, f"UpsertBucket: {var} must be a boolean")
            if typ == "[String!]" and not (isinstance(value, list)
                                           and all(isinstance(t, str) for t in value)):
                raise Refused(400, f"UpsertBucket: {var} must be a list of strings")
            if typ == "JSONString":
                if not isinstance(value, str):
                    raise Refused(400, f"UpsertBucket: {var} is a JSONString: JSON *text*")
                try:
                    parsed = json.loads(value)
                except ValueError:
                    raise Refused(400, f"UpsertBucket: {var} is not valid JSON text")
                if not isinstance(parsed, dict):
                    raise Refused(400, f"UpsertBucket: {var} must encode an object")
        config = variables.get("config")
        if config is not None:
            for k, v in json.loads(config).items():
                if not isinstance(v, dict) or set(v) != {"value"}:
                    raise Refused(400, f"UpsertBucket: config key {k!r} is not wrapped as "
                                  "{\"value\": ...}")
        name = variables.get("name")
        if name is not None and not RUN_NAME_RE.match(name):
            raise Refused(400, f"UpsertBucket: run name {name!r} is not a valid W&B run id")

    def upsert(self, query, variables):
        self.check_upsert_shape(query, variables)
        entity = variables.get("entity") or self.default_entity
        project = variables.get("project") or "uncategorized"
        name = variables.get("name")
        if name is None:
            name = hashlib.sha256(os.urandom(8)).hexdigest()[:8]
        key = (entity, project, name)
        run = self.runs.get(key)
        if variables.get("id") is not None and (run is None or run["id"] != variables["id"]):
            raise Refused(400, "UpsertBucket: id names no run with this name")
        inserted = run is None
        if inserted:
            storage_id = base64.b64encode(f"Run:v1:{name}:{project}:{entity}".encode()).decode()
            run = {"id": storage_id, "entity": entity, "project": project, "name": name,
                   "displayName": None, "groupName": None, "jobType": None, "tags": [],
                   "config": {}, "upserts": 0, "history": [], "summary": None, "files": {},
                   "completed": False, "exitcode": None, "stream_requests": 0,
                   "retransmits": 0, "last_request": None}
            self.runs[key] = run
        run["upserts"] += 1
        for var in ("displayName", "groupName", "jobType", "tags"):
            if variables.get(var) is not None:
                run[var] = variables[var]
        if variables.get("config") is not None:
            run["config"] = json.loads(variables["config"])
        return {"data": {"upsertBucket": {"inserted": inserted, "bucket": {
            "id": run["id"], "name": name, "displayName": run["displayName"],
            "description": None, "config": json.dumps(run["config"]), "sweepName": None,
            "historyLineCount": len(run["history"]),
            "project": {"id": f"Project:{project}", "name": project,
                        "entity": {"id": f"Entity:{entity}", "name": entity}}}}}}

    # ---- file_stream -----------------------------------------------------------------------

    def file_stream(self, entity, project, name, body):
        run = self.runs.get((entity, project, name))
        if run is None:
            raise Refused(404, f"file_stream: no run {entity}/{project}/{name} (upsert first)")
        if not isinstance(body, dict):
            raise Refused(400, "file_stream: the body must be a JSON object")
        unknown = set(body) - STREAM_KEYS
        if unknown:
            raise Refused(400, f"file_stream: unknown keys {sorted(unknown)}")
        if run["completed"]:
            if body == run["last_request"]:
                run["retransmits"] += 1
                return {"limits": {}}
            raise Refused(400, "file_stream: request after complete")
        if not body:
            self.heartbeats += 1
            return {"limits": {}}
        complete = body.get("complete")
        if complete is not None and complete is not True:
            raise Refused(400, "file_stream: complete must be true when present")
        if "exitcode" in body and not complete:
            raise Refused(400, "file_stream: exitcode without complete")
        if complete and (not isinstance(body.get("exitcode"), int)
                         or isinstance(body.get("exitcode"), bool)):
            raise Refused(400, "file_stream: complete needs an integer exitcode")
        files = body.get("files", {})
        if not isinstance(files, dict):
            raise Refused(400, "file_stream: files must be an object")
        plans = [self.check_chunk(run, fname, chunk) for fname, chunk in files.items()]
        # Everything checked: apply.
        retransmit = bool(plans)
        for fname, offset, lines, new in plans:
            retransmit = retransmit and not new
            if fname == SUMMARY:
                run["summary"] = json.loads(lines[0])
                continue
            stored = run["history"] if fname == HISTORY else run["files"].setdefault(fname, [])
            stored.extend(lines[len(stored) - offset:])
        run["stream_requests"] += 1
        if retransmit:
            run["retransmits"] += 1
        if complete:
            run["completed"] = True
            run["exitcode"] = body["exitcode"]
        run["last_request"] = body
        return {"limits": {}}

    def check_chunk(self, run, fname, chunk):
        """Returns (file, offset, lines, adds_new) or raises Refused."""
        if fname not in STREAM_FILES:
            raise Refused(400, f"file_stream: unknown file {fname!r}")
        if not isinstance(chunk, dict) or set(chunk) - {"offset", "content"}:
            raise Refused(400, f"file_stream: {fname} must be {{\"offset\", \"content\"}}")
        offset, lines = chunk.get("offset"), chunk.get("content")
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise Refused(400, f"file_stream: {fname} offset must be an integer >= 0")
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise Refused(400, f"file_stream: {fname} content must be a list of strings")
        if fname == SUMMARY:
            if offset != 0:
                raise Refused(400, f"file_stream: the summary goes at offset 0, not {offset}")
            if len(lines) != 1 or not isinstance(parse_line(lines[0], fname), dict):
                raise Refused(400, "file_stream: the summary is one JSON object line")
            return fname, 0, lines, run["summary"] != json.loads(lines[0])
        stored = run["history"] if fname == HISTORY else run["files"].get(fname, [])
        if offset > len(stored):
            raise Refused(400, f"file_stream: {fname} offset {offset} leaves a gap "
                          f"(next line is {len(stored)})")
        overlap = stored[offset:offset + len(lines)]
        if overlap != lines[:len(overlap)]:
            raise Refused(400, f"file_stream: {fname} offset {offset} overwrites stored lines "
                          "with different content")
        if fname == HISTORY:
            prev = json.loads(stored[offset - 1])["_step"] if offset > 0 else None
            for line in lines:
                row = parse_line(line, fname)
                if not isinstance(row, dict):
                    raise Refused(400, "file_stream: a history line must be a JSON object")
                step = row.get("_step")
                if not isinstance(step, int) or isinstance(step, bool) or step < 0:
                    raise Refused(400, "file_stream: a history row needs an integer _step")
                if prev is not None and step < prev:
                    raise Refused(400, f"file_stream: _step {step} after {prev}")
                for k in ("_runtime", "_timestamp"):
                    if not isinstance(row.get(k), (int, float)) or isinstance(row.get(k), bool):
                        raise Refused(400, f"file_stream: a history row needs a numeric {k}")
                prev = step
        return fname, offset, lines, offset + len(lines) > len(stored)


def parse_line(line, fname):
    try:
        return json.loads(line)
    except ValueError:
        raise Refused(400, f"file_stream: a {fname} line is not JSON")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None  # set in main

    def log_message(self, fmt, *args):  # one line per request, never a header
        sys.stderr.write("fake-wandb: %s\n" % (fmt % args))

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise Refused(400, "body over the fake's cap")
        raw = self.rfile.read(n)
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            raise Refused(400, "Content-Type must be application/json")
        try:
            return json.loads(raw)
        except ValueError:
            raise Refused(400, "the body is not JSON")

    def authorized(self):
        expected = "Basic " + base64.b64encode(f"api:{self.fake.key}".encode()).decode()
        return self.headers.get("Authorization") == expected

    def do_GET(self):
        if self.path == "/_fake/state":
            with self.fake.lock:
                self.answer(200, self.fake.state())
            return
        self.handle_wandb()

    def do_POST(self):
        self.handle_wandb()

    def do_PUT(self):
        self.handle_wandb()

    def handle_wandb(self):
        f = self.fake
        try:
            body = self.read_body() if self.command != "GET" else None
        except Refused as e:
            body, early = None, e
        else:
            early = None
        with f.lock:
            f.requests += 1
            if f.fail_left > 0:
                f.fail_left -= 1
                f.outage_answers += 1
                self.answer(503, {"error": "fake outage"})
                return
            try:
                if not self.authorized():
                    raise Refused(401, "HTTP Basic auth api:<key> required")
                if early is not None:
                    raise early
                path = urllib.parse.urlsplit(self.path).path
                m = re.match(r"^/files/([^/]+)/([^/]+)/([^/]+)/file_stream$", path)
                if self.command == "POST" and path == "/graphql":
                    self.answer(200, f.graphql(body))
                elif self.command == "POST" and m:
                    parts = [urllib.parse.unquote(p) for p in m.groups()]
                    self.answer(200, f.file_stream(*parts, body))
                else:
                    raise Refused(404, f"no such endpoint: {self.command} {path}")
            except Refused as e:
                f.violations.append({"method": self.command, "path": self.path,
                                     "status": e.status, "error": str(e)})
                self.answer(e.status, {"errors": [{"message": str(e)}]})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--api-key-env", default="WANDB_API_KEY",
                    help="environment variable holding the API key clients must send")
    ap.add_argument("--default-entity", default="fake-entity",
                    help="the key's entity, used when an upsert names none")
    ap.add_argument("--fail-first", type=int, default=0, metavar="N",
                    help="answer 503 to the first N requests")
    a = ap.parse_args()
    key = os.environ.get(a.api_key_env)
    if not key:
        sys.exit(f"fake_wandb: set {a.api_key_env} to the API key clients must present")
    Handler.fake = Fake(key, a.default_entity, a.fail_first)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
