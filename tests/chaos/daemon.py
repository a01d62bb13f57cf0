"""The real `creditwatch run` under test: its config, its process across SIGKILLs, its
HTTP outputs and a read-only view of its SQLite database."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error: |"
                              r"UndefinedBehaviorSanitizer")
SERVING = re.compile(r"serving HTTP on http://127\.0\.0\.1:(\d+)/")


def write_config(path, workdir, settings, accounts, sinks, secrets):
    """YAML by hand (stdlib only): every value we write is quoted JSON, which YAML reads as is.
    Secrets reach the daemon three ways, as users give them: inline ${VAR} from the
    environment, KEY_file, and plain values."""
    def q(value):
        return json.dumps(value, ensure_ascii=False)   # YAML reads raw UTF-8; not \ud83d surrogate escapes
    lines = [
        "storage:", "  path: %s" % q(os.path.join(workdir, "creditwatch.db")),
        "http:", "  listen: 127.0.0.1:0", "  auth_token_file: %s" % q(secrets.file("http-token")),
        "defaults:",
        "  interval: %dms" % settings.interval_ms,
        "  timeout: %dms" % settings.probe_timeout_ms,
        "alerting:",
        "  repeat_interval: %s" % settings.repeat_interval,
        "  send_resolved: true",
        "  retry_initial: %dms" % settings.retry_initial_ms,
        "  retry_max: %dms" % settings.retry_max_ms,
        "  dead_after: %ds" % settings.dead_after_s,
        "logging:", "  level: info",
        "accounts:",
    ]
    for i, account in enumerate(accounts):
        key_line = ("  api_key_file: %s" % q(secrets.file("key-" + account.name)) if i % 2 else
                    "  api_key: ${%s}" % secrets.env("key-" + account.name))
        lines += [
            "  - name: %s" % account.name, "    provider: deepseek", "  " + key_line,
            "    base_url: %s" % q(account.base_url), "    currency: USD",
            "    min_balance: %s" % q(account.min_balance),
            "    labels: { team: %s, region: %s }" % (q(account.label), q("ap-east-1")),
            "    notify: [%s]" % ", ".join(account.notify),
        ]
    hook, slack, pd = sinks
    lines += [
        "notifiers:",
        "  - name: %s" % hook.name, "    type: webhook", "    url: %s" % q(hook.url),
        "    secret: ${%s}" % secrets.env("hook-secret"),
        "    headers: { Authorization: %s }" % q("Bearer ${%s}" % secrets.env("hook-token")),
        "  - name: %s" % slack.name, "    type: slack", "    webhook_url_file: %s" % q(secrets.file("slack-url")),
        "  - name: %s" % pd.name, "    type: pagerduty", "    routing_key: ${%s}" % secrets.env("pd-key"),
        "    url: %s" % q(pd.url), "    source: chaos",
    ]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


class Secrets:
    """Distinctive random secrets, each given to the daemon through a file or the environment."""

    def __init__(self, workdir, rng):
        self.dir = os.path.join(workdir, "secrets")
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.values = {}       # name -> secret, all scanned for
        self.whole = {}        # name -> a value holding a secret, written to a file only (the Slack URL)
        self.environ = {}
        self.rng = rng

    def make(self, name, prefix, length):
        """`prefix` and random letters and digits, `length` characters in all."""
        alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        core = "".join(self.rng.choice(alphabet) for _ in range(length - len(prefix)))
        self.values[name] = prefix + core
        return self.values[name]

    def file(self, name):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(self.values.get(name) or self.whole[name])
            f.write("\n")
        os.chmod(path, 0o600)
        return path

    def env(self, name):
        var = "CW_CHAOS_" + re.sub(r"[^A-Z0-9]", "_", name.upper())
        self.environ[var] = self.values[name]
        return var


class Daemon:
    def __init__(self, binary, config, workdir, environ, start_timeout):
        self.binary = binary
        self.config = config
        self.workdir = workdir
        self.environ = dict(os.environ, **environ)
        self.start_timeout = start_timeout
        self.process = None
        self.port = None
        self.incarnation = 0
        self.crashes = []     # (incarnation, what happened)
        self.kills = 0
        self.db_path = os.path.join(workdir, "creditwatch.db")

    def log_path(self, incarnation):
        return os.path.join(self.workdir, "daemon-%d.log" % incarnation)

    def validate(self):
        result = subprocess.run([self.binary, "validate", "-c", self.config], env=self.environ,
                                capture_output=True, text=True, errors="replace")
        if result.returncode != 0:
            raise RuntimeError("creditwatch validate rejected the chaos config:\n" + result.stdout + result.stderr)

    def start(self):
        self.incarnation += 1
        log = open(self.log_path(self.incarnation), "wb")
        self.process = subprocess.Popen([self.binary, "run", "-c", self.config], env=self.environ, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            match = SERVING.search(self.log_text(self.incarnation))
            if match:
                self.port = int(match.group(1))
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.check_alive()
        raise RuntimeError("daemon did not start serving HTTP within %ds; log: %s" %
                           (self.start_timeout, self.log_path(self.incarnation)))

    def check_alive(self):
        """A daemon that exited on its own during the run crashed, whatever its exit code."""
        code = self.process.poll() if self.process else None
        if code is not None and self.process is not None:
            self.crashes.append((self.incarnation, describe_exit(code) + " while running"))
            self.process = None
            return False
        return True

    def kill(self):
        if not self.check_alive():
            return
        self.process.send_signal(signal.SIGKILL)
        code = self.process.wait()
        if code != -signal.SIGKILL:
            self.crashes.append((self.incarnation, describe_exit(code) + " before our SIGKILL landed"))
        self.kills += 1
        self.process = None

    def terminate(self, timeout):
        if not self.check_alive():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self.crashes.append((self.incarnation, "did not exit within %ds of SIGTERM" % timeout))
            self.process = None
            return
        if code != 0:
            self.crashes.append((self.incarnation, describe_exit(code) + " on SIGTERM"))
        self.process = None

    def log_text(self, incarnation):
        with open(self.log_path(incarnation), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def unclean_lines(self):
        """Log lines that hold bytes a terminal or journald should not get from us: invalid
        UTF-8, or control characters other than tab (an ANSI escape from a provider)."""
        count, example = 0, None
        for incarnation in range(1, self.incarnation + 1):
            with open(self.log_path(incarnation), "rb") as f:
                for line in f:
                    line = line.rstrip(b"\n")
                    try:
                        text = line.decode("utf-8")
                        bad = any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in text)
                    except UnicodeDecodeError:
                        bad = True
                    if bad:
                        count += 1
                        example = example or line[:160]
        return count, example

    def logs(self):
        return [(i, self.log_text(i)) for i in range(1, self.incarnation + 1)]

    def sanitizer_reports(self):
        out = []
        for incarnation, text in self.logs():
            match = SANITIZER_REPORT.search(text)
            if match:
                out.append((incarnation, text[max(0, match.start() - 200):match.start() + 1500]))
        return out

    def get(self, path, token, timeout=10):
        """One of the daemon's HTTP outputs, or None if it did not answer (it may be restarting)."""
        if self.process is None or self.port is None:
            return None
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                         headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError, ValueError):
            return None


def describe_exit(code):
    if code < 0:
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exited with %d" % code


class Database:
    """Read-only view of the daemon's SQLite file (WAL mode: readers never block it)."""

    def __init__(self, path):
        self.path = path

    def query(self, sql, args=()):
        if not os.path.exists(self.path):
            return []
        for attempt in range(20):
            try:
                db = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=5)
                db.text_factory = lambda raw: raw.decode("utf-8", "replace")   # last_error holds sinks' bytes
                try:
                    return db.execute(sql, args).fetchall()
                finally:
                    db.close()
            except sqlite3.OperationalError as e:
                if attempt == 19:
                    raise
                last = e
                time.sleep(0.1)
        raise last

    def outbox(self, after_id=0):
        rows = self.query("SELECT id, created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, "
                          "last_error, delivered_ms FROM outbox WHERE id > ? ORDER BY id", (after_id,))
        return [OutboxRow(*r) for r in rows]

    def pending(self):
        return [OutboxRow(*r) for r in self.query(
            "SELECT id, created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error, "
            "delivered_ms FROM outbox WHERE state = 'pending' ORDER BY id")]

    def states(self):
        """Outbox rows per state: {'pending': n, 'delivered': n, 'dead': n}."""
        return dict(self.query("SELECT state, COUNT(*) FROM outbox GROUP BY state"))

    def alerts(self):
        return [dict(zip(("account", "rule", "state", "severity", "since_ms", "context"), r)) for r in
                self.query("SELECT account, rule, state, severity, since_ms, context FROM alerts")]


class OutboxRow:
    def __init__(self, id, created_ms, notifier, dedup_key, payload, attempts, next_attempt_ms, state, last_error,
                 delivered_ms):
        self.id, self.created_ms, self.notifier, self.dedup_key = id, created_ms, notifier, dedup_key
        self.attempts, self.next_attempt_ms, self.state = attempts, next_attempt_ms, state
        self.last_error, self.delivered_ms = last_error, delivered_ms
        try:
            body = json.loads(payload)
        except ValueError:
            body = {}
        self.status = body.get("status")
        self.reason = body.get("reason")
        self.severity = body.get("severity")
        self.ts_ms = body.get("ts_ms")
        self.rule = body.get("rule")
