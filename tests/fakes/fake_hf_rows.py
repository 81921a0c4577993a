#!/usr/bin/env python3
"""A fake Hugging Face datasets-server for `hret dataset import --from URL` tests.

    python3 tests/fakes/fake_hf_rows.py [--port 0] [--dataset HAERAE-HUB/KMMLU]
        [--configs Accounting:250,Law:40] [--variant 0] [--truncate Law:3] [--fail-first 0]
        [--broken Accounting:200]

Serves, on 127.0.0.1 only (standard library, one thread per request):
  GET /splits?dataset=D                          {"splits": [{"dataset","config","split"}]}
  GET /rows?dataset=D&config=C&split=S&offset=O&length=L
                                                 {"features", "rows": [{"row_idx", "row",
                                                  "truncated_cells"}], "num_rows_total",
                                                  "num_rows_per_page", "partial"}
  GET /fake/stats                                {"requests", "rows_requests", "sent_429"}
like the real server: length above 100 is a 422, an unknown dataset/config/split a 404.
Every config has a "test" split with the given number of KMMLU-shaped rows and a "dev" split
of 5; the content is deterministic, --variant N changes row 0 of the first config (a new
version), --truncate C:K marks row K of config C as truncated, --fail-first N answers the
first N /rows requests with 429 and Retry-After: 0, --broken C:O answers every /rows request of
config C at offset O with a 404 (an import that stops part-way). Prints "listening on 127.0.0.1:PORT".
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATS = {"requests": 0, "rows_requests": 0, "sent_429": 0}
LOCK = threading.Lock()


def make_rows(config, n, variant, first):
    rows = []
    for i in range(n):
        q = f"{config} 문제 {i}: 다음 중 옳은 것은? \"따옴표\"\t탭\\역슬래시"
        if first and i == 0 and variant:
            q += f" (변형 {variant})"
        rows.append({"question": q, "answer": 1 + i % 4, "A": f"보기 A{i}", "B": f"보기 B{i}",
                     "C": f"보기 C{i}", "D": f"보기 D{i}", "Category": config,
                     "Human Accuracy": round(0.25 + (i % 7) / 10, 2)})
    return rows


def build(args):
    data = {}
    for k, spec in enumerate(args.configs.split(",")):
        name, _, count = spec.partition(":")
        data[name] = {"test": make_rows(name, int(count or 10), args.variant, k == 0),
                      "dev": make_rows(name, 5, 0, False)}
    return data


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-hf-rows/1"

    def log_message(self, fmt, *a):  # quiet
        pass

    def reply(self, status, doc, headers=()):
        body = json.dumps(doc, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        srv = self.server
        if url.path == "/fake/stats":
            with LOCK:
                return self.reply(200, dict(STATS))
        with LOCK:
            STATS["requests"] += 1
        if q.get("dataset") != srv.dataset:
            return self.reply(404, {"error": "The dataset does not exist."})
        if url.path == "/splits":
            splits = [{"dataset": srv.dataset, "config": c, "split": s}
                      for c in srv.data for s in srv.data[c]]
            return self.reply(200, {"splits": splits, "pending": [], "failed": []})
        if url.path != "/rows":
            return self.reply(404, {"error": "Not found."})
        with LOCK:
            STATS["rows_requests"] += 1
            fail = STATS["rows_requests"] <= srv.fail_first
            if fail:
                STATS["sent_429"] += 1
        if fail:
            return self.reply(429, {"error": "Too many requests"}, [("Retry-After", "0")])
        if (q.get("config"), q.get("offset", "0")) in srv.broken:
            return self.reply(404, {"error": "This page is broken (fake)."})
        rows = srv.data.get(q.get("config"), {}).get(q.get("split"))
        if rows is None:
            return self.reply(404, {"error": "The config or the split does not exist."})
        offset, length = int(q.get("offset", 0)), int(q.get("length", 100))
        if length > 100 or offset < 0:
            return self.reply(422, {"error": "Parameter 'length' must not be greater than 100"})
        page = [{"row_idx": i, "row": rows[i],
                 "truncated_cells": ["question"] if (q["config"], i) in srv.truncate else []}
                for i in range(offset, min(offset + length, len(rows)))]
        features = [{"feature_idx": k, "name": n, "type": {"dtype": "string", "_type": "Value"}}
                    for k, n in enumerate(rows[0] if rows else {})]
        return self.reply(200, {"features": features, "rows": page, "num_rows_total": len(rows),
                                "num_rows_per_page": 100, "partial": False})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dataset", default="HAERAE-HUB/KMMLU")
    ap.add_argument("--configs", default="Accounting:250,Law:40")
    ap.add_argument("--variant", type=int, default=0)
    ap.add_argument("--truncate", default="")
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--broken", default="")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.dataset = args.dataset
    srv.data = build(args)
    srv.fail_first = args.fail_first
    srv.broken = {tuple(spec.split(":", 1)) for spec in filter(None, args.broken.split(","))}
    srv.truncate = set()
    for spec in filter(None, args.truncate.split(",")):
        c, _, k = spec.partition(":")
        srv.truncate.add((c, int(k)))
    print(f"listening on 127.0.0.1:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
