#!/usr/bin/env python3
"""Synthetic prepaid-balance traces with a known future, for scoring runway forecasts.

Each trace is a `timestamp,balance` CSV (what a probe would have seen: 10-minute samples,
some dropped, rounded to the cent, optionally a provider that refreshes its balance only
now and then) plus a truth file with the real spend demand for every 10-minute step of the
trace AND of the `--future-days` after it, so a scorer can compute the true runway at each
sample: the time until cumulative future demand exceeds the balance then, ignoring future
top-ups.

What the spend demand is made of (each trace draws its own mix from the seed):
  * a base level, log-uniform from cents to hundreds per day;
  * a daily cycle (sine or business hours) and a weekend dip;
  * a growth or decline trend;
  * level changes (a new customer, a model switch) at random times;
  * batch lumps: a nightly or weekly job, and random one-off bursts;
  * bursty keys: demand that comes in rare lumps rather than a trickle;
  * a leaked key: roughly 10x the level for some hours;
  * dormant starts: nothing spent for days, then sudden sustained use.
Balance: starts at some days of spend; top-ups come on time, late (after the money ran out)
or never; at zero the account stays at zero until a top-up (demand is lost).

Usage: generate_traces.py --out DIR [--count 20] [--seed 1] [--days 90] [--future-days 60]
Writes DIR/traceNN.csv, DIR/traceNN.truth.csv (ts,demand,true_balance per step),
DIR/traceNN.meta.json, and DIR/manifest.json. Deterministic for a given seed.
"""
import argparse
import datetime as dt
import json
import math
import os
import random

from trace_files import write_trace

STEP = 600  # seconds
START = int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp())


def rfc3339(ts):
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def round_amount(x):
    """A top-up a person would pay: two significant figures, rounded up."""
    if x <= 0:
        return 0.0
    mag = 10 ** (math.floor(math.log10(x)) - 1)
    return math.ceil(x / mag) * mag


def demand_path(rng, steps, kind):
    """Spend demand per 10-minute step, plus a description of what went in."""
    info = {"kind": kind}
    level = math.exp(rng.uniform(math.log(0.5), math.log(400)))  # per day
    if kind == "tiny":
        level = rng.uniform(0.3, 3.0)
    info["base_per_day"] = round(level, 4)
    daily_amp = rng.choice([0.0, rng.uniform(0.2, 0.9)])
    business = rng.random() < 0.4
    phase = rng.uniform(0, 24)
    weekend = rng.choice([1.0, rng.uniform(0.15, 0.8)])
    growth = rng.uniform(-0.006, 0.012) if kind != "growth" else rng.uniform(0.01, 0.025)
    noise_shape = 4.0
    if kind == "bursty":
        noise_shape = rng.uniform(0.03, 0.15)
    elif rng.random() < 0.3:
        noise_shape = rng.uniform(0.5, 2)
    info.update(daily_amp=daily_amp, business_hours=business, weekend=weekend, growth_per_day=growth,
                noise_shape=noise_shape)

    # Level changes: persistent multipliers from random times on.
    changes = []
    n_changes = rng.choice([0, 0, 1, 1, 2, 3]) if kind != "level" else rng.choice([1, 2])
    for _ in range(n_changes):
        at = rng.randrange(steps // 10, steps)
        factor = math.exp(rng.gauss(0, 0.7))
        if kind == "level":
            factor = rng.choice([rng.uniform(2, 5), rng.uniform(0.2, 0.5)])
        changes.append((at, factor))
    changes.sort()
    info["level_changes"] = [(rfc3339(START + a * STEP), round(f, 3)) for a, f in changes]

    # Dormant start: nothing for some days, then sudden use.
    dormant_until = rng.randrange(288, 288 * 20) if kind == "dormant" else 0
    info["dormant_until"] = rfc3339(START + dormant_until * STEP) if dormant_until else None

    # Leaked keys: ~10x level for 2-18 hours.
    leaks = []
    n_leaks = rng.choice([0, 0, 1]) if kind != "leak" else rng.choice([1, 2])
    for _ in range(n_leaks):
        at = rng.randrange(steps // 6, steps)
        leaks.append((at, at + rng.randrange(12, 108), rng.uniform(7, 14)))
    info["leaks"] = [(rfc3339(START + a * STEP), (b - a) * STEP / 3600, round(m, 1)) for a, b, m in leaks]

    # Batch: a nightly / weekly job at a fixed hour, in days-of-spend.
    batch = None
    if kind == "batch" or rng.random() < 0.25:
        batch = (rng.choice(["daily", "weekly"]), rng.randrange(0, 24), rng.uniform(0.3, 2.5))
    info["batch"] = batch
    burst_rate = rng.choice([0, 1 / 10, 1 / 4]) if kind != "batch" else 1 / 3  # per day
    info["random_bursts_per_day"] = burst_rate

    out = []
    mult = 1.0
    ci = 0
    for i in range(steps):
        while ci < len(changes) and changes[ci][0] <= i:
            mult *= changes[ci][1]
            ci += 1
        t = START + i * STEP
        days = (t - START) / 86400
        hour = (t % 86400) / 3600
        weekday = (t // 86400 + 3) % 7  # 1970-01-01 was a Thursday: 0=Mon
        if business:
            shape = 1 + daily_amp * (1.5 if 8 <= (hour + phase) % 24 < 18 else -0.6)
        else:
            shape = 1 + daily_amp * math.sin(2 * math.pi * (hour - phase) / 24)
        shape = max(shape, 0.05)
        if weekday >= 5:
            shape *= weekend
        rate = level * mult * shape * math.exp(growth * days)  # per day
        if i < dormant_until:
            rate *= 0.0
        mean = rate * STEP / 86400
        x = rng.gammavariate(noise_shape, mean / noise_shape) if mean > 0 else 0.0
        for a, b, m in leaks:
            if a <= i < b:
                x += mean * (m - 1) * rng.uniform(0.8, 1.2)
        if i >= dormant_until:
            daily_level = level * mult * math.exp(growth * days)
            if batch and int(hour) == batch[1] and (t % 3600) < STEP:
                if batch[0] == "daily" or weekday == 0:
                    x += daily_level * batch[2] * rng.uniform(0.7, 1.3)
            if burst_rate and rng.random() < burst_rate * STEP / 86400:
                x += daily_level * rng.uniform(0.5, 4)
        out.append(x)
    return out, info


def place_surge(rng, kind, demand, steps, balance, info):
    """Starts a sustained surge when the balance left lasts `lead` days at the surged rate."""
    factor = rng.uniform(3, 8) if kind == "jump" else rng.uniform(8, 25)
    lead = rng.uniform(0.25, 2.0)
    level = info["base_per_day"]
    cum = 0.0
    at = None
    for i in range(steps):
        cum += demand[i]
        lo = max(0, i - 144 * 3)
        recent = sum(demand[lo:i]) / max(1, i - lo) * 144 if i > 0 else level
        if i > 144 * 8 and balance - cum <= lead * factor * max(recent, 0.3 * level):
            at = i
            break
    if at is None:
        at = rng.randrange(steps // 2, steps)
    for i in range(at, len(demand)):
        if kind == "jump":
            demand[i] *= factor
        else:
            demand[i] += level * (factor - 1) / 144 * rng.uniform(0.8, 1.2)
    info["surge"] = (rfc3339(START + at * STEP), round(factor, 1), round(lead, 2))


def simulate(rng, name, kind, days, future_days):
    steps = days * 144
    total = steps + future_days * 144
    demand, info = demand_path(rng, total, kind)
    surge_balance = None
    if kind in ("jump", "drain"):
        avg = sum(demand[: 144 * 7]) / 7 or info["base_per_day"]
        surge_balance = round_amount(avg * rng.uniform(20, 40))
        place_surge(rng, kind, demand, steps, surge_balance, info)

    policy = kind if kind in ("never", "late", "ontime") else rng.choice(["ontime", "ontime", "late", "mixed", "never"])
    if kind in ("jump", "drain"):
        policy = "late"
    info["topup_policy"] = policy
    avg7 = sum(demand[: 144 * 7]) / 7 or info["base_per_day"]
    balance = round_amount(avg7 * rng.uniform(8, 35))
    if kind == "dormant":
        balance = round_amount(info["base_per_day"] * rng.uniform(8, 25))
    if surge_balance is not None:
        balance = surge_balance
    balance_true = balance
    trigger_days = rng.uniform(2, 8)
    pending = None  # (step at which the top-up lands, amount)
    topups = []
    exhaustions = []
    true_balances = []
    window = []
    wsum = 0.0
    for i in range(steps):
        spend = min(demand[i], balance_true)
        if balance_true > 0 and demand[i] >= balance_true:
            exhaustions.append(START + (i + 1) * STEP)
        balance_true -= spend
        if balance_true < 1e-9:
            balance_true = 0.0
        window.append(demand[i])
        wsum += demand[i]
        if len(window) > 144 * 7:
            wsum -= window.pop(0)
        rate = wsum / (len(window) / 144)
        if pending and pending[0] <= i:
            balance_true += pending[1]
            topups.append((rfc3339(START + i * STEP), pending[1]))
            pending = None
        if pending is None and rate > 0 and i > 144:
            this = policy if policy != "mixed" else rng.choice(["ontime", "late", "never_once"])
            runway = balance_true / rate
            amount = round_amount(rate * rng.uniform(10, 40))
            if this == "ontime" and runway < trigger_days:
                pending = (i + rng.randrange(1, 72), amount)
            elif this == "late" and balance_true <= 0:
                pending = (i + rng.randrange(6, 144 * 4), amount)
            elif this == "never_once" and balance_true <= 0:
                pending = (i + rng.randrange(144 * 3, 144 * 10), amount)
        true_balances.append(balance_true)

    # What the probe saw: cents, drops, outages, a provider that refreshes lazily.
    drop_p = rng.choice([0.0, 0.01, 0.03, 0.08])
    outages = [(rng.randrange(steps), rng.randrange(6, 72)) for _ in range(rng.choice([0, 1, 3]))]
    refresh_every = rng.choice([1, 1, 1, 3, 6])  # steps between balance refreshes
    info.update(drop_probability=drop_p, outages=len(outages), refresh_steps=refresh_every)
    rows = []
    shown = None
    for i in range(steps):
        if i % refresh_every == 0 or shown is None:
            shown = true_balances[i]
        if rng.random() < drop_p or any(a <= i < a + n for a, n in outages):
            continue
        rows.append((START + (i + 1) * STEP, round(shown + 1e-9, 2)))
    info["topups"] = topups
    info["exhaustions"] = [rfc3339(t) for t in exhaustions]
    return rows, demand, true_balances, info


KINDS = ["steady", "bursty", "batch", "leak", "level", "growth", "dormant", "tiny", "never", "late", "ontime", "jump",
         "drain"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--future-days", type=int, default=60)
    ap.add_argument("--epoch", action="store_true", help="write unix seconds instead of RFC 3339")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    for n in range(args.count):
        rng = random.Random(args.seed * 100003 + n)
        kind = KINDS[n % len(KINDS)]
        name = f"trace{n:02d}"
        rows, demand, true_balances, info = simulate(rng, name, kind, args.days, args.future_days)
        write_trace(args.out, name, rows, demand, true_balances, info, START, STEP,
                    (lambda ts: ts) if args.epoch else rfc3339)
        manifest.append({"name": name, "kind": info["kind"], "policy": info["topup_policy"]})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"seed": args.seed, "days": args.days, "future_days": args.future_days, "step_seconds": STEP,
                   "traces": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
