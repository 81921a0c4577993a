#!/usr/bin/env python3
"""A custom integration's receiving end: what `hret bridge webhook` POSTs, verified.

Each POST carries the event JSON and
  X-Hret-Timestamp: the Unix time (seconds) the attempt was signed
  X-Hret-Signature: sha256=<hex HMAC-SHA256 under the shared secret of
                    "<X-Hret-Timestamp>.<X-Hret-Delivery>.<raw body>">
  X-Hret-Event:     the event type (hret.run.completed.v1, hret.comparison.completed.v1, ...)
  X-Hret-Delivery:  an id that stays the same on every retry: dedupe on it
The receiver checks the signature over the raw bytes (before parsing, in constant time), refuses
a timestamp more than --tolerance seconds (default 300) from its clock, answers 401 to either,
200 to a duplicate delivery without acting twice, and otherwise hands the event to on_event():
the place to call your monitoring system (the seed's custom_logger). A captured request can
thus be neither replayed after the tolerance nor under another delivery id. (This scheme
replaced a signature over the body alone, which a replay passed.)

  HRET_WEBHOOK_SECRET=... webhook_receiver.py [--port N] [--count N] [--tolerance S]
prints "listening on 127.0.0.1:PORT", then one line per event; exits after --count events.
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

MAX_BODY = 1 << 20


def on_event(kind, event):
    """Your integration goes here; this one prints a summary line."""
    if kind == "hret.run.completed.v1":
        acc = event.get("metrics", {}).get("accuracy")
        print(f"run completed: {event['model']['name']} on {event['dataset']['name']} "
              f"accuracy={acc} run={event['run_id']}", flush=True)
    else:
        print(f"{kind}: {json.dumps(event)[:120]}...", flush=True)


def verify(secret, timestamp, delivery, body, signature, tolerance=300, now=None):
    """True when signature is hret's over (timestamp, delivery, body) and timestamp is within
    tolerance seconds of now. body is the raw bytes; the comparison is constant-time."""
    if not timestamp.isdigit():
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance:
        return False
    signed = timestamp.encode() + b"." + delivery.encode() + b"." + body
    want = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature.encode(), want.encode())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--count", type=int, default=0, help="exit after this many events (0: never)")
    ap.add_argument("--tolerance", type=int, default=300,
                    help="seconds X-Hret-Timestamp may be off the local clock (default 300)")
    args = ap.parse_args()
    secret = os.environ.get("HRET_WEBHOOK_SECRET", "").encode()
    if not secret:
        sys.exit("webhook_receiver.py: set HRET_WEBHOOK_SECRET to the secret the bridge signs with")
    seen = set()

    class Handler(BaseHTTPRequestHandler):
        def reply(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                return self.reply(413)
            body = self.rfile.read(n)
            delivery = self.headers.get("X-Hret-Delivery", "")
            if not verify(secret, self.headers.get("X-Hret-Timestamp", ""), delivery, body,
                          self.headers.get("X-Hret-Signature", ""), args.tolerance):
                print("rejected: bad signature or timestamp", file=sys.stderr, flush=True)
                return self.reply(401)
            if delivery not in seen:  # a retry of a delivery already handled: acknowledge only
                seen.add(delivery)
                on_event(self.headers.get("X-Hret-Event", ""), json.loads(body))
            self.reply(200)

        def log_message(self, *a):  # quiet: one line per event is printed by on_event
            pass

    srv = HTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on 127.0.0.1:{srv.server_address[1]}", flush=True)
    while args.count == 0 or len(seen) < args.count:
        srv.handle_request()


if __name__ == "__main__":
    main()
