#!/usr/bin/env python3
"""A fourth trace generator for the forecast benchmark: trends, regimes and calendars.

Written for issue #19 by someone who had read neither the forecaster nor the other three
generators, only the trace format (trace_files.py) and how score.py uses it. What it adds to
the other sets is spend that does not settle: compounding growth or decline of 10-40 % a
week for weeks, level changes of 2-5x that stay, month-end / month-start / campaign / quarter
spikes, keys shared by services that join and leave, and providers that refresh hourly.

Ten kinds of account (`--count 20` gives each twice), trace i gets KINDS[i % 10]:
  growth        compounding adoption, 10-40 %/week for 4-12 weeks, then a plateau
  decline       wind-down, 10-40 %/week for 4-12 weeks, then a floor
  boom_bust     growth for 3-6 weeks, then decline for 3-8 weeks
  regime        1-3 level steps of 2-5x up or down at random times (some after the trace)
  seasonal      month-end batch billing, month-start reporting, a monthly campaign, quarter ends
  shared        chatbot (daily cycle), nightly batch, weekday CI, bursty agent; join and leave
  hourly        provider refreshes the balance only hourly (a staircase, sometimes lagging)
  autorecharge  the provider recharges a fixed amount below a threshold; cards get declined
  tiny          a few dollars, cents a day, single requests, cent rounding dominates
  whale         thousands of dollars, hundreds a day, weekly cycle, a regime step or two
Every kind also has a daily and weekly cycle, day-to-day noise and per-step gamma (or, for
tiny, Poisson request) noise. Probes every 5-15 min with jitter, dropped probes, outages of
hours, rounding to 0.01; some non-hourly kinds also get an hourly-refreshing provider.
Top-ups: on time (when a human would see 2-5 days left, after a delay), late (hours to days
after zero), never, or auto-recharge. At zero the balance stays zero until a top-up; the
truth file's demand keeps going (it is what the account would spend) for the trace and the
60 days after it.

Output per trace (trace_files.write_trace): traceNN.csv, traceNN.truth.csv (10-minute steps
from the trace start, Unix seconds), traceNN.meta.json with the ingredients, `kind`,
`topup_policy`, `topups` and `exhaustions` (RFC 3339, the times the true balance hit zero).

Seeds: 1-6 are for tuning. Seeds 7 and 8 are HELD OUT: they were generated once only to
check that they run, never looked at or scored while writing this generator; keep them for
an honest check of forecaster changes.

Usage: generate_traces_trend.py --out DIR [--count 20] [--seed 1]
Check the output with check_traces_trend.py.
"""
import argparse
import calendar
import datetime as dt
import math
import os
import random

from trace_files import write_trace

STEP = 600
HOUR = 3600
DAY = 86400
WEEK = 7 * DAY
FUTURE_DAYS = 60
EPOCH = 1767225600  # 2026-01-01T00:00:00Z; each trace starts 0-330 days later
KINDS = ["growth", "decline", "boom_bust", "regime", "seasonal",
         "shared", "hourly", "autorecharge", "tiny", "whale"]


def format_ts(ts):
    return dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def nice_amount(x):
    """Round up to what a person types into a top-up form: 2 significant digits, at least 5."""
    x = max(x, 5.0)
    mag = 10 ** math.floor(math.log10(x))
    return math.ceil(x / mag * 2) / 2 * mag


# ---------------------------------------------------------------- shapes of a day and a week

class Cycle:
    """Daily and weekly cycle of one spender, mean about 1 over a week."""

    def __init__(self, rng, style=None):
        self.tz = rng.randint(-8, 9) * HOUR
        self.style = style or rng.choice(["sine", "business", "sine", "flat"])
        self.amp = rng.uniform(0.3, 0.9)
        self.peak = rng.uniform(10, 17)
        self.floor = rng.uniform(0.1, 0.4)
        self.weekend = rng.uniform(0.25, 1.0)
        business_mean = (10 + 14 * self.floor) / 24
        self.day_norm = business_mean if self.style == "business" else 1.0
        self.week_norm = (5 + 2 * self.weekend) / 7

    def describe(self):
        return {"style": self.style, "tz_hours": self.tz // HOUR, "weekend": round(self.weekend, 2)}

    def factor(self, t):
        local = t + self.tz
        hour = (local % DAY) / HOUR
        weekday = (int(local // DAY) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        if self.style == "sine":
            f = 1 + self.amp * math.cos(2 * math.pi * (hour - self.peak) / 24)
        elif self.style == "business":
            f = (1.0 if 8 <= hour < 18 else self.floor) / self.day_norm
        else:
            f = 1.0
        w = (self.weekend if weekday >= 5 else 1.0) / self.week_norm
        return f * w


# ---------------------------------------------------------------- trends

def trend_growth(rng, trace_end, sign, most=30):
    """Compounding change of 10-40 % a week from `start` for `weeks` (at most `most`x in all),
    flat before and after."""
    rate = rng.uniform(0.10, 0.40)
    weekly = 1 + rate if sign > 0 else 1 - rate
    weeks = min(rng.uniform(4, 12), math.log(most) / abs(math.log(weekly)))
    start = rng.uniform(0, max(DAY, trace_end - 4 * WEEK))
    return {"weekly_factor": round(weekly, 4), "start": start, "end": start + weeks * WEEK}


def growth_level(phases, t):
    level = 1.0
    for p in phases:
        span = min(max(t, p["start"]), p["end"]) - p["start"]
        level *= p["weekly_factor"] ** (span / WEEK)
    return level


def regime_steps(rng, trace_end, count):
    """Level steps of 2-5x that stay, at least 10 days apart, some after the trace end."""
    steps, level = [], 1.0
    t = rng.uniform(3 * DAY, 25 * DAY)
    while len(steps) < count and t < trace_end + 40 * DAY:
        up = level < 0.3 or (level < 4 and rng.random() < 0.5)
        factor = rng.uniform(2, 5) if up else 1 / rng.uniform(2, 5)
        level *= factor
        steps.append({"t": t, "factor": round(factor, 4)})
        t += rng.uniform(10 * DAY, 35 * DAY)
    return steps


def regime_level(steps, t):
    level = 1.0
    for s in steps:
        if t >= s["t"]:
            level *= s["factor"]
    return level


class Calendar:
    """Month-end batch billing, month-start reporting, a monthly campaign, quarter ends."""

    def __init__(self, rng, tz):
        self.tz = tz
        self.month_end = {"days": rng.randint(1, 2), "factor": round(rng.uniform(3, 8), 2)} if rng.random() < 0.8 else None
        self.month_start = {"days": rng.randint(1, 3), "factor": round(rng.uniform(2, 4), 2)} if rng.random() < 0.7 else None
        self.campaign = ({"first_day": rng.randint(5, 18), "days": rng.randint(3, 7), "factor": round(rng.uniform(1.5, 3), 2)}
                         if rng.random() < 0.6 else None)
        self.quarter_end = {"days": rng.randint(2, 5), "factor": round(rng.uniform(2, 4), 2)} if rng.random() < 0.7 else None
        if not (self.month_end or self.month_start or self.campaign):
            self.month_end = {"days": 1, "factor": 5.0}
        self._cache = {}

    def describe(self):
        return {"month_end": self.month_end, "month_start": self.month_start,
                "campaign": self.campaign, "quarter_end": self.quarter_end}

    def day_factor(self, t):
        """The calendar's multiplier and whether the day is a special one (for the checker)."""
        day_index = int((t + self.tz) // DAY)
        if day_index not in self._cache:
            self._cache[day_index] = self._compute(dt.date.fromordinal(719163 + day_index))
        return self._cache[day_index]

    def _compute(self, date):
        last = calendar.monthrange(date.year, date.month)[1]
        f = 1.0
        if self.month_end and date.day > last - self.month_end["days"]:
            f *= self.month_end["factor"]
        if self.month_start and date.day <= self.month_start["days"]:
            f *= self.month_start["factor"]
        c = self.campaign
        if c and c["first_day"] <= date.day < c["first_day"] + c["days"]:
            f *= c["factor"]
        q = self.quarter_end
        if q and date.month % 3 == 0 and date.day > last - q["days"]:
            f *= q["factor"]
        return min(f, 10.0)  # a quarter's last month-end is big, not 32x


# ---------------------------------------------------------------- services sharing one key

class Service:
    def __init__(self, rng, role, share, join, leave, horizon):
        self.role, self.share, self.join, self.leave = role, share, join, leave
        self.cycle = Cycle(rng, {"chatbot": "sine", "ci": "business"}.get(role, "flat"))
        if role == "ci":
            self.cycle.weekend = 0.05
            self.cycle.week_norm = (5 + 2 * 0.05) / 7
        self.batch_hour = rng.uniform(0, 5)
        self.batch_hours = rng.uniform(1, 3)
        self.bursts = []
        if role == "agent":
            t = join + rng.uniform(0, 2 * DAY)
            while t < min(leave, horizon):
                length = rng.uniform(1, 8) * HOUR
                self.bursts.append((t, t + length, rng.uniform(5, 20)))
                t += length + rng.uniform(0.5, 4) * DAY
        self.ci_busy = rng.uniform(0.3, 0.7)

    def describe(self, start):
        return {"role": self.role, "share": round(self.share, 3), "join": format_ts(start + self.join),
                "leave": format_ts(start + self.leave) if self.leave < 1e17 else None,
                "agent_bursts": len(self.bursts)}

    def factor(self, rng, rel, t):
        """Multiplier at `rel` seconds into the trace (joins, leaves, bursts) and Unix time `t` (clock)."""
        if not (self.join <= rel < self.leave):
            return 0.0
        if self.role == "batch":
            hour = ((t + self.cycle.tz) % DAY) / HOUR
            return 24 / self.batch_hours if self.batch_hour <= hour < self.batch_hour + self.batch_hours else 0.0
        if self.role == "agent":
            for a, b, mult in self.bursts:
                if a <= rel < b:
                    return mult
                if a > rel:
                    break
            return 0.3
        f = self.cycle.factor(t)
        if self.role == "ci":
            return f / self.ci_busy if rng.random() < self.ci_busy else 0.0
        return f


def make_services(rng, start, trace_end, horizon):
    roles = ["chatbot", "batch", "ci", "agent"]
    rng.shuffle(roles)
    roles += rng.sample(["chatbot", "batch", "agent"], rng.randint(0, 1))
    weights = [rng.uniform(0.3, 1.0) for _ in roles]
    total = sum(weights)
    services = []
    for n, (role, w) in enumerate(zip(roles, weights)):
        join = start if n < 2 else start + rng.uniform(5 * DAY, trace_end - start + 20 * DAY)
        leave = join + rng.uniform(10 * DAY, 90 * DAY) if rng.random() < 0.4 else 1e18
        services.append(Service(rng, role, w / total * len(roles) / 2, join, leave, horizon))
    return services


# ---------------------------------------------------------------- one account

def poisson(rng, lam):
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Account:
    def __init__(self, rng, kind, start, days):
        self.rng, self.kind, self.start, self.days = rng, kind, start, days
        self.trace_end_rel = days * DAY
        self.info = {"kind": kind, "days": days, "start": format_ts(start), "step_seconds": STEP}
        self.base = self._base_rate()
        self.cycle = Cycle(rng)
        self.phases, self.steps, self.calendar, self.services = [], [], None, None
        self._trend()
        self.day_sd = rng.uniform(0.05, 0.2)
        self.shape = rng.uniform(1.5, 6)
        self.request_cost = rng.choice([0.001, 0.002, 0.005, 0.01]) if kind == "tiny" else None
        self.info.update({"base_per_day": round(self.base, 4), "cycle": self.cycle.describe(),
                          "day_noise_sd": round(self.day_sd, 3), "step_gamma_shape": round(self.shape, 2)})

    def _base_rate(self):
        lo, hi = {"tiny": (0.02, 0.5), "whale": (60, 400)}.get(self.kind, (0.3, 150))
        return math.exp(self.rng.uniform(math.log(lo), math.log(hi)))

    def _trend(self):
        rng, kind, end = self.rng, self.kind, self.trace_end_rel
        if kind == "growth":
            self.phases = [trend_growth(rng, end, +1)]
        elif kind == "decline":
            self.phases = [trend_growth(rng, end, -1)]
        elif kind == "boom_bust":
            up = trend_growth(rng, end - 4 * WEEK, +1)
            up["end"] = up["start"] + rng.uniform(3, 6) * WEEK
            down = trend_growth(rng, end, -1)
            down["start"] = up["end"]
            down["end"] = down["start"] + rng.uniform(3, 8) * WEEK
            self.phases = [up, down]
        elif kind == "regime":
            self.steps = regime_steps(rng, end, rng.randint(1, 3))
        elif kind == "whale":
            self.steps = regime_steps(rng, end, rng.randint(1, 2))
        elif kind in ("hourly", "autorecharge", "tiny"):
            r = rng.random()
            if r < 0.4:
                self.phases = [trend_growth(rng, end, rng.choice([+1, -1]), 4 if kind == "tiny" else 30)]
            elif r < 0.7:
                self.steps = regime_steps(rng, end, rng.randint(1, 2))
        if kind == "seasonal" or (kind in ("hourly", "whale", "autorecharge") and rng.random() < 0.4):
            self.calendar = Calendar(rng, self.cycle.tz)
        if kind == "shared":
            self.services = make_services(rng, 0.0, end, end + FUTURE_DAYS * DAY)
        self.info["growth_phases"] = [{"weekly_factor": p["weekly_factor"], "start": format_ts(self.start + p["start"]),
                                       "end": format_ts(self.start + p["end"])} for p in self.phases]
        self.info["regime_steps"] = [{"t": format_ts(self.start + s["t"]), "factor": s["factor"]} for s in self.steps]
        self.info["calendar"] = self.calendar.describe() if self.calendar else None
        self.info["services"] = [s.describe(self.start) for s in self.services] if self.services else None

    def demand(self):
        """Spend demand of every step, for the trace and FUTURE_DAYS after it."""
        rng = self.rng
        n = (self.days + FUTURE_DAYS) * DAY // STEP
        out, day_noise, day_seen = [], 1.0, -1
        for i in range(n):
            rel = i * STEP + STEP / 2
            t = self.start + rel
            if i * STEP // DAY != day_seen:
                day_seen = i * STEP // DAY
                day_noise = math.exp(rng.gauss(-self.day_sd ** 2 / 2, self.day_sd))
            level = self.base * growth_level(self.phases, rel) * regime_level(self.steps, rel) * day_noise
            if self.calendar:
                level *= self.calendar.day_factor(t)
            shape = sum(s.share * s.factor(rng, rel, t) for s in self.services) if self.services else self.cycle.factor(t)
            mean = level * shape * STEP / DAY
            if self.request_cost:
                out.append(poisson(rng, mean / self.request_cost) * self.request_cost)
            elif mean > 0:
                out.append(rng.gammavariate(self.shape, mean / self.shape))
            else:
                out.append(0.0)
        return out


# ---------------------------------------------------------------- balance and top-ups

class Wallet:
    """Spends the demand from the balance, never below zero, and applies the top-up policy."""

    def __init__(self, rng, policy, demand, steps, start):
        self.rng, self.policy, self.demand, self.steps, self.start = rng, policy, demand, steps, start
        per_day = DAY // STEP
        mean_day = sum(demand[:7 * per_day]) / 7
        if policy == "never":
            runway_days = rng.uniform(0.3, 1.1) * steps / per_day
        elif policy == "auto":
            runway_days = rng.uniform(5, 30)
        else:
            runway_days = rng.uniform(8, 40)
        cum, k = 0.0, 0
        while k < len(demand) and k < runway_days * per_day:
            cum += demand[k]
            k += 1
        self.initial = round(max(cum, 1.0, mean_day * 0.5), 2) if policy != "auto" else nice_amount(cum)
        self.warn_days = rng.uniform(2, 5)
        self.react_hours = (rng.uniform(1, 30), rng.uniform(6, 96))
        self.topup_days = rng.uniform(14, 45)
        if policy == "auto":
            self.threshold = nice_amount(mean_day * rng.uniform(2, 8))
            self.recharge = nice_amount(mean_day * rng.uniform(5, 25))
            self.decline_p = rng.uniform(0.0, 0.25)

    def describe(self):
        d = {"initial_balance": self.initial}
        if self.policy == "on_time":
            d.update({"warn_days": round(self.warn_days, 2), "react_hours": round(self.react_hours[0], 1)})
        elif self.policy == "late":
            d["react_hours"] = round(self.react_hours[1], 1)
        elif self.policy == "auto":
            d.update({"threshold": self.threshold, "recharge": self.recharge, "decline_p": round(self.decline_p, 3)})
        return d

    def run(self):
        """True balance at each step start (after top-ups), top-ups and exhaustion times."""
        rng, per_day = self.rng, DAY // STEP
        b, balances, topups, exhaustions = self.initial, [], [], []
        spent = []
        pending_at, retry_at = None, 0
        for i in range(self.steps):
            t = self.start + i * STEP
            recent = sum(spent[-3 * per_day:]) / max(1, min(len(spent), 3 * per_day)) * per_day
            if pending_at is not None and i >= pending_at:
                week = sum(spent[-7 * per_day:]) / max(1, min(len(spent), 7 * per_day)) * per_day
                amount = nice_amount(max(week, recent) * self.topup_days)
                topups.append({"ts": format_ts(t), "amount": amount, "balance_before": round(b, 2)})
                b += amount
                pending_at = None
            if self.policy == "on_time" and pending_at is None and len(spent) >= per_day and b < self.warn_days * recent:
                pending_at = i + int(self.react_hours[0] * HOUR / STEP)
            if self.policy == "auto" and b < self.threshold and i >= retry_at:
                if rng.random() < self.decline_p:
                    retry_at = i + int(rng.uniform(6, 48) * HOUR / STEP)
                else:
                    topups.append({"ts": format_ts(t), "amount": self.recharge, "balance_before": round(b, 2)})
                    b += self.recharge
            balances.append(b)
            d = self.demand[i]
            if d >= b and b > 0:
                exhaustions.append(format_ts(t + STEP * b / d))
                if self.policy == "late" and pending_at is None:
                    pending_at = i + 1 + int(self.react_hours[1] * HOUR / STEP)
                elif self.policy == "on_time" and pending_at is None:
                    pending_at = i + 1 + int(self.react_hours[0] * HOUR / STEP)
            use = min(d, b)
            spent.append(use)
            b -= use
        return balances, topups, exhaustions


# ---------------------------------------------------------------- what the probes saw

class Probes:
    def __init__(self, rng, hourly):
        self.interval = rng.choice([300, 600, 600, 900])
        self.jitter = rng.uniform(0, 0.2) * self.interval
        self.drop_p = rng.uniform(0.0, 0.05)
        self.outages = []
        self.refresh = {"period": HOUR, "offset": rng.randint(0, HOUR - 1),
                        "lag": rng.choice([0, 0, rng.randint(60, 20 * 60)])} if hourly else None
        self.outage_count = rng.randint(0, 3)

    def describe(self):
        return {"interval": self.interval, "jitter": round(self.jitter), "drop_p": round(self.drop_p, 3),
                "outages": [[format_ts(a), format_ts(b)] for a, b in self.outages], "refresh": self.refresh}

    def sample(self, rng, start, steps, balances, demand):
        end = start + steps * STEP
        for _ in range(self.outage_count):
            a = rng.uniform(start + DAY, end - DAY)
            self.outages.append((a, a + rng.uniform(2, 12) * HOUR))

        def true_at(t):
            i = int((t - start) // STEP)
            if i < 0:
                return balances[0]
            i = min(i, steps - 1)
            frac = min(1.0, (t - start - i * STEP) / STEP)
            return max(0.0, balances[i] - min(demand[i], balances[i]) * frac)

        rows, t = [], start + rng.uniform(0, self.interval)
        while t < end:
            ts = int(t)
            if rng.random() >= self.drop_p and not any(a <= ts < b for a, b in self.outages):
                seen = ts
                if self.refresh:
                    r = self.refresh
                    seen = (ts - r["offset"]) // r["period"] * r["period"] + r["offset"] - r["lag"]
                if not rows or ts > rows[-1][0]:
                    rows.append((ts, max(0.0, round(true_at(seen), 2))))
            t += self.interval + rng.uniform(-self.jitter, self.jitter)
        return rows


def make_trace(out, seed, index):
    rng = random.Random(seed * 1_000_003 + index)
    kind = KINDS[index % len(KINDS)]
    start = EPOCH + rng.randint(0, 330) * DAY
    days = rng.randint(45, 120)
    account = Account(rng, kind, start, days)
    demand = account.demand()
    steps = days * DAY // STEP
    if kind == "autorecharge":
        policy = "auto"
    else:
        policy = rng.choice(["on_time", "on_time", "late", "late", "never", "auto"] if kind != "tiny" else ["on_time", "late", "never"])
    wallet = Wallet(rng, policy, demand, steps, start)
    balances, topups, exhaustions = wallet.run()
    probes = Probes(rng, kind == "hourly" or rng.random() < 0.15)
    rows = probes.sample(rng, start, steps, balances, demand)
    info = dict(account.info)
    info.update({"topup_policy": policy, "wallet": wallet.describe(), "topups": topups,
                 "exhaustions": exhaustions, "probes": probes.describe(), "samples": len(rows)})
    write_trace(out, f"trace{index:02d}", rows, demand, balances, info, start, STEP, format_ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.count < 1:
        ap.error("--count must be at least 1")
    os.makedirs(args.out, exist_ok=True)
    for index in range(args.count):
        make_trace(args.out, args.seed, index)


if __name__ == "__main__":
    main()
