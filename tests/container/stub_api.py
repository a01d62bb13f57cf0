#!/usr/bin/env python3
"""The provider and sink scripts/container-test runs on the host for creditwatch's containers.

DeepSeek's GET /user/balance, answered only for `Authorization: Bearer $STUB_EXPECTED_KEY`
(401 otherwise), a Slack-style POST /slack, and GET /stub/stats with what it saw, so the test
can tell that the key creditwatch sent is the one in the secret. Stdlib only; listens on
$STUB_LISTEN (default 0.0.0.0:8000).
"""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EXPECTED_KEY = os.environ["STUB_EXPECTED_KEY"]
stats = {"balance_ok": 0, "balance_denied": 0, "slack": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/user/balance":
            ok = self.headers.get("Authorization") == "Bearer " + EXPECTED_KEY
            with lock:
                stats["balance_ok" if ok else "balance_denied"] += 1
            if not ok:
                return self.reply(401, {"error": {"message": "Authentication Fails (no such user)"}})
            return self.reply(200, {"is_available": True, "balance_infos": [
                {"currency": "USD", "total_balance": "42.50", "granted_balance": "0.00",
                 "topped_up_balance": "42.50"}]})
        if self.path == "/stub/stats":
            with lock:
                return self.reply(200, dict(stats))
        self.reply(404, {"error": "no such path"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/slack":
            with lock:
                stats["slack"] += 1
            return self.reply(200, {"ok": True})
        self.reply(404, {"error": "no such path"})

    def log_message(self, *args):
        pass


host, _, port = os.environ.get("STUB_LISTEN", "0.0.0.0:8000").rpartition(":")
ThreadingHTTPServer((host, int(port)), Handler).serve_forever()
