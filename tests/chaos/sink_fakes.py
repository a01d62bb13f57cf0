"""The three sinks (generic webhook, Slack incoming webhook, PagerDuty Events API v2; shapes
and status semantics in shared/reference/sinks.md sections 1.1, 1.2, 1.4, the webhook schema
in README.md "Webhook payload"), each answering per the "weather" the scenario sets.

A sink applies a notification (records it as received) only when it answers 2xx: a
request it answered with a failure, a reset or a timeout never changed the receiver's state,
so the daemon must send it again. Every choice comes from a random.Random seeded by (run
seed, sink, request number).
"""

import hashlib
import hmac
import json
import random
import threading
import time

import texts
from fake_http import Counter, Handler, json_type, serve

# How a sink's answers are drawn, per "weather" the scenario sets (weights of each outcome).
# Bad weather costs the daemon throughput (a 429 pauses the whole sink, a timeout holds it
# 5 s), so scenario.SINK_WEATHER keeps it to a share the sinks can recover from.
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
            return self.answer(307, b"", [("Location", sink.other_origin_url + "/sink/" + sink.name)])
        return self.answer(*sink.permanent(rng))


class Sink:
    """A receiver; subclasses know their vendor's request and answer shapes."""
    retry_after_values = ["1", "2", "3", "0", "1.5", "5"]
    allowed_secrets = ()   # secrets this sink's own requests legitimately carry in the body

    def __init__(self, name, seed, recorder, other_origin_url):
        self.name = name
        self.seed = seed
        self.recorder = recorder
        self.other_origin_url = other_origin_url
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
            self.recorder.problem("invalid payload", "%s: %s is not UTF-8 JSON (%s): %r" % (
                self.name, what, e, raw[:300]))
            return None

    def stop(self):
        self.server.shutdown()


class WebhookSink(Sink):
    def __init__(self, name, seed, recorder, other_origin_url, token, secret):
        super().__init__(name, seed, recorder, other_origin_url)
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
    def __init__(self, name, seed, recorder, other_origin_url, path_secret):
        super().__init__(name, seed, recorder, other_origin_url)
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

    def __init__(self, name, seed, recorder, other_origin_url, routing_key):
        super().__init__(name, seed, recorder, other_origin_url)
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
        body = b'{"status":"throttle exceeded","message":"Requests for this service are arriving too quickly."}'
        return 429, body, headers

    def permanent(self, rng):
        return 400, (b'{"status":"invalid event","message":"Event object is invalid","errors":[' +
                     texts.json_string(texts.any_text(rng)[:512]) + b"]}")
