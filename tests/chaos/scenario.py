"""What happens during a chaos run, in order: the chaos phase (accounts flip between provider
states, sinks change weather, the daemon is SIGKILLed and restarted on the same database),
then the quiet phase (sinks answer 2xx, every account is driven through each controlled
alert and left in a definitive final state, the outbox drains). Meanwhile the outbox is
watched for rows pending past dead_after and the daemon's HTTP outputs are collected for
the secret scan."""

import time

import checker
import texts

# Provider states an account flips between during chaos (weights). `failing` answers every
# probe with some failure (5xx, 429, garbage, timeouts, resets, redirects...), so `stale`
# fires after three intervals; healthy and low answers fail now and then too.
CHAOS_STATES = {"healthy": 30, "low": 15, "exhausted": 12, "key_invalid": 12, "failing": 15, "dry": 4,
                "unavailable": 4}
SINK_WEATHER = {"good": 60, "flaky": 25, "down": 8, "throttled": 7}
# Accounts routed to Slack (1 message/s) or PagerDuty (2 events/s) flip this much slower, so
# those sinks' own pace keeps up and a backlog there is a finding, not a given.
PACED_SINKS = ("slack", "pd")
PACED_SLOWDOWN = 4
BLIP = 0.05
FINAL_STATES = ["healthy", "exhausted", "key_invalid", "low"]
QUIET_MESSAGE_LIMIT = 512 * 1024


class AccountPlan:
    def __init__(self, name, key, base_url, notify, label):
        self.name = name
        self.key = key
        self.base_url = base_url
        self.notify = notify
        self.label = label
        self.min_balance = "100.00"
        self.next_change = 0.0
        self.slowdown = PACED_SLOWDOWN if any(sink in notify for sink in PACED_SINKS) else 1


def healthy_balance(rng):
    return "%.2f" % rng.uniform(950, 1050)


def low_balance(rng):
    return "%.2f" % rng.uniform(1, 90)


class Scenario:
    def __init__(self, settings, rng, provider, sinks, daemon, database, token, collect_output):
        self.s = settings
        self.rng = rng
        self.provider = provider
        self.sinks = sinks
        self.daemon = daemon
        self.db = database
        self.token = token
        self.collect_output = collect_output   # (where, text) -> None: scanned for secrets
        self.accounts = []
        self.rows = {}          # outbox rows by id, as last read (kept when the daemon deletes one)
        self.kill_times = []
        self.overdue = {}       # row id -> Violation
        self.finals = {}
        self.quiet_timeouts = []
        self.log = settings.log

    # --- chaos ---------------------------------------------------------------------------

    def flip(self, account, now):
        state = self.rng.choices(list(CHAOS_STATES), list(CHAOS_STATES.values()))[0]
        self.set_state(account, state)
        account.next_change = now + self.rng.uniform(*self.s.phase_seconds) * account.slowdown

    def set_state(self, account, state, limit=None):
        """`limit` caps the provider's message: over the daemon's 1 MiB response cap a 401 or
        402 is unreadable, so the quiet phase (which expects its alert) keeps below it."""
        message = texts.any_text(self.rng)[:limit]
        if state == "healthy":
            self.provider.set_mode(account.name, "healthy", healthy_balance(self.rng), blip=self.s.blip)
        elif state == "low":
            self.provider.set_mode(account.name, "low", low_balance(self.rng), blip=self.s.blip)
        elif state == "unavailable":
            self.provider.set_mode(account.name, "unavailable", low_balance(self.rng))
        else:
            self.provider.set_mode(account.name, state, message=message)

    def change_weather(self, sink, now):
        sink.weather = self.rng.choices(list(SINK_WEATHER), list(SINK_WEATHER.values()))[0]
        sink.next_change = now + self.rng.uniform(3, 10)

    def chaos(self):
        start = time.monotonic()
        # --seconds: --kills at random times; --lifecycles: one every 60-120 s.
        kills = [] if self.s.lifecycles else sorted(start + self.rng.uniform(0.1, 0.9) * self.s.seconds
                                                    for _ in range(self.s.kills))
        next_kill = start + self.rng.uniform(*self.s.kill_every) if self.s.lifecycles else None
        for account in self.accounts:
            self.flip(account, start)
        for sink in self.sinks:
            self.change_weather(sink, start)
        next_poll = next_scrape = next_report = start
        while True:
            now = time.monotonic()
            if self.done(now - start):
                break
            for account in self.accounts:
                if now >= account.next_change:
                    self.flip(account, now)
            for sink in self.sinks:
                if now >= sink.next_change:
                    self.change_weather(sink, now)
            if kills and now >= kills[0]:
                kills.pop(0)
                self.kill_and_restart()
            if next_kill and now >= next_kill:
                self.kill_and_restart()
                next_kill = now + self.rng.uniform(*self.s.kill_every)
            if not self.daemon.check_alive():
                self.log("daemon exited on its own; restarting it")
                self.daemon.start()
            if now >= next_poll:
                self.poll()
                next_poll = now + 2
            if now >= next_scrape:
                self.scrape()
                next_scrape = now + 7
            if now >= next_report:
                self.log("chaos %4.0fs: %s" % (now - start, self.progress()))
                next_report = now + 30
            time.sleep(0.1)

    def done(self, elapsed):
        if self.s.lifecycles:
            return self.lifecycles() >= self.s.lifecycles or elapsed >= self.s.max_seconds
        return elapsed >= self.s.seconds

    def kill_and_restart(self):
        self.kill_times.append(time.time())
        self.daemon.kill()
        time.sleep(self.rng.uniform(0, 0.5))
        self.daemon.start()

    # --- watching the daemon ------------------------------------------------------------

    def poll(self):
        last = max(self.rows, default=0)
        for row in self.db.outbox(last):
            self.rows[row.id] = row
        pending = self.db.pending()
        for row in pending:
            self.rows[row.id] = row
        now_ms = int(time.time() * 1000)
        for v in checker.overdue(pending, now_ms, self.s.overdue_limit_ms):
            row_id = int(v.text.split()[1])
            self.overdue.setdefault(row_id, v)

    def refresh_rows(self):
        """The final state of every row (a deleted row keeps the state it was last seen in)."""
        for row in self.db.outbox(0):
            self.rows[row.id] = row
        return [self.rows[i] for i in sorted(self.rows)]

    def lifecycles(self):
        return len({(r.dedup_key, r.ts_ms) for r in self.rows.values() if r.status == "resolved"})

    def progress(self):
        states = self.db.states()
        return "%d lifecycles, %d rows, %d pending, %d dead, %d kills" % (
            self.lifecycles(), sum(states.values()), states.get("pending", 0), states.get("dead", 0),
            len(self.kill_times))

    def scrape(self):
        paths = ["/metrics", "/api/v1/accounts", "/"]
        account = self.rng.choice(self.accounts)
        paths.append("/api/v1/accounts/%s/samples" % account.name)
        for path in paths:
            text = self.daemon.get(path, self.token)
            if text is not None:
                self.collect_output("GET " + path, text)

    # --- quiet ----------------------------------------------------------------------------

    def quiet(self, inject=None):
        """Sinks answer 2xx; each account goes through key_invalid, exhausted and
        min_balance, stale, healthy (so each of those alerts changes state here, after any
        chaos dead letter) and ends in a random final state; then the outbox drains."""
        for sink in self.sinks:
            sink.weather = "perfect"
        interval = self.s.interval_ms / 1000.0
        stale_wait = 3 * interval + 2 * interval
        steps = [("key_invalid", 2, 0), ("unavailable", 2, 0), ("down", 3, stale_wait), ("healthy", 2, 0)]
        for state, probes, seconds in steps:
            for account in self.accounts:
                self.set_state(account, state, QUIET_MESSAGE_LIMIT)
            self.wait_served(state, probes, seconds)
        if inject == "drop-final":
            self.sinks[0].drop_silently = True
        for account in self.accounts:
            self.finals[account.name] = self.rng.choice(FINAL_STATES)
            self.set_state(account, self.finals[account.name], QUIET_MESSAGE_LIMIT)
        self.wait_served("final", 3, 0)
        self.drain()
        self.scrape()

    def wait_served(self, label, probes, seconds):
        deadline = time.monotonic() + self.s.step_timeout
        while time.monotonic() < deadline:
            served = [self.provider.served(a.name) for a in self.accounts]
            if all(n >= probes and elapsed >= seconds for n, elapsed in served):
                return
            self.poll()
            time.sleep(0.2)
        self.quiet_timeouts.append("quiet step %s: not every account was probed %d times within %ds" % (
            label, probes, self.s.step_timeout))

    def drain(self):
        """Wait until nothing is pending and the alert state has settled."""
        deadline = time.monotonic() + self.s.drain_timeout
        quiet_since = None
        while time.monotonic() < deadline:
            count = len(self.rows)
            self.poll()
            settled = not self.db.pending() and len(self.rows) == count
            if settled:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 3 * self.s.interval_ms / 1000.0 + 1:
                    return
            else:
                quiet_since = None
            time.sleep(0.5)
        self.quiet_timeouts.append("outbox still has %d pending rows %ds into the quiet phase" % (
            len(self.db.pending()), self.s.drain_timeout))
