#!/usr/bin/env python3
"""Chaos suite: the real `creditwatch run` against providers and sinks that misbehave at
random, killed with SIGKILL now and then, then checked against the alert path's promises.

    tests/chaos/chaos.py --binary build/src/creditwatch                 # 60 s, random seed
    tests/chaos/chaos.py --binary ... --seed 1414 --seconds 60          # what ctest runs
    tests/chaos/chaos.py --binary ... --lifecycles 10000                # the long run
    tests/chaos/chaos.py --self-test                                    # the checker, broken on purpose
    tests/chaos/chaos.py --binary ... --inject drop-final --expect-violations

Invariants (checker.py), each a violation that fails the run:
  final state   every alert whose final state is firing or resolved is the last thing each
                routed sink applied for its dedup key (the sole excuse: that row is a dead
                letter because the sink itself refused it during chaos);
  causal order  per sink and dedup key, applied notifications follow the order the alert
                changed; a repeat only with a SIGKILL between the two receipts ("once");
  dead_after    no row stays pending longer than dead_after plus the longest wait the
                daemon may add (below), and none is pending once the quiet phase ends;
  alert state   the daemon's alerts agree with the provider's last answer (a 401 or 402
                with any text still raises key_invalid or exhausted);
  crash         the daemon never exits but by our SIGKILL, never prints a sanitizer report,
                and exits 0 on the final SIGTERM;
  secret        no API key, webhook token or secret, Slack URL secret, routing key or HTTP
                token (distinctive random strings) in the daemon's stdout/stderr, /metrics,
                /api/v1/accounts, samples, the status page, or any sink's request body
                (PagerDuty's own routing_key excepted), nor 22+ characters of one;
  redirects     nothing ever reaches the other origin that cross-origin redirects point at;
  requests      every sink request is UTF-8 JSON of its vendor's shape with its credential.

Why it is built this way:
- Python 3 with the standard library only (http.server, sqlite3, subprocess, random): runs
  wherever ctest runs, nothing to install, and every fake is a few lines of the documented
  shape (shared/reference/providers.md, sinks.md) that can misbehave on purpose.
- One seed (printed first; --seed or CHAOS_SEED) fixes the schedule of provider states,
  sink weather and kills, and every answer a fake picks (each request's choices come from
  (seed, fake, request number)). Thread timing still varies, so a replay is close, not
  identical; a failure prints its seed and the command to rerun it.
- Time-bounded by default (--seconds, 60 for ctest) so the ASan build takes the same
  wall time, just fewer operations; --lifecycles N runs until N alerts have fired and
  resolved (the long run). Timeouts that wait on the daemon scale with --slow.
- The truth is the daemon's own database, read-only (WAL lets us read while it writes):
  the `alerts` table says what state every alert ended in, the `outbox` rows say what was
  queued for whom in which order. The fakes say what each sink applied. A sink applies a
  notification only when it answers 2xx, so every failure it injects must be retried.
- The quiet phase makes the final states definitive: sinks answer 2xx, and every account
  is driven through key_invalid (401), exhausted and min_balance (a 200 "unavailable" with
  a low balance), stale (503s for over three intervals) and healthy, then left in a random
  final state. Each of those alerts therefore changes state after the chaos, so a row
  dead-lettered during chaos cannot excuse a missing final state. runway and spend_spike
  follow the forecast and are not driven; if their final row died by a sink's refusal, that
  is counted as "excused" and listed with -v.
- Settings: interval 1 s (scaled by --interval-ms), probe timeout 1.5 s, retry_initial
  200 ms and repeat_interval 1m (the lowest the config accepts), retry_max 3 s, dead_after
  30 s. A row past dead_after becomes a dead letter at its next failed attempt, and only
  after three attempts in all (so a wall-clock jump cannot kill untried rows); each attempt
  may wait for PagerDuty's 30 s pause after a 429 without Retry-After and take the sinks'
  5 s request timeout. So a row pending past dead_after + 3 x 35 s + retry_max + a daemon
  restart (10 s) is a violation during chaos; after the quiet phase nothing may be pending.
- Load within capacity, so that a backlog is a finding and not a given: the webhook hears
  every account; PagerDuty (2 events/s) three accounts and Slack (1 message/s) one, and
  those accounts flip four times slower; sinks have good weather 60 % of the time. A sink's
  bad weather costs real throughput (a 429 pauses the whole sink, a timeout holds it 5 s).
  The long run (docs/benchmarks.md) keeps the webhook's load near a third of what it
  drains under chaos.
- Repeats around a SIGKILL: a request's arrival is when the fake took it up, which under
  load lags its send, so a kill up to 1 s before the first arrival still excuses a repeat.
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import checker  # noqa: E402  (after the line above, on purpose)
import daemon as daemon_module  # noqa: E402
import other_origin  # noqa: E402
import provider_fake  # noqa: E402
import scenario as scenario_module  # noqa: E402
import sink_fakes  # noqa: E402
import texts  # noqa: E402


class Settings:
    def __init__(self, args):
        self.seconds = args.seconds
        self.lifecycles = args.lifecycles
        self.max_seconds = args.max_seconds
        self.kills = args.kills
        self.kill_every = (60, 120)
        self.interval_ms = args.interval_ms
        self.probe_timeout_ms = int(args.interval_ms * 1.5)
        self.retry_initial_ms = 200
        self.retry_max_ms = 3000
        self.dead_after_s = 30
        self.repeat_interval = "1m"
        self.phase_seconds = (2 * args.interval_ms / 1000.0, 6 * args.interval_ms / 1000.0)
        self.blip = scenario_module.BLIP
        self.overdue_limit_ms = int((self.dead_after_s + 3 * (30 + 5) + 10 * args.slow) * 1000) + self.retry_max_ms
        self.step_timeout = int(30 * args.slow)
        self.drain_timeout = int(self.dead_after_s + 60 * args.slow)
        self.start_timeout = int(20 * args.slow)
        self.log = log


def log(text):
    print("chaos: " + text, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", help="the creditwatch binary to run")
    p.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", "0")) or None)
    p.add_argument("--seconds", type=float, default=float(os.environ.get("CHAOS_SECONDS", "60")),
                   help="length of the chaos phase (default 60, or $CHAOS_SECONDS)")
    p.add_argument("--lifecycles", type=int, default=0, help="run the chaos phase until this many alerts resolved")
    p.add_argument("--max-seconds", type=float, default=4 * 3600, help="cap of a --lifecycles run")
    p.add_argument("--accounts", type=int, default=20)
    p.add_argument("--kills", type=int, default=3, help="SIGKILLs in a --seconds run")
    p.add_argument("--interval-ms", type=int, default=1000, help="probe interval of every account")
    p.add_argument("--slow", type=float, default=float(os.environ.get("CHAOS_SLOW", "1")),
                   help="multiply waits on the daemon (e.g. 3 under ASan)")
    p.add_argument("--workdir", help="keep everything here (default: a temporary directory, removed on success)")
    p.add_argument("--inject", choices=["drop-final"], help="break a sink on purpose (the checker must catch it)")
    p.add_argument("--expect-violations", action="store_true", help="succeed only if violations are found")
    p.add_argument("--self-test", action="store_true", help="run the checker against broken histories and exit")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if not args.self_test and not args.binary:
        p.error("--binary is required")
    return args


class Run:
    """One chaos run: fakes, secrets, config, the daemon, the scenario, the verdict."""

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.settings = Settings(args)
        self.rng = random.Random(args.seed)
        self.violations = []
        self.scanned = set()
        self.secrets = daemon_module.Secrets(workdir, random.Random("%d:secrets" % args.seed))
        self.prefix_lens = {}
        self.recorder = sink_fakes.Recorder()
        self.recorder.scanner = self.scan
        self.other_origin = other_origin.OtherOrigin()
        self.provider = provider_fake.ProviderFake(args.seed, self.other_origin.url,
                                                   self.settings.probe_timeout_ms / 1000.0)
        self.make_sinks()
        self.accounts = self.make_accounts()
        config = os.path.join(workdir, "creditwatch.yaml")
        daemon_module.write_config(config, workdir, self.settings, self.accounts, self.sinks, self.secrets)
        self.daemon = daemon_module.Daemon(args.binary, config, workdir, self.secrets.environ,
                                           self.settings.start_timeout)
        self.db = daemon_module.Database(self.daemon.db_path)

    def secret(self, name, prefix, length):
        self.prefix_lens[name] = len(prefix)
        return self.secrets.make(name, prefix, length)

    def make_sinks(self):
        token = self.secret("hook-token", "hooktok-cwchaos-", 40)
        signing = self.secret("hook-secret", "hooksec-cwchaos-", 40)
        path_secret = self.secret("slack-path", "slackpath-cwchaos-", 42)
        routing_key = self.secret("pd-key", "pdkeycwchaos", 32)
        seed = self.args.seed
        self.sinks = [sink_fakes.WebhookSink("hook", seed, self.recorder, self.other_origin.url, token, signing),
                      sink_fakes.SlackSink("slack", seed, self.recorder, self.other_origin.url, path_secret),
                      sink_fakes.PagerDutySink("pd", seed, self.recorder, self.other_origin.url, routing_key)]
        self.secrets.whole["slack-url"] = self.sinks[1].url   # scanned for as slack-path
        self.http_token = self.secret("http-token", "httptok-cwchaos-", 40)

    def make_accounts(self):
        accounts = []
        for i in range(self.args.accounts):
            name = "acct-%02d" % i
            key = self.secret("key-" + name, "sk-cwchaos-", 43)
            self.provider.add(name, key)
            notify = ["hook", "slack", "pd"] if i == 0 else ["hook", "pd"] if i < 3 else ["hook"]
            label = self.rng.choice(texts.SENTENCES[:17])
            accounts.append(scenario_module.AccountPlan(name, key, "%s/acct/%s" % (self.provider.url, name), notify,
                                                        label))
        return accounts

    def scan(self, where, text, allowed=()):
        for v in checker.check_secrets([(where, text, allowed)], self.secrets.values, self.prefix_lens):
            if (where, v.text) not in self.scanned:   # once per place and secret, not per scrape
                self.scanned.add((where, v.text))
                self.violations.append(v)

    def run(self):
        self.daemon.validate()
        self.daemon.start()
        sc = scenario_module.Scenario(self.settings, self.rng, self.provider, self.sinks, self.daemon, self.db,
                                      self.http_token, self.scan)
        sc.accounts = self.accounts
        started = time.monotonic()
        sc.chaos()
        chaos_seconds = time.monotonic() - started
        log("chaos over after %.0fs (%s); quiet phase" % (chaos_seconds, sc.progress()))
        sc.quiet(self.args.inject)
        self.daemon.terminate(timeout=int(30 * self.args.slow))
        alerts = self.db.alerts()   # after the stop: nothing changes them any more
        rows = sc.refresh_rows()
        self.judge(sc, rows, alerts)
        return sc, rows, alerts, chaos_seconds, time.monotonic() - started

    def judge(self, sc, rows, alerts):
        events = list(self.recorder.events)
        routes = {a.name: a.notify for a in self.accounts}
        v = self.violations
        order, self.repeats_excused = checker.check_order(rows, events, sc.kill_times)
        final, self.finals_excused = checker.check_final_states(alerts, rows, events, routes)
        v += order + final + checker.check_last_rows(rows, events)
        v += checker.check_controlled_rules(alerts, sc.finals)
        v += list(sc.overdue.values())
        v += checker.overdue([r for r in rows if r.state == "pending" and r.id not in sc.overdue],
                             int(time.time() * 1000), 0)
        v += [checker.Violation("quiet", t) for t in sc.quiet_timeouts]
        v += [checker.Violation("crash", "incarnation %d %s" % c) for c in self.daemon.crashes]
        v += [checker.Violation("crash", "incarnation %d printed a sanitizer report:\n%s" % r)
              for r in self.daemon.sanitizer_reports()]
        for incarnation, text in self.daemon.logs():
            self.scan("daemon output (incarnation %d)" % incarnation, text)
        v += [checker.Violation("redirects", "the other origin received %s %s" % (m, p))
              for m, p, _, _ in self.other_origin.requests]
        for method, path, headers, body in self.other_origin.requests:
            self.scan("a request to the other origin", headers + "\n" + path + "\n" + body.decode("utf-8", "replace"))
        v += [checker.Violation("requests", "%s: %s" % p) for p in self.recorder.problems]
        v += [checker.Violation("requests", "provider: %s sent Authorization %r, not its key" % w)
              for w in self.provider.wrong_keys]

    def report(self, sc, rows, alerts, chaos_seconds, total_seconds):
        f = checker.figures(rows, self.recorder.events, self.daemon.kills, alerts)
        f["repeats excused by a SIGKILL"] = self.repeats_excused
        f["final states excused (sink refused them)"] = self.finals_excused
        f["chaos seconds"] = round(chaos_seconds)
        f["total seconds"] = round(total_seconds)
        f["violations"] = len(self.violations)
        log("seed %d, %d accounts, interval %d ms" % (self.args.seed, self.args.accounts, self.args.interval_ms))
        for name, value in f.items():
            log("  %-42s %s" % (name, value))
        answers = {}
        for (sink, outcome), n in sorted(self.recorder.outcomes.items()):
            answers.setdefault(sink, []).append("%s %d" % (outcome, n))
        for sink, parts in answers.items():
            log("  sink %-6s answers: %s" % (sink, ", ".join(parts)))
        log("  provider answers: %s" % ", ".join("%s %d" % kv for kv in sorted(self.provider.modes.items())))
        with open(os.path.join(self.workdir, "sink-events.jsonl"), "w") as out:
            out.writelines(json.dumps(e, sort_keys=True) + "\n" for e in self.recorder.events)
        with open(os.path.join(self.workdir, "violations.txt"), "w") as out:
            out.writelines("%r\n" % v for v in self.violations)
        unclean, example = self.daemon.unclean_lines()
        if unclean:
            log("  note (not an invariant): %d log lines carry invalid UTF-8 or control characters, e.g. %r" % (
                unclean, example))
        shown = self.violations if self.args.verbose else self.violations[:40]
        for violation in shown:
            log("VIOLATION %r" % violation)
        if len(shown) < len(self.violations):
            log("... and %d more (-v shows all)" % (len(self.violations) - len(shown)))
        return f

    def stop(self):
        for server in [self.provider, self.other_origin] + self.sinks:
            server.stop()


def main(argv):
    args = parse_args(argv)
    if args.self_test:
        import self_test
        return self_test.main()
    args.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1 << 31)
    length = "--lifecycles %d" % args.lifecycles if args.lifecycles else "--seconds %g" % args.seconds
    log("seed %d (rerun: %s --binary %s --seed %d %s --accounts %d --interval-ms %d)" % (
        args.seed, sys.argv[0], args.binary, args.seed, length, args.accounts, args.interval_ms))
    workdir = args.workdir or tempfile.mkdtemp(prefix="creditwatch-chaos-")
    os.makedirs(workdir, exist_ok=True)
    if os.listdir(workdir):
        log("--workdir %s is not empty: an old database would mix two runs" % workdir)
        return 2
    run = Run(args, workdir)
    try:
        result = run.run()
    except Exception:
        run.daemon.terminate(timeout=10) if run.daemon.process else None
        log("run aborted; files kept in " + workdir)
        raise
    finally:
        run.stop()
    run.report(*result)
    failed = bool(run.violations) != args.expect_violations
    if failed or args.workdir:
        log("files kept in " + workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.expect_violations:
        missed = "NONE FOUND: the checker missed the injected fault"
        log("expected violations: %s" % ("found" if run.violations else missed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
