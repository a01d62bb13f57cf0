#!/usr/bin/env python3
"""A second, independently built trace generator, so the forecaster is not tuned to one.

Where generate_traces.py draws a smooth demand rate and adds gamma noise per 10-minute step,
this one builds spend from individual requests (a Poisson stream whose rate follows the hour
and the day, each request costing a heavy-tailed amount), and shapes accounts after kinds of
users rather than ingredients:

  bots        business-hours bots in some time zone, quiet weekends and holidays
  lumpy       few, expensive requests (long-context calls): Pareto-sized lumps
  growth      multi-week adoption curve (logistic), then a plateau
  decline     slow decline (a project winding down)
  holiday     a week or two of near silence in the middle, then back to work
  jump        a sustained 3-5x level change (a new customer) some hours to two days before
              the money would run out at the new level
  drain       a leaked key that keeps spending at 5-30x until the account is dry
  autorecharge top-ups of random size at random times (a card charged now and then,
              sometimes only a few days' worth)
  hourly      a provider that refreshes the balance once an hour, with lag
  mixed       a bit of everything

Probes: every 5, 10 or 15 minutes with jitter of a few seconds, dropped probes, outages,
balances rounded to the cent (some providers to 0.1). Top-ups: random sizes and timing,
some arrive days late, some accounts are refilled by an auto-recharge when under a
threshold. At zero the account stays at zero until a top-up.

Outputs the same files as generate_traces.py (traceNN.csv, traceNN.truth.csv with a 5-minute
step, traceNN.meta.json with kind, topup_policy and exhaustions, manifest.json), so score.py
scores them unchanged.

Usage: generate_traces_alt.py --out DIR [--count 20] [--seed 1] [--days 75] [--future-days 60]
"""
import argparse
import datetime as dt
import json
import math
import os
import random

from trace_files import write_trace

STEP = 300  # truth resolution, seconds
START = int(dt.datetime(2025, 3, 3, tzinfo=dt.timezone.utc).timestamp())  # a Monday
KINDS = ["bots", "lumpy", "growth", "decline", "holiday", "jump", "drain", "autorecharge", "hourly", "mixed"]


def rfc3339(ts):
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pay_amount(rng, x):
    """What a person pays: a round figure near x."""
    if x <= 0:
        return 10.0
    choices = [5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000]
    return float(min(choices, key=lambda c: abs(math.log(c / x))) if rng.random() < 0.7 else round(x, 0) or 5)


class Profile:
    """The mean spend per day at a time, before request-level randomness."""

    def __init__(self, rng, kind, steps):
        self.level = math.exp(rng.uniform(math.log(1.0), math.log(800)))
        self.tz = rng.choice([-8, -5, 0, 1, 5.5, 8, 9])
        self.workday = kind == "bots" or rng.random() < 0.5
        self.night = rng.uniform(0.02, 0.3) if self.workday else rng.uniform(0.4, 0.9)
        self.weekend = rng.uniform(0.05, 0.4) if self.workday else rng.uniform(0.6, 1.1)
        self.holidays = set()
        if kind in ("bots", "mixed") or rng.random() < 0.2:
            for _ in range(rng.choice([1, 2])):
                d = rng.randrange(10, steps * STEP // 86400)
                self.holidays.update(range(d, d + rng.choice([1, 1, 2, 4])))
        if kind == "holiday":
            d = rng.randrange(20, max(21, steps * STEP // 86400 - 30))
            self.holidays.update(range(d, d + rng.randrange(5, 15)))
        self.growth = None
        if kind == "growth":
            self.growth = (rng.uniform(10, 40), rng.uniform(3, 10), rng.uniform(3, 12))  # midpoint day, width, factor
        self.decline = rng.uniform(0.01, 0.03) if kind == "decline" else 0.0
        self.changes = []  # (step, factor)
        if kind == "mixed" or rng.random() < 0.3:
            for _ in range(rng.choice([1, 2])):
                self.changes.append((rng.randrange(steps // 8, steps), math.exp(rng.gauss(0, 0.6))))
        self.changes.sort()

    def rate(self, step):
        t = START + step * STEP
        local = t + self.tz * 3600
        day = int(local // 86400 - START // 86400)
        hour = (local % 86400) / 3600
        weekday = (local // 86400 + 3) % 7
        r = self.level
        if self.workday:
            r *= 1.0 if 8 <= hour < 19 else self.night
        else:
            r *= 1 + (1 - self.night) * math.sin(2 * math.pi * (hour - 9) / 24)
        if weekday >= 5:
            r *= self.weekend
        if day in self.holidays:
            r *= 0.03
        d = step * STEP / 86400
        if self.growth:
            mid, width, factor = self.growth
            r *= 1 + (factor - 1) / (1 + math.exp(-(d - mid) / width))
        r *= math.exp(-self.decline * d)
        for at, f in self.changes:
            if step >= at:
                r *= f
        return max(r, 0.0)


def request_spend(rng, mean, lumpy):
    """Spend of one 5-minute step: Poisson requests with heavy-tailed cost."""
    if mean <= 0:
        return 0.0
    if lumpy:
        cost = mean * rng.uniform(20, 400)  # a few big requests a day
    else:
        cost = mean / rng.uniform(3, 40)  # many small ones per step
    n = poisson(rng, mean / cost)
    total = 0.0
    for _ in range(n):
        # Pareto with alpha 1.6, scaled to mean `cost`.
        alpha = 1.6
        total += cost * (alpha - 1) / alpha * (1 - rng.random()) ** (-1 / alpha)
    return total


def poisson(rng, lam):
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    l, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= l:
            return k
        k += 1


def build(rng, kind, days, future_days):
    steps = days * 288
    total = steps + future_days * 288
    prof = Profile(rng, kind, steps)
    lumpy = kind == "lumpy" or (kind == "mixed" and rng.random() < 0.5)
    demand = [request_spend(rng, prof.rate(i) * STEP / 86400, lumpy) for i in range(total)]
    info = {"kind": kind, "level_per_day": round(prof.level, 3), "tz": prof.tz, "workday": prof.workday,
            "holidays": sorted(prof.holidays), "growth": prof.growth, "decline": prof.decline,
            "changes": [(rfc3339(START + a * STEP), round(f, 3)) for a, f in prof.changes], "lumpy": lumpy}
    # Occasional short leaks that stop by themselves (someone notices).
    if rng.random() < 0.3 or kind == "mixed":
        a = rng.randrange(steps // 5, steps)
        n, m = rng.randrange(12, 200), rng.uniform(4, 15)
        for i in range(a, min(total, a + n)):
            demand[i] += prof.level * m * STEP / 86400 * rng.uniform(0.5, 1.5)
        info["short_leak"] = (rfc3339(START + a * STEP), n * STEP / 3600, round(m, 1))
    return prof, demand, info


def avg_rate(demand, i, span=288 * 7):
    lo = max(0, i - span)
    return sum(demand[lo:i]) / max(1, (i - lo)) * 288


def place_surge(rng, kind, prof, demand, steps, start_balance):
    """For `jump` and `drain`: a surge timed so that the money runs out hours to two days later."""
    cum, at = 0.0, None
    m = rng.uniform(3, 5) if kind == "jump" else rng.uniform(5, 30)
    lead_days = rng.uniform(0.25, 2.0)
    # The surge starts once the balance left is about `lead_days` at the surged rate.
    for i in range(steps):
        cum += demand[i]
        left = start_balance - cum
        if i > 288 * 8 and left <= lead_days * m * max(prof.level * 0.3, avg_rate(demand, i)):
            at = i
            break
    if at is None:
        at = rng.randrange(steps // 2, steps)
    for i in range(at, len(demand)):
        if kind == "jump":
            demand[i] *= m
        else:
            demand[i] += prof.level * (m - 1) * STEP / 86400 * rng.uniform(0.7, 1.3)
    return at, m


def simulate(rng, kind, days, future_days):
    prof, demand, info = build(rng, kind, days, future_days)
    steps = days * 288
    week = sum(demand[:288 * 7]) / 7 or prof.level
    balance = pay_amount(rng, week * rng.uniform(10, 45))
    if kind in ("jump", "drain"):
        balance = pay_amount(rng, week * rng.uniform(20, 40))
        at, m = place_surge(rng, kind, prof, demand, steps, balance)
        info["surge"] = (rfc3339(START + at * STEP), round(m, 1))
    policy = {"autorecharge": "auto", "jump": "late", "drain": "late"}.get(
        kind, rng.choice(["ontime", "late", "random", "never", "auto", "small"]))
    info["topup_policy"] = policy
    threshold_days = rng.uniform(1, 6)
    exhaustions, topups, true_balances = [], [], []
    pending = None
    next_random = rng.randrange(288 * 3, 288 * 20)
    for i in range(steps):
        if balance > 0 and demand[i] >= balance:
            exhaustions.append(START + (i + 1) * STEP)
        balance = max(0.0, balance - demand[i])
        if balance < 1e-9:
            balance = 0.0
        if pending and pending[0] <= i:
            balance += pending[1]
            topups.append((rfc3339(START + i * STEP), pending[1]))
            pending = None
        if pending is None and i % 12 == 0 and i > 288:
            rate = avg_rate(demand, i) or prof.level
            if policy == "ontime" and balance < rate * threshold_days:
                pending = (i + rng.randrange(1, 288), pay_amount(rng, rate * rng.uniform(10, 40)))
            elif policy == "late" and balance <= 0:
                pending = (i + rng.randrange(12, 288 * 3), pay_amount(rng, rate * rng.uniform(10, 40)))
            elif policy == "auto" and balance < rate * threshold_days:
                # A card charged for a random amount, sometimes only a few days' worth.
                pending = (i + rng.randrange(1, 24), pay_amount(rng, rate * rng.uniform(2, 30)))
            elif policy == "small" and balance < rate * threshold_days * 0.5:
                pending = (i + rng.randrange(1, 288 * 2), pay_amount(rng, rate * rng.uniform(1.5, 6)))
            elif policy == "random" and i >= next_random:
                pending = (i + 1, pay_amount(rng, rate * rng.uniform(3, 30)))
                next_random = i + rng.randrange(288 * 5, 288 * 25)
        true_balances.append(balance)

    probe_every = rng.choice([1, 2, 2, 3])  # 5, 10, 10 or 15 minutes
    refresh = 12 if kind == "hourly" else rng.choice([1, 1, 1, 1, 6])  # balance refresh, steps
    lag = rng.randrange(0, 3) if refresh > 1 else 0
    drop_p = rng.choice([0.0, 0.005, 0.02, 0.1])
    outages = [(rng.randrange(steps), rng.randrange(12, 288)) for _ in range(rng.choice([0, 0, 1, 2]))]
    cents = 0.1 if rng.random() < 0.1 else 0.01
    info.update(probe_minutes=probe_every * 5, refresh_minutes=refresh * 5, drop_probability=drop_p,
                outages=len(outages), rounding=cents)
    rows, shown = [], None
    for i in range(0, steps, probe_every):
        if i % refresh == 0 or shown is None:
            shown = true_balances[max(0, i - lag)]
        if rng.random() < drop_p or any(a <= i < a + n for a, n in outages):
            continue
        ts = START + (i + 1) * STEP + rng.randrange(0, 20)
        rows.append((ts, math.floor(shown / cents + 1e-9) * cents))
    info["topups"] = topups
    info["exhaustions"] = [rfc3339(t) for t in exhaustions]
    return rows, demand, true_balances, info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=int, default=75)
    ap.add_argument("--future-days", type=int, default=60)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    for n in range(args.count):
        rng = random.Random(f"alt-{args.seed}-{n}")
        kind = KINDS[n % len(KINDS)]
        name = f"trace{n:02d}"
        rows, demand, true_balances, info = simulate(rng, kind, args.days, args.future_days)
        write_trace(args.out, name, rows, demand, true_balances, info, START, STEP, rfc3339)
        manifest.append({"name": name, "kind": kind, "policy": info["topup_policy"]})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"generator": "alt", "seed": args.seed, "days": args.days, "future_days": args.future_days,
                   "step_seconds": STEP, "traces": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
