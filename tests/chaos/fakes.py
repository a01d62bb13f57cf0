"""Loopback fakes for the chaos run: one DeepSeek-shaped provider for every account, the
three sinks (webhook, Slack, PagerDuty) and an "evil" origin that cross-origin redirects
point at. Shapes and status semantics: shared/reference/providers.md section 1 and
sinks.md sections 1.1, 1.2, 1.4; the webhook schema is README.md "Webhook payload".

A sink applies a notification (records it as received) only when it answers 2xx: a
request it answered with a failure, a reset or a timeout never changed the receiver's state,
so the daemon must send it again. Every choice a fake makes comes from a random.Random
seeded by (run seed, fake, request number), so a seed replays the same answers in the same
order (thread timing still varies).
"""

import hashlib
import hmac
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import random

import texts

# How a sink's answers are drawn, per "weather" the scenario sets (weights of each outcome).
WEATHER = {
    "perfect": {"ok": 1},
    "good": {"ok": 94, "slow_ok": 3, "huge_ok": 1, "server_error": 1, "reset": 1},
    "flaky": {"ok": 52, "slow_ok": 5, "huge_ok": 5, "server_error": 12, "throttle": 8, "timeout": 2,
              "reset": 7, "permanent": 2, "redirect": 1, "request_timeout": 3, "huge_error": 3},
    "down": {"server_error": 45, "reset": 30, "timeout": 5, "throttle": 10, "huge_error": 10},
    "throttled": {"throttle": 85, "ok": 15},
}
SLOW_OK_SECONDS = (0.2, 1.5)       # well inside the sinks' 5 s total timeout
TIMEOUT_SECONDS = 6.5              # beyond the sinks' 5 s total timeout
HUGE_BODY_BYTES = 2 << 20          # over the daemon's 1 MiB response cap


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


# --- provider ----------------------------------------------------------------------------

class Account:
    """What the provider answers for one account now; the scenario changes it."""

    def __init__(self, name, key):
        self.name = name
        self.key = key
        self.mode = "healthy"
        self.balance = "1000.00"
        self.message = b""
        self.blip = 0.0
        self.served = 0        # probes answered in this mode
        self.mode_since = time.monotonic()


PROVIDER_FAILURES = ["server_error", "throttle", "garbage", "timeout", "reset", "redirect_away",
                     "redirect_loop", "client_error", "empty", "huge", "html"]


class ProviderHandler(Handler):
    def do_GET(self):
        fake = self.server.owner
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 4 or parts[0] != "acct" or parts[2:] != ["user", "balance"]:
            return self.answer(404, b'{"error":{"message":"Not Found"}}')
        account = fake.accounts.get(parts[1])
        if account is None:
            return self.answer(404, b"no such account")
        fake.note_request(account, self.headers.get("Authorization", ""))
        n = fake.counter.next()
        rng = random.Random("%s:provider:%d" % (fake.seed, n))
        with fake.lock:
            mode, balance, message, blip = account.mode, account.balance, account.message, account.blip
            account.served += 1
        if mode in ("healthy", "low") and rng.random() < blip:
            mode = "failing"
        fake.count(mode)
        self.reply(fake, account, mode, balance, message, rng)

    def reply(self, fake, account, mode, balance, message, rng):
        if mode in ("healthy", "low"):
            return self.answer(200, deepseek_body(rng, True, balance))
        if mode == "dry":
            return self.answer(200, deepseek_body(rng, False, "0.00"))
        if mode == "unavailable":
            return self.answer(200, deepseek_body(rng, False, balance))
        if mode == "down":
            return self.answer(503, texts.any_text(rng)[:4096])
        if mode == "exhausted":
            return self.answer(402, texts.error_envelope(rng, message, "unknown_error"), json_type())
        if mode == "key_invalid":
            if fake.echo_keys and rng.random() < 0.3:
                message = b"Authentication Fails, Your api key: " + account.key.encode() + b" is invalid"
            return self.answer(rng.choice([401, 401, 403]), texts.error_envelope(rng, message, "authentication_error"),
                               json_type())
        return self.failure(fake, account, rng)

    def failure(self, fake, account, rng):
        kind = rng.choice(PROVIDER_FAILURES)
        fake.count("failure:" + kind)
        if kind == "server_error":
            return self.answer(rng.choice([500, 502, 503]), texts.any_text(rng))
        if kind == "throttle":
            return self.answer(429, texts.error_envelope(rng, texts.any_text(rng)),
                               [("Retry-After", rng.choice(["1", "0", "2.5", "soon", "-3"]))])
        if kind == "garbage":
            return self.answer(200, garbage(rng), json_type())
        if kind == "timeout":
            return self.hang(fake.probe_timeout + 0.5)
        if kind == "reset":
            return self.reset()
        if kind == "redirect_away":
            return self.answer(302, b"", [("Location", fake.evil_url + "/stolen/" + account.name)])
        if kind == "redirect_loop":
            return self.answer(302, b"", [("Location", "/acct/%s/user/balance?again=%d" % (account.name, rng.randint(0, 9)))])
        if kind == "client_error":
            return self.answer(rng.choice([400, 404, 422]), texts.error_envelope(rng, texts.any_text(rng)))
        if kind == "empty":
            return self.answer(200, b"", json_type())
        if kind == "huge":
            return self.answer(200, b'{"is_available":true,"note":' + texts.json_string(texts.huge(rng)) + b"}")
        return self.answer(rng.choice([200, 502]), b"<html><body><h1>" + texts.any_text(rng)[:4096] + b"</h1></body></html>",
                           [("Content-Type", "text/html")])


def json_type():
    return [("Content-Type", "application/json")]


def deepseek_body(rng, available, total):
    """The documented 200 body; amounts as strings (current docs) or numbers (older docs)."""
    def amount(value):
        return value if rng.random() < 0.8 else float(value)
    info = {"currency": "USD", "total_balance": amount(total), "granted_balance": amount("0.00"),
            "topped_up_balance": amount(total)}
    infos = [info]
    if rng.random() < 0.3:
        infos.append({"currency": "CNY", "total_balance": "7.10", "granted_balance": "0.00", "topped_up_balance": "7.10"})
        rng.shuffle(infos)
    return json.dumps({"is_available": available, "balance_infos": infos}).encode()


def garbage(rng):
    """A 200 that is not a usable balance: each shape must be a probe failure, never a reading."""
    return rng.choice([
        lambda: texts.any_text(rng),
        lambda: b'{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":',
        lambda: b'{"is_available":"yes","balance_infos":[]}',
        lambda: b'{"is_available":true,"balance_infos":{"currency":"USD"}}',
        lambda: b'{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":' +
        texts.json_string(texts.any_text(rng)[:300]) + b"}]}",
        lambda: b'{"error":' * 5000 + b"1" + b"}" * 5000,
        lambda: b"[" * 100000,
        lambda: b'{"is_available":true,"balance_infos":[],"message":' + texts.json_string(texts.any_text(rng)) + b"}",
    ])()


class ProviderFake:
    def __init__(self, seed, evil_url, probe_timeout, echo_keys=True):
        self.seed = seed
        self.evil_url = evil_url
        self.probe_timeout = probe_timeout
        self.echo_keys = echo_keys
        self.accounts = {}
        self.lock = threading.Lock()
        self.counter = Counter()
        self.modes = {}
        self.wrong_keys = []   # (account, what arrived) when the Authorization header was not the key
        self.server = serve(ProviderHandler, self)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def add(self, name, key):
        self.accounts[name] = Account(name, key)

    def set_mode(self, name, mode, balance=None, message=b"", blip=0.0):
        account = self.accounts[name]
        with self.lock:
            account.mode = mode
            account.balance = balance or account.balance
            account.message = message
            account.blip = blip
            account.served = 0
            account.mode_since = time.monotonic()

    def served(self, name):
        with self.lock:
            account = self.accounts[name]
            return account.served, time.monotonic() - account.mode_since

    def note_request(self, account, authorization):
        if authorization != "Bearer " + account.key:
            with self.lock:
                self.wrong_keys.append((account.name, authorization[:12] + "..."))

    def count(self, what):
        with self.lock:
            self.modes[what] = self.modes.get(what, 0) + 1

    def stop(self):
        self.server.shutdown()


# --- sinks -------------------------------------------------------------------------------

class Recorder:
    """Everything every sink saw, in arrival order (one lock, one sequence)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []        # dict per request that carried a notification
        self.problems = []      # (kind, text): requests a correct daemon never sends
        self.outcomes = {}
        self.scanner = None

    def add(self, event):
        with self.lock:
            event["seq"] = len(self.events)
            event["at"] = time.time()
            self.events.append(event)
            key = (event["sink"], event["outcome"])
            self.outcomes[key] = self.outcomes.get(key, 0) + 1

    def scan(self, where, raw, allowed):
        """Hands a request body to the secret scan (set by chaos.py) and keeps nothing of it."""
        if self.scanner:
            self.scanner(where, raw, allowed)

    def problem(self, kind, text):
        with self.lock:
            self.problems.append((kind, text))


class SinkHandler(Handler):
    def do_POST(self):
        sink = self.server.owner
        arrived = time.time()
        raw = self.body()
        n = sink.counter.next()
        rng = random.Random("%s:%s:%d" % (sink.seed, sink.name, n))
        sink.recorder.scan("%s request body" % sink.name, raw, sink.allowed_secrets)
        event = sink.parse(self.path, self.headers, raw)
        if event is None:
            return self.answer(400, b"invalid_payload")
        outcome = sink.draw(rng)
        event.update(sink=sink.name, outcome=outcome, sha=hashlib.sha256(raw).hexdigest(), arrived=arrived)
        if outcome in ("ok", "slow_ok", "huge_ok"):
            if outcome == "slow_ok":
                time.sleep(rng.uniform(*SLOW_OK_SECONDS))
            if sink.drop_silently:
                event["outcome"] = "dropped"   # the self-test's broken receiver: 200, but lost
            sink.recorder.add(event)
            return self.answer(*sink.success(rng, outcome == "huge_ok"))
        sink.recorder.add(event)
        self.fail(sink, outcome, rng)

    def fail(self, sink, outcome, rng):
        if outcome == "server_error":
            return self.answer(rng.choice([500, 502, 503, 504]), texts.any_text(rng)[:65536])
        if outcome == "huge_error":
            return self.answer(rng.choice([500, 503]), texts.huge(rng, HUGE_BODY_BYTES))
        if outcome == "request_timeout":
            return self.answer(408, b"request timeout")
        if outcome == "throttle":
            return self.answer(*sink.throttle(rng))
        if outcome == "timeout":
            return self.hang(TIMEOUT_SECONDS)
        if outcome == "reset":
            return self.reset()
        if outcome == "redirect":
            return self.answer(307, b"", [("Location", sink.evil_url + "/sink/" + sink.name)])
        return self.answer(*sink.permanent(rng))


class Sink:
    """A receiver; subclasses know their vendor's request and answer shapes."""
    retry_after_values = ["1", "2", "3", "0", "1.5", "5"]
    allowed_secrets = ()   # secrets this sink's own requests legitimately carry in the body

    def __init__(self, name, seed, recorder, evil_url):
        self.name = name
        self.seed = seed
        self.recorder = recorder
        self.evil_url = evil_url
        self.counter = Counter()
        self.weather = "good"
        self.drop_silently = False
        self.server = serve(SinkHandler, self)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]

    def draw(self, rng):
        weights = WEATHER[self.weather]
        return rng.choices(list(weights), list(weights.values()))[0]

    def json_body(self, raw, what):
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            self.recorder.problem("invalid payload", "%s: %s is not UTF-8 JSON (%s): %r" % (self.name, what, e, raw[:300]))
            return None

    def stop(self):
        self.server.shutdown()


class WebhookSink(Sink):
    def __init__(self, name, seed, recorder, evil_url, token, secret):
        super().__init__(name, seed, recorder, evil_url)
        self.token = token
        self.secret = secret
        self.url = self.base + "/hook"

    def parse(self, path, headers, raw):
        if headers.get("Authorization") != "Bearer " + self.token:
            self.recorder.problem("credential", "%s: request without the configured Authorization header" % self.name)
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("X-Creditwatch-Signature", "")):
            self.recorder.problem("signature", "%s: X-Creditwatch-Signature does not match the body" % self.name)
        body = self.json_body(raw, "webhook body")
        if body is None:
            return None
        try:
            return {"key": body["dedup_key"], "status": body["status"], "severity": body["severity"],
                    "reason": body["reason"], "time": body["time"]}
        except (KeyError, TypeError):
            self.recorder.problem("schema", "%s: webhook body misses a schema field: %r" % (self.name, raw[:300]))
            return None

    def success(self, rng, huge):
        body = texts.huge(rng, HUGE_BODY_BYTES) if huge else rng.choice([b"", b"ok", b'{"accepted":true}'])
        return rng.choice([200, 202, 204]) if not body else rng.choice([200, 202]), body

    def throttle(self, rng):
        return 429, b"slow down", [("Retry-After", rng.choice(self.retry_after_values))]

    def permanent(self, rng):
        return rng.choice([400, 404, 410, 422]), texts.any_text(rng)[:4096]


class SlackSink(Sink):
    def __init__(self, name, seed, recorder, evil_url, path_secret):
        super().__init__(name, seed, recorder, evil_url)
        self.path = "/services/T0CHAOS/B0CHAOS/" + path_secret
        self.url = self.base + self.path

    def parse(self, path, headers, raw):
        if path != self.path:
            self.recorder.problem("credential", "%s: POST to a path other than the webhook URL" % self.name)
        body = self.json_body(raw, "Slack message")
        if body is None:
            return None
        try:
            context = body["blocks"][2]["elements"][0]["text"].split(" · ")
            severity_field = next(f["text"] for f in body["blocks"][1]["fields"] if f["text"].startswith("*Severity*"))
            severity = severity_field.split("\n", 1)[1]
            resolved = severity.endswith(", resolved")
            return {"key": context[2], "status": "resolved" if resolved else "firing",
                    "severity": severity.split(",")[0], "time": context[1]}
        except (KeyError, IndexError, TypeError, StopIteration, AttributeError):
            self.recorder.problem("schema", "%s: Slack message without the blocks we read: %r" % (self.name, raw[:300]))
            return None

    def success(self, rng, huge):
        return 200, b"ok"   # Slack answers exactly "ok"; anything else is a rejection

    def throttle(self, rng):
        seconds = rng.choice([1, 2, 3])
        body = json.dumps({"retry_after": seconds, "ok": False, "error": "rate_limited"}).encode()
        headers = [("Retry-After", str(seconds))] if rng.random() < 0.7 else []
        return 429, body, headers

    def permanent(self, rng):
        return rng.choice([(400, b"invalid_payload"), (404, b"channel_not_found"), (410, b"channel_is_archived"),
                           (403, b"action_prohibited"), (200, b"invalid_token")])


class PagerDutySink(Sink):
    allowed_secrets = ("pd-key",)   # Events API v2 authenticates by the routing_key in the body

    def __init__(self, name, seed, recorder, evil_url, routing_key):
        super().__init__(name, seed, recorder, evil_url)
        self.routing_key = routing_key
        self.url = self.base + "/v2/enqueue"

    def parse(self, path, headers, raw):
        body = self.json_body(raw, "PagerDuty event")
        if body is None:
            return None
        if body.get("routing_key") != self.routing_key:
            self.recorder.problem("credential", "%s: event without the configured routing_key" % self.name)
        try:
            if body["event_action"] == "resolve":
                return {"key": body["dedup_key"], "status": "resolved", "severity": None, "time": None}
            payload = body["payload"]
            return {"key": body["dedup_key"], "status": "firing", "severity": payload["severity"],
                    "time": payload["timestamp"]}
        except (KeyError, TypeError):
            self.recorder.problem("schema", "%s: event misses a field: %r" % (self.name, raw[:300]))
            return None

    def success(self, rng, huge):
        body = {"status": "success", "message": "Event processed", "dedup_key": "x"}
        raw = json.dumps(body).encode()
        if huge:
            raw = raw[:-1] + b',"padding":' + texts.json_string(texts.huge(rng, HUGE_BODY_BYTES)) + b"}"
        return 202, raw, json_type()

    def throttle(self, rng):
        # PagerDuty documents no Retry-After: mostly one anyway, sometimes none (the daemon then waits 30 s).
        headers = [("Retry-After", rng.choice(self.retry_after_values))] if rng.random() < 0.85 else []
        return 429, b'{"status":"throttle exceeded","message":"Requests for this service are arriving too quickly."}', headers

    def permanent(self, rng):
        return 400, (b'{"status":"invalid event","message":"Event object is invalid","errors":[' +
                     texts.json_string(texts.any_text(rng)[:512]) + b"]}")


# --- the other origin --------------------------------------------------------------------

class EvilHandler(Handler):
    def record(self):
        raw = self.body() if self.command == "POST" else b""
        headers = "\n".join("%s: %s" % kv for kv in self.headers.items())
        self.server.owner.requests.append((self.command, self.path, headers, raw))
        self.answer(200, b'{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"1.00"}]}')

    do_GET = record
    do_POST = record


class EvilOrigin:
    """Where cross-origin redirects point. A correct daemon never sends it anything."""

    def __init__(self):
        self.requests = []
        self.server = serve(EvilHandler, self)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
