#!/usr/bin/env python3
"""A tiny HTTP server for hret_call's tests: echoes what it received, or misbehaves on demand.

Any method on any path answers 200 with {"method", "path", "headers" (lower-case names),
"body"}, except:
  /status/<code>   answers <code> with an MLflow-style error body
  /big             answers 200 with a 100 kB body
  /slow            waits 5 s, then answers 200
  /hits/<path>     how many requests /<path> received so far: {"hits": N}
Prints 'listening on 127.0.0.1:PORT' once it accepts connections.
"""
import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

hits = Counter()
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test reads stdout for the port only
        pass

    def answer(self, status, payload):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        path = self.path
        if path.startswith("/hits/"):
            with lock:
                return self.answer(200, {"hits": hits[path[len("/hits"):]]})
        with lock:
            hits[path] += 1
        if path.startswith("/status/"):
            code = int(path.split("/")[2])
            return self.answer(code, {"error_code": "TEST_ERROR", "message": f"status {code}"})
        if path == "/big":
            return self.answer(200, b"x" * 100000)
        if path == "/slow":
            time.sleep(5)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.answer(200, {"method": self.command, "path": path, "headers": headers, "body": body})

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
