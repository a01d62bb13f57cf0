"""The loopback HTTP plumbing every chaos fake shares: a quiet threading server on a
kernel-chosen port, one request per connection (so a reset or a hang hits one request only),
and the ways to answer: normally, with a TCP reset, or not at all."""

import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Quiet(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # a client that hung up mid-answer is expected here, not news


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: a reset or a hang hits one request only

    def log_message(self, *args):
        pass

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def reset(self):
        """Close with RST instead of answering."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def hang(self, seconds):
        time.sleep(seconds)
        self.reset()


def serve(handler_class, owner):
    server = Quiet(("127.0.0.1", 0), handler_class)
    server.owner = owner
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Counter:
    def __init__(self):
        self._lock = threading.Lock()
        self._n = 0

    def next(self):
        with self._lock:
            self._n += 1
            return self._n


def json_type():
    return [("Content-Type", "application/json")]
