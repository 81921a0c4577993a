#!/usr/bin/env python3
"""An OpenAI-compatible endpoint that answers without text, for `hret run` tests.

    python3 tests/fakes/fake_empty_llm.py [--port 0]

Serves, on 127.0.0.1 only (standard library), by the path's first segment:
  POST /null/v1/chat/completions     200, message.content null, finish_reason content_filter
  POST /empty/v1/chat/completions    200, "choices": []
  POST /mixed/v1/chat/completions    200, content null for every other request, else "(A)"
  POST /badbytes/v1/chat/completions 200, content "(A) " and the invalid UTF-8 byte 0xFF
  POST /<any>/v1/completions         200, text null, finish_reason stop
  GET  /fake/stats                   {"requests": N}
anything else is a 404 with an OpenAI-style error. Prints "listening on 127.0.0.1:PORT".
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATS = {"requests": 0}
LOCK = threading.Lock()


def reply(choices):
    return {"id": "x", "object": "chat.completion", "model": "empty-model", "choices": choices,
            "usage": {"prompt_tokens": 5, "completion_tokens": 0}}


def null_choice(reason="content_filter"):
    return {"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": reason}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and Expect: 100-continue answered
    def log_message(self, *args):
        pass

    def send(self, status, doc, raw=None):
        body = raw if raw is not None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/fake/stats":
            self.send(200, STATS)
        else:
            self.send(404, {"error": {"message": "not found", "type": "not_found_error"}})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with LOCK:
            STATS["requests"] += 1
            n = STATS["requests"]
        kind = self.path.split("/")[1]
        if self.path.endswith("/v1/completions"):
            self.send(200, reply([{"index": 0, "text": None, "finish_reason": "stop"}]))
        elif not self.path.endswith("/v1/chat/completions"):
            self.send(404, {"error": {"message": f"no route {self.path}", "type": "not_found_error"}})
        elif kind == "null":
            self.send(200, reply([null_choice()]))
        elif kind == "badbytes":
            raw = json.dumps(reply([{"index": 0, "message": {"role": "assistant", "content": "(A) @"},
                                     "finish_reason": "stop"}])).encode().replace(b"@", b"\xff")
            self.send(200, None, raw)
        elif kind == "empty":
            self.send(200, reply([]))
        elif kind == "mixed" and n % 2 == 0:
            self.send(200, reply([null_choice("stop")]))
        else:
            self.send(200, reply([{"index": 0, "message": {"role": "assistant", "content": "(A)"},
                                   "finish_reason": "stop"}]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
