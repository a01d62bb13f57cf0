"""A DeepSeek-shaped provider for every account (GET /acct/NAME/user/balance, shapes in
shared/reference/providers.md section 1). The scenario sets what each account answers; a
failing account answers each probe with some failure: 5xx, 429, a 200 that is no balance,
a timeout, a reset, a redirect to another origin or in a loop, nothing, 1 MiB.

Every choice comes from a random.Random seeded by (run seed, request number), so a seed
replays the same answers in the same order (thread timing still varies).
"""

import json
import random
import threading
import time

import texts
from fake_http import Counter, Handler, json_type, serve


class Account:
    """What the provider answers for one account now; the scenario changes it."""

    def __init__(self, name, key):
        self.name = name
        self.key = key
        self.mode = "healthy"
        self.balance = "1000.00"
        self.message = b""
        self.blip = 0.0
        self.served = 0        # probes answered in this mode (blips left out)
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
            # A blip (a transient failure in a healthy or low mode) is not an answer of the
            # mode: the quiet phase waits for real ones, since a failed probe rightly keeps
            # the alert state (two blips in a row left balance alerts firing once in ~20 runs).
            if mode in ("healthy", "low") and rng.random() < blip:
                mode = "failing"
            else:
                account.served += 1
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
            return self.answer(302, b"", [("Location", fake.other_origin_url + "/stolen/" + account.name)])
        if kind == "redirect_loop":
            again = "/acct/%s/user/balance?again=%d" % (account.name, rng.randint(0, 9))
            return self.answer(302, b"", [("Location", again)])
        if kind == "client_error":
            return self.answer(rng.choice([400, 404, 422]), texts.error_envelope(rng, texts.any_text(rng)))
        if kind == "empty":
            return self.answer(200, b"", json_type())
        if kind == "huge":
            return self.answer(200, b'{"is_available":true,"note":' + texts.json_string(texts.huge(rng)) + b"}")
        page = b"<html><body><h1>" + texts.any_text(rng)[:4096] + b"</h1></body></html>"
        return self.answer(rng.choice([200, 502]), page,
                           [("Content-Type", "text/html")])


def deepseek_body(rng, available, total):
    """The documented 200 body; amounts as strings (current docs) or numbers (older docs)."""
    def amount(value):
        return value if rng.random() < 0.8 else float(value)
    info = {"currency": "USD", "total_balance": amount(total), "granted_balance": amount("0.00"),
            "topped_up_balance": amount(total)}
    infos = [info]
    if rng.random() < 0.3:
        infos.append({"currency": "CNY", "total_balance": "7.10", "granted_balance": "0.00",
                      "topped_up_balance": "7.10"})
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
    def __init__(self, seed, other_origin_url, probe_timeout, echo_keys=True):
        self.seed = seed
        self.other_origin_url = other_origin_url
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
