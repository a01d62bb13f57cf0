#!/usr/bin/env python3
"""Sanity check of a set written by generate_traces_trend.py: does each trace say what it claims?

Per trace: the truth covers the trace and 60 days after it in 10-minute steps, demand and
true balance are never negative, the CSV never goes below 0 and its timestamps increase,
what the probes saw matches the true balance (exactly, or at the last hourly refresh), the
top-up policy shows (never: none; late: each after the money ran out; auto: recharges), and
the kind shows its property in the truth, for example a `growth` trace's week-over-week
spend ratio over its growth phase is 1.1-1.4.

Usage: check_traces_trend.py DIR   (exit status 1 and one line per failure if any check fails)
"""
import datetime as dt
import json
import math
import os
import statistics
import sys

STEP = 600
DAY = 86400
WEEK = 7 * DAY
FUTURE_DAYS = 60


def ts(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Trace:
    def __init__(self, directory, name):
        with open(os.path.join(directory, name + ".meta.json")) as f:
            self.meta = json.load(f)
        self.rows = []
        with open(os.path.join(directory, name + ".csv")) as f:
            next(f)
            for line in f:
                a, b = line.strip().split(",")
                self.rows.append((ts(a), float(b)))
        self.starts, self.demand, self.balance = [], [], []
        with open(os.path.join(directory, name + ".truth.csv")) as f:
            next(f)
            for line in f:
                s, d, b = line.rstrip("\n").split(",")
                self.starts.append(float(s))
                self.demand.append(float(d))
                if b:
                    self.balance.append(float(b))
        self.start = self.starts[0]

    def spend(self, a, b):
        """Demand between a and b seconds after the trace start (whole steps)."""
        return sum(self.demand[int(a // STEP):int(b // STEP)])

    def true_at(self, t):
        i = min(max(int((t - self.start) // STEP), 0), len(self.balance) - 1)
        frac = min(max((t - self.start - i * STEP) / STEP, 0.0), 1.0)
        return max(0.0, self.balance[i] - min(self.demand[i], self.balance[i]) * frac)


def weekly_ratio(tr, phase):
    """Week-over-week demand ratio over a growth phase: least-squares slope of log daily spend
    over its whole weeks (first to last week alone is too noisy with day-to-day noise)."""
    a = ts(phase["start"]) - tr.start
    end = min(ts(phase["end"]) - tr.start, len(tr.demand) * STEP)
    weeks = int((end - a) // WEEK)
    if weeks < 3:
        return None
    points = [(d, math.log(s)) for d in range(weeks * 7) if (s := tr.spend(a + d * DAY, a + (d + 1) * DAY)) > 0]
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return math.exp(7 * slope)


def calendar_factor(c, date):
    """The calendar multiplier the generator applies on a local date (1 for no calendar)."""
    if not c:
        return 1.0
    last = (date.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    f = 1.0
    if c["month_end"] and date.day > last.day - c["month_end"]["days"]:
        f *= c["month_end"]["factor"]
    if c["month_start"] and date.day <= c["month_start"]["days"]:
        f *= c["month_start"]["factor"]
    if c["campaign"] and 0 <= date.day - c["campaign"]["first_day"] < c["campaign"]["days"]:
        f *= c["campaign"]["factor"]
    if c["quarter_end"] and date.month % 3 == 0 and date.day > last.day - c["quarter_end"]["days"]:
        f *= c["quarter_end"]["factor"]
    return min(f, 10.0)


def plain_spend(tr, a, b):
    """Demand between a and b (seconds after the start) with the calendar divided out, step by step."""
    c, tz = tr.meta["calendar"], tr.meta["cycle"]["tz_hours"] * 3600
    if not c:
        return tr.spend(a, b)
    total = 0.0
    for i in range(int(a // STEP), int(b // STEP)):
        date = dt.datetime.fromtimestamp(tr.starts[i] + tz, dt.timezone.utc).date()
        total += tr.demand[i] / calendar_factor(c, date)
    return total


def check_kind(tr, fail):
    m, kind = tr.meta, tr.meta["kind"]
    if kind in ("growth", "decline", "boom_bust"):
        want = {"growth": [(1.1, 1.4)], "decline": [(0.6, 0.9)], "boom_bust": [(1.1, 1.4), (0.6, 0.9)]}[kind]
        for phase, (lo, hi) in zip(m["growth_phases"], want):
            r = weekly_ratio(tr, phase)
            if r is None:
                fail(f"{kind} phase {phase} shorter than 3 weeks")
            elif not (lo - 0.05 <= r <= hi + 0.05) or abs(math.log(r / phase["weekly_factor"])) > 0.08:
                fail(f"{kind}: week-over-week ratio {r:.3f}, meta {phase['weekly_factor']}, want {lo}-{hi}")
    if kind in ("regime", "whale"):
        steps = [ts(s["t"]) - tr.start for s in m["regime_steps"]]
        if kind == "regime" and not steps:
            fail("regime: no level step")
        horizon = len(tr.demand) * STEP
        for n, s in enumerate(m["regime_steps"]):
            t = steps[n]
            w = min([7 * DAY, t, horizon - t] + [abs(t - o) for o in steps if o != t])
            w = int(w // DAY) * DAY
            if w < DAY:
                continue
            r = plain_spend(tr, t, t + w) / max(plain_spend(tr, t - w, t), 1e-12)
            f = s["factor"]
            if not (2 <= max(f, 1 / f) <= 5) or not (0.6 * f <= r <= 1.6 * f):
                fail(f"{kind}: step at {s['t']} factor {f}, spend ratio {r:.2f} over {w / DAY:.0f} d")
    if kind == "seasonal" or (m["calendar"] and kind not in ("growth", "decline", "boom_bust")):
        check_calendar(tr, fail)
    if kind == "shared":
        services = m["services"]
        moved = [s for s in services if s["leave"] or ts(s["join"]) > tr.start]
        if len(services) < 4 or not moved:
            fail(f"shared: {len(services)} services, {len(moved)} joining or leaving")
        hours = [0.0] * 24
        for i, d in enumerate(tr.demand):
            hours[int(tr.starts[i] % DAY // 3600)] += d
        if max(hours) < 2 * min(hours):
            fail(f"shared: flat hour-of-day profile {min(hours):.2f}-{max(hours):.2f}")
    if kind == "hourly" or m["probes"]["refresh"]:
        r = m["probes"]["refresh"]
        changes = sum(1 for a, b in zip(tr.rows, tr.rows[1:]) if a[1] != b[1])
        hours = (tr.rows[-1][0] - tr.rows[0][0]) / 3600
        if r is None or changes > hours * 1.05 + 2 * len(m["topups"]) + 5:
            fail(f"hourly: {changes} balance changes in {hours:.0f} h")
    if kind == "autorecharge" and (m["topup_policy"] != "auto" or not m["topups"]):
        fail("autorecharge: no recharge")
    if kind == "tiny":
        daily = statistics.median(tr.spend(d * DAY, (d + 1) * DAY) for d in range(m["days"]))
        if m["wallet"]["initial_balance"] > 50 or daily > 2:
            fail(f"tiny: balance {m['wallet']['initial_balance']}, median day {daily:.2f}")
    if kind == "whale":
        daily = statistics.median(tr.spend(d * DAY, (d + 1) * DAY) for d in range(m["days"]))
        if m["wallet"]["initial_balance"] < 500 or daily < 30:
            fail(f"whale: balance {m['wallet']['initial_balance']}, median day {daily:.2f}")


def check_calendar(tr, fail):
    """Special days (month end/start, campaign, quarter end) spend their calendar factor times
    the level of the week around them (that week's spend with the calendar divided out)."""
    c = tr.meta["calendar"]
    tz = tr.meta["cycle"]["tz_hours"] * 3600
    seen, ratios = [], []
    days = len(tr.demand) * STEP // DAY
    for d in range(4, days - 4):
        a = (int((tr.start + tz) // DAY) + d) * DAY - tz - tr.start  # a whole local day
        date = dt.datetime.fromtimestamp(tr.start + a + tz, dt.timezone.utc).date()
        f = calendar_factor(c, date)
        level = plain_spend(tr, a - 3 * DAY, a + 4 * DAY) / 7
        if f > 1 and level > 0:
            seen.append(tr.spend(a, a + DAY) / level)
            ratios.append(seen[-1] / f)
    if not seen or statistics.median(seen) < 1.4 or not (0.7 <= statistics.median(ratios) <= 1.4):
        fail(f"calendar: special days spend {statistics.median(seen) if seen else None} times their week's "
             f"level, {statistics.median(ratios) if ratios else None} of the calendar factor")


def check_trace(tr):
    failures = []
    fail = failures.append
    m = tr.meta
    steps = m["days"] * DAY // STEP
    if len(tr.demand) != steps + FUTURE_DAYS * DAY // STEP or len(tr.balance) != steps:
        fail(f"truth has {len(tr.demand)} steps / {len(tr.balance)} balances, want {steps + FUTURE_DAYS * 144} / {steps}")
    if any(b - a != STEP for a, b in zip(tr.starts, tr.starts[1:])):
        fail("truth steps are not 600 s apart")
    if min(tr.demand) < 0 or min(tr.balance) < 0:
        fail("negative demand or true balance")
    if any(b < 0 for _, b in tr.rows) or any(b[0] <= a[0] for a, b in zip(tr.rows, tr.rows[1:])):
        fail("CSV balance below 0 or timestamps not increasing")
    refresh = m["probes"]["refresh"]
    worst = 0.0
    for t, b in tr.rows:
        seen = t
        if refresh:
            seen = (t - refresh["offset"]) // refresh["period"] * refresh["period"] + refresh["offset"] - refresh["lag"]
        worst = max(worst, abs(b - tr.true_at(seen)))
    if worst > 0.0051:
        fail(f"CSV differs from the true balance by up to {worst:.4f}")
    policy = m["topup_policy"]
    if policy == "never" and m["topups"]:
        fail("never: has top-ups")
    if policy == "late" and any(u["balance_before"] > 0 for u in m["topups"]):
        fail("late: a top-up before the money ran out")
    ex = [ts(e) for e in m["exhaustions"]]
    if ex != sorted(ex) or any(not (tr.start <= e <= tr.start + steps * STEP) for e in ex):
        fail("exhaustions out of order or outside the trace")
    check_kind(tr, fail)
    return failures


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    names = sorted(f[:-10] for f in os.listdir(directory) if f.endswith(".meta.json"))
    bad = 0
    for name in names:
        tr = Trace(directory, name)
        failures = check_trace(tr)
        m = tr.meta
        day = tr.spend(0, DAY)
        print(f"{name} {m['kind']:<12} {m['topup_policy']:<8} {m['days']:>3} d  balance {m['wallet']['initial_balance']:>9.2f}"
              f"  first day {day:>8.2f}  top-ups {len(m['topups']):>2}  exhaustions {len(m['exhaustions'])}"
              f"  {'ok' if not failures else 'FAIL'}")
        for f in failures:
            print(f"  {name}: {f}")
        bad += bool(failures)
    print(f"{len(names) - bad} of {len(names)} traces pass")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
