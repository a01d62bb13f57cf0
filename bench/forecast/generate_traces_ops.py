#!/usr/bin/env python3
"""A third, independent generator of prepaid-balance traces: spend as an operations team sees it.

Written without looking at the forecaster or the other two generators, as a held-out check.
An account is one API key shared by several services, each with its own schedule:
  requests  Poisson request arrivals whose rate follows a local-time shape (`business` hours
            in the team's time zone with a lunch dip, `evening`/weekend hobby use, `flat`
            24/7 traffic with a mild daily swing) and a weekday factor; each request costs
            (input tokens x input price + output tokens x output price) / 1e6, tokens
            log-normal per profile (chat, ci_review, agent, hobby);
  cron      batch jobs at fixed local times (some weekdays only), each costing a noisy fixed
            amount spread over its run; a job that falls in a provider outage is retried after.
Around them: a provider price change (a level change: cut or pricier model), provider outages
(requests fail unbilled) followed by retry storms, holidays/quiet weeks for human-driven
services, launches (logistic growth over weeks), wind-downs (exponential decay), runaway agent
loops (5-30x the reference daily spend for 1-48 h, or until the account is dry, when the
agent crashes on payment errors) and one-off big jobs (an eval run or backfill costing 10-50 %
of the balance at that moment, over 1-8 h).
Kinds (trace i gets kind i % 10):
  support_bot        business-hours chat bot + nightly digest; holidays; retry storms
  nightly_batch      cron pipeline (nightly, every 6 h) + small steady load; backfills
  ci_review          code-review bot on weekday commits + some chat; quiet weeks; price change
  shared_key         chat + cron + CI + agent on one key; price change; storms; maybe a runaway
  runaway_agent      steady agent + chat, 1-3 runaway loops (half of them until dry)
  feature_launch     a base load plus a launched feature growing 3-15x over 1-6 weeks
  wind_down          services decaying from some day on; one cron job keeps running
  hobby_tiny         a tiny account (balance ~1-25 units) used evenings/weekends; cent rounding
  eval_team          notebooks in office hours + cron; 2-5 big eval runs (10-50 % of balance)
  enterprise_cached  large account, big 24/7 + office traffic, a provider that caches balances
Top-up policies: on_time (a human looks on weekday mornings, tops up after 1-24 h when a typical
day of the last week says 2-7 days are left, and within hours of running dry), late (only after the
money ran out, 2 h to 6 days later), never, auto (auto-recharge of a fixed amount under a
threshold; the card is sometimes declined, retried 12-48 h later), random (Poisson top-ups of
2-25 days' worth every 8-25 days on average, plus a rescue 6 h-7 d after running dry).
Probes every 5, 10 or 15 min with jitter, dropped probes, multi-hour monitoring outages
(partly the provider's own), providers that cache the balance (refresh every 30-60 min) or
lag it, rounding to 0.01 (nearest or down) or 0.1. Timestamps RFC 3339 or Unix seconds.
meta.json holds the ingredients; the services' `mods` count days from the trace start.
Usage: generate_traces_ops.py --out DIR --count N --seed S [--days 75] [--future-days 60]
"""
import argparse
import datetime as dt
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_files import write_trace  # noqa: E402

DAY, HOUR = 86400, 3600
KINDS = ["support_bot", "nightly_batch", "ci_review", "shared_key", "runaway_agent",
         "feature_launch", "wind_down", "hobby_tiny", "eval_team", "enterprise_cached"]
POLICIES = {"support_bot": ["on_time", "late"], "nightly_batch": ["late", "never"],
            "ci_review": ["auto", "on_time"], "shared_key": ["random", "on_time", "late"],
            "runaway_agent": ["on_time", "auto", "late"], "feature_launch": ["late", "on_time"],
            "wind_down": ["never", "random"], "hobby_tiny": ["late", "never", "random"],
            "eval_team": ["on_time", "random"], "enterprise_cached": ["auto", "on_time"]}
PRICES = [(0.15, 0.6), (0.4, 1.6), (1.0, 4.0), (2.5, 10.0), (3.0, 15.0), (15.0, 75.0)]  # per 1M tokens
PROFILES = {"chat": (1500, 300, 0.8), "ci_review": (20000, 1500, 0.7),  # median in, out, sigma
            "agent": (6000, 800, 1.0), "hobby": (800, 400, 0.9)}
HUMAN = {"business", "evening"}


def business(h, wd):
    if wd >= 5:
        return 0.08
    if h < 7 or h >= 20:
        return 0.05
    return max(0.05, min(1.0, (h - 7) / 2, (20 - h) / 2)) * (0.7 if 12 <= h < 13.5 else 1.0)


def evening(h, wd):
    if wd >= 5:
        return 0.6 if h >= 10 else 0.05
    return 1.0 if h >= 19 else (0.1 if h >= 7 else 0.02)


def flat(h, wd):
    return 1 + 0.25 * math.sin(2 * math.pi * (h - 9) / 24)


SHAPES = {"business": business, "evening": evening, "flat": flat}


def loguniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def nice(x):
    """A round amount a human would type: 1, 2, 2.5, 5 times a power of ten."""
    m = 10 ** math.floor(math.log10(max(x, 1e-3)))
    return min((c * m for c in (1, 2, 2.5, 5, 10)), key=lambda v: abs(math.log(v / max(x, 1e-3))))


def poisson(rng, lam):
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p >= limit:
        p *= rng.random()
        k += 1
    return k


def local(t, tz):
    """(hour of day, weekday Mon=0) at UTC time t in a zone tz hours from UTC."""
    lt = t + tz * HOUR
    return (lt % DAY) / HOUR, int(lt // DAY + 3) % 7


def req(rng, name, share, shape, profile, tz):
    p_in, p_out = rng.choice(PRICES)
    m_in, m_out, sg = PROFILES[profile]
    costs = [(m_in * rng.lognormvariate(0, sg) * p_in + m_out * rng.lognormvariate(0, sg) * p_out) / 1e6
             for _ in range(1000)]
    return {"type": "requests", "name": name, "share": share, "shape": shape, "profile": profile,
            "tz": tz, "price_in": p_in, "price_out": p_out, "costs": costs, "mods": []}


def cron(name, share, times, minutes, weekdays_only, tz):
    return {"type": "cron", "name": name, "share": share, "times": times, "minutes": minutes,
            "weekdays_only": weekdays_only, "tz": tz, "mods": []}


def mod_factor(mods, x):
    f = 1.0
    for m in mods:
        if m[0] == "holiday" and m[1] <= x < m[2]:
            f *= m[3]
        elif m[0] == "launch":  # launch day, ramp midpoint, ramp width (days), final level
            f *= 0.0 if x < m[1] else m[4] / (1 + math.exp(-(x - m[2]) / m[3]))
        elif m[0] == "decline" and x >= m[1]:  # start day, time constant, floor
            f *= m[3] + (1 - m[3]) * math.exp(-(x - m[1]) / m[2])
    return f


def build(kind, rng, days, horizon):
    """Services, reference daily spend D and events of one account."""
    tz = rng.choice([-8, -5, -3, 0, 1, 2, 5.5, 8, 9])
    D = loguniform(rng, 1, 120)
    ev = {"runaways": [], "big_jobs": [], "holidays": [], "price_changes": [], "outages": []}
    hol_p, price_p, n_out = 0.25, 0.3, rng.randint(0, 2)
    if kind == "support_bot":
        S = [req(rng, "support_chat", 0.8, "business", "chat", tz),
             cron("nightly_digest", 0.2, [rng.uniform(0, 5)], rng.uniform(10, 60), False, tz)]
        hol_p, n_out = 0.6, rng.randint(1, 3)
    elif kind == "nightly_batch":
        S = [cron("nightly_etl", 0.6, [rng.uniform(0, 5)], rng.uniform(30, 180), rng.random() < 0.4, tz),
             cron("every_6h_sync", 0.25, [(h0 + 6 * i) % 24 for h0 in [rng.uniform(0, 24)] for i in range(4)],
                  rng.uniform(10, 40), False, tz),
             req(rng, "steady_api", 0.15, "flat", "agent", tz)]
        ev["big_jobs"] = [{"day": rng.uniform(3, horizon), "frac": rng.uniform(0.1, 0.5),
                           "hours": rng.uniform(2, 8), "what": "backfill"} for _ in range(rng.randint(0, 2))]
    elif kind == "ci_review":
        S = [req(rng, "ci_review", 0.7, "business", "ci_review", tz), req(rng, "dev_chat", 0.3, "business", "chat", tz)]
        hol_p, price_p = 0.7, 0.6
    elif kind == "shared_key":
        S = [req(rng, "chat", 0.35, "business", "chat", tz), req(rng, "ci", 0.2, "business", "ci_review", tz),
             cron("reports", 0.2, [rng.uniform(0, 24), rng.uniform(0, 24)], rng.uniform(10, 60), True, tz),
             req(rng, "agent", 0.25, "flat", "agent", tz)]
        hol_p, price_p, n_out = 0.4, 0.6, rng.randint(1, 3)
        if rng.random() < 0.3:
            ev["runaways"].append({"day": rng.uniform(5, days), "mult": rng.uniform(5, 30),
                                   "hours": rng.uniform(1, 48), "until_dry": rng.random() < 0.5})
    elif kind == "runaway_agent":
        S = [req(rng, "agent", 0.5, "flat", "agent", tz), req(rng, "chat", 0.5, "business", "chat", tz)]
        ev["runaways"] = [{"day": rng.uniform(4, days), "mult": rng.uniform(5, 30), "hours": rng.uniform(1, 48),
                           "until_dry": rng.random() < 0.5} for _ in range(rng.randint(1, 3))]
    elif kind == "feature_launch":
        S = [req(rng, "base_chat", 1.0, rng.choice(["business", "flat"]), "chat", tz),
             req(rng, "new_feature", 1.0, rng.choice(["business", "flat"]), rng.choice(["chat", "agent"]), tz)]
        launch, ramp = rng.uniform(5, 40), rng.uniform(7, 42)
        S[1]["mods"].append(("launch", launch, launch + ramp / 2, ramp / 8, rng.uniform(3, 15)))
        D /= 3
    elif kind == "wind_down":
        S = [req(rng, "app", 0.6, "business", "chat", tz), req(rng, "worker", 0.25, "flat", "agent", tz),
             cron("leftover_cron", 0.15, [rng.uniform(0, 24)], rng.uniform(10, 30), False, tz)]
        start, tau, floor = rng.uniform(10, 45), rng.uniform(5, 20), rng.uniform(0.0, 0.15)
        for s in S[:2]:
            s["mods"].append(("decline", start + rng.uniform(0, 7), tau, floor))
    elif kind == "hobby_tiny":
        S = [req(rng, "side_project", 1.0, "evening", "hobby", tz)]
        D = loguniform(rng, 0.08, 0.6)
        if rng.random() < 0.3:
            ev["runaways"].append({"day": rng.uniform(4, days), "mult": rng.uniform(5, 30),
                                   "hours": rng.uniform(1, 24), "until_dry": rng.random() < 0.5})
    elif kind == "eval_team":
        S = [req(rng, "notebooks", 0.7, "business", "agent", tz),
             cron("nightly_eval", 0.3, [rng.uniform(0, 6)], rng.uniform(20, 90), True, tz)]
        ev["big_jobs"] = [{"day": rng.uniform(3, horizon), "frac": rng.uniform(0.1, 0.5),
                           "hours": rng.uniform(1, 8), "what": "eval run"} for _ in range(rng.randint(2, 5))]
        hol_p = 0.5
    else:  # enterprise_cached
        S = [req(rng, "public_api", 0.5, "flat", "chat", tz), req(rng, "office", 0.3, "business", "chat", tz),
             req(rng, "ci", 0.2, "business", "ci_review", tz)]
        D = loguniform(rng, 40, 400)
        n_out = rng.randint(1, 3)
    if rng.random() < hol_p:
        a = rng.uniform(5, horizon - 14)
        ev["holidays"].append((a, a + rng.uniform(5, 16), rng.uniform(0.05, 0.4)))
    for s in S:
        if s.get("shape") in HUMAN or s["type"] == "cron" and s["weekdays_only"]:
            s["mods"] += [("holiday",) + h for h in ev["holidays"]]
    if rng.random() < price_p:
        ev["price_changes"].append((rng.uniform(5, horizon - 5), rng.choice([rng.uniform(0.3, 0.7), rng.uniform(1.5, 3)])))
    for _ in range(n_out):
        a = rng.uniform(2, horizon) * DAY
        ev["outages"].append((a, a + rng.uniform(0.3, 4) * HOUR, rng.uniform(1, 4), rng.uniform(0.5, 2) * HOUR))
    return S, D, ev


def base_demand(rng, S, D, ev, n, start, step):
    """Spend demand per step of the services (independent of the balance)."""
    spd = DAY // step
    times = [start + k * step for k in range(n)]
    price = [1.0] * n
    for day, m in ev["price_changes"]:
        for k in range(int(day * spd), n):
            price[k] *= m
    down, storm = [False] * n, [1.0] * n  # provider outage; retry storm after it
    for a, b, amp, tau in ev["outages"]:
        for k in range(max(0, int(a // step)), min(n, int(b // step) + 1)):
            down[k] = True
        for k in range(int(b // step) + 1, min(n, int((b + 5 * tau) // step) + 1)):
            storm[k] += amp * math.exp(-(k * step - b) / tau)
    wf = [rng.uniform(0.85, 1.2) for _ in range(5)] + [1.0, 1.0]  # weekly cycle of human services
    total = [0.0] * n
    for s in S:
        if s["type"] == "requests":
            shape, costs = SHAPES[s["shape"]], s["costs"]
            w = wf if s["shape"] in HUMAN else [1.0] * 7
            norm = sum(shape(h, d) * w[d] for h, d in (local(j * step, 0) for j in range(7 * spd))) / (7 * spd)
            mu = sum(costs) / len(costs)
            m2 = sum(c * c for c in costs) / len(costs)
            s["mean_cost"] = mu
            per_step = s["share"] * D / spd / norm / mu  # requests per step at shape 1
            for k, t in enumerate(times):
                if down[k]:
                    continue
                h, d = local(t, s["tz"])
                lam = per_step * shape(h, d) * w[d] * storm[k] * mod_factor(s["mods"], k / spd)
                if lam > 50:
                    v = max(0.0, rng.gauss(lam * mu, math.sqrt(lam * m2)))
                else:
                    v = sum(rng.choice(costs) for _ in range(poisson(rng, lam)))
                total[k] += v * price[k]
        else:
            per_day = len(s["times"]) * (5 / 7 if s["weekdays_only"] else 1)
            dur = max(1, round(s["minutes"] * 60 / step))
            for day in range(n // spd + 2):
                for h in s["times"]:
                    t = (start + s["tz"] * HOUR) // DAY * DAY + day * DAY + h * HOUR - s["tz"] * HOUR
                    k = int((t - start) // step)
                    if k < 0 or k >= n or s["weekdays_only"] and local(t, s["tz"])[1] >= 5:
                        continue
                    while k < n and down[k]:  # the job fails and is retried after the outage
                        k += 1
                    cost = s["share"] * D / per_day * rng.lognormvariate(0, 0.25) * mod_factor(s["mods"], k / spd)
                    for i in range(k, min(n, k + dur)):
                        total[i] += cost / dur * price[i]
    return total


def simulate(rng, base, policy, pol, b0, D, ev, start, step, n, n_trace, tz):
    """Balance, demand, top-ups and exhaustions step by step (top-ups go on after the trace)."""
    spd, b, today, daily = DAY // step, b0, 0.0, []
    demand, bal, exh, tops, pending = [], [], [], [], []
    extra = [0.0] * n
    runs = {int(r["day"] * spd): r for r in ev["runaways"]}
    jobs = {int(j["day"] * spd): j for j in ev["big_jobs"]}
    active, next_try = [], 0.0
    rand_times = sorted(rng.uniform(0, n * step) for _ in range(poisson(rng, n / spd / pol.get("gap", 1e9))))
    for k in range(n):
        t = start + k * step
        for p in [p for p in pending if p[0] <= t]:
            pending.remove(p)
            b += p[1]
            if k < n_trace:
                tops.append([fmt_rfc(t), p[1]])
        if k and k % spd == 0:
            daily, today = daily[-6:] + [today], 0.0
        rate = sorted(daily)[len(daily) // 2] if daily and max(daily) > 0 else D  # a typical day of last week
        h, wd = local(t, tz)
        if policy == "on_time":
            if not pending and b == 0:
                pending.append((t + rng.uniform(0.5, 12) * HOUR, nice(rate * rng.uniform(15, 60))))
            elif (not pending and wd < 5 and pol["check_h"] <= h < pol["check_h"] + step / HOUR
                  and rng.random() < 0.85 and b < rate * pol["days_left"]):
                pending.append((t + rng.uniform(1, 24) * HOUR, nice(rate * rng.uniform(15, 60))))
        elif policy in ("late", "random") and not pending and b == 0:
            delay = (min(6 * DAY, max(2 * HOUR, rng.lognormvariate(math.log(20 * HOUR), 1.0)))
                     if policy == "late" else rng.uniform(6 * HOUR, 7 * DAY))
            pending.append((t + delay, nice(rate * rng.uniform(15, 60))))
        elif policy == "auto" and b < pol["threshold"] and t >= next_try:
            if rng.random() < pol["decline_p"]:
                next_try = t + rng.uniform(12, 48) * HOUR
            else:
                pending.append((t + rng.choice([0, 1, 2]) * step, pol["amount"]))
                next_try = t + 3 * step
        while policy == "random" and rand_times and rand_times[0] <= t - start:
            rand_times.pop(0)
            pending.append((t, nice(rate * rng.uniform(2, 25))))
        if k in jobs:
            j = jobs[k]
            dur = max(1, int(j["hours"] * HOUR / step))
            for i in range(k, min(n, k + dur)):
                extra[i] += j["frac"] * (b if b > 0 else b0) / dur
        if k in runs:
            r = runs[k]
            active.append([k + int((20 * DAY if r["until_dry"] else r["hours"] * HOUR) / step),
                           r["mult"] * D / spd, r["until_dry"]])
        active = [a for a in active if k < a[0]]
        d = base[k] + extra[k] + sum(a[1] * rng.lognormvariate(0, 0.3) for a in active)
        bal.append(b)
        demand.append(d)
        if b > 0 and d >= b:
            if k < n_trace:
                exh.append(fmt_rfc(t + b / d * step))
            today += b
            b = 0.0
            active = [a for a in active if not a[2]]  # the looping agent crashes on payment errors
        else:
            today += min(b, d)
            b = max(0.0, b - d)
    return demand, bal, exh, tops


def fmt_rfc(t):
    return dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def probe(rng, bal, demand, start, step, n_trace, ev, kind):
    """What the monitor saw: jittered, dropped, outages, cached or lagging provider, rounded."""
    interval = rng.choice([300, 600, 900])
    jit, p_drop = rng.uniform(0, 0.15) * interval, rng.uniform(0.002, 0.05)
    gaps = [(a, b) for a, b, _, _ in ev["outages"] if rng.random() < 0.6]
    for _ in range(rng.randint(0, 3)):
        a = start + rng.uniform(1, n_trace * step / DAY - 1) * DAY
        gaps.append((a - start, a - start + rng.uniform(1, 10) * HOUR))
    mode = "cache" if kind == "enterprise_cached" and rng.random() < 0.8 else rng.choice(["live", "live", "cache", "lag"])
    refresh, phase, lag = rng.uniform(30, 60) * 60, rng.uniform(0, 3600), rng.uniform(5, 40) * 60
    rounding = rng.choice(["nearest_0.01", "nearest_0.01", "nearest_0.01", "down_0.01", "nearest_0.1"])
    end = start + n_trace * step

    def true_at(t):
        k = min(max(int((t - start) // step), 0), len(bal) - 1)
        return max(0.0, bal[k] - demand[k] * min(1.0, max(0.0, (t - start - k * step) / step)))

    rows, j = [], 0
    while True:
        t = start + j * interval + (round(rng.uniform(-jit, jit)) if j else 0)
        j += 1
        if t >= end:
            break
        if j > 1 and rng.random() < p_drop or any(a <= t - start < b for a, b in gaps):
            continue
        seen = t if mode == "live" else (t - lag if mode == "lag" else
                                         math.floor((t - phase) / refresh) * refresh + phase)
        v = true_at(max(start, seen))
        v = round(v, 2) if rounding == "nearest_0.01" else (math.floor(v * 100) / 100 if rounding == "down_0.01"
                                                             else round(v, 1))
        rows.append((t, max(0.0, v)))
    info = {"probe_interval_s": interval, "jitter_s": round(jit), "drop_p": round(p_drop, 4), "provider": mode,
            "rounding": rounding, "monitor_gaps": [[fmt_rfc(start + a), round((b - a) / HOUR, 2)] for a, b in gaps]}
    if mode == "cache":
        info["refresh_min"] = round(refresh / 60, 1)
    elif mode == "lag":
        info["lag_min"] = round(lag / 60, 1)
    return rows, info


def make_trace(out, name, kind, rng, days, future_days):
    step = rng.choice([300, 600])
    start = 1767571200 + rng.randrange(0, 120 * DAY // step) * step  # from 2026-01-05 on
    n_trace, n = days * DAY // step, (days + future_days) * DAY // step
    S, D, ev = build(kind, rng, days, days + future_days)
    base = base_demand(rng, S, D, ev, n, start, step)
    policy = rng.choice(POLICIES[kind])
    pol = {}
    if policy == "on_time":
        pol = {"check_h": rng.uniform(8, 11), "days_left": rng.uniform(2, 7)}
    elif policy == "auto":
        pol = {"threshold": nice(D * rng.uniform(1, 4)), "amount": nice(D * rng.uniform(7, 30)),
               "decline_p": rng.uniform(0, 0.25)}
    elif policy == "random":
        pol = {"gap": rng.uniform(8, 25)}
    if policy == "never":  # runs dry between 40 % and 90 % of the trace on the services alone
        b0 = sum(base[:int(n_trace * rng.uniform(0.4, 0.9))])
    elif policy == "auto":
        b0 = pol["amount"] * rng.uniform(0.3, 1.5)
    else:
        b0 = D * rng.uniform(6, 40)
    b0 = round(b0, 2)
    demand, bal, exh, tops = simulate(rng, base, policy, pol, b0, D, ev, start, step, n, n_trace, tz=S[0]["tz"])
    rows, probe_info = probe(rng, bal, demand, start, step, n_trace, ev, kind)
    ts_format = rng.choice(["rfc3339", "rfc3339", "unix"])
    fmt = fmt_rfc if ts_format == "rfc3339" else (lambda t: str(int(t)))
    at = lambda day: fmt_rfc(start + day * DAY)  # noqa: E731
    ev["outages"] = [{"start": fmt_rfc(start + a), "hours": round((b - a) / HOUR, 2), "retry_storm_x": round(1 + amp, 2),
                      "storm_decay_h": round(tau / HOUR, 2)} for a, b, amp, tau in ev["outages"]]
    ev["holidays"] = [{"from": at(a), "to": at(b), "factor": round(f, 3)} for a, b, f in ev["holidays"]]
    ev["price_changes"] = [{"at": at(d), "factor": round(f, 3)} for d, f in ev["price_changes"]]
    for e in ev["runaways"] + ev["big_jobs"]:
        e["at"] = at(e.pop("day"))
    info = {"kind": kind, "topup_policy": policy, "exhaustions": exh, "topups": tops, "policy_params": pol,
            "generator": "generate_traces_ops.py", "start": fmt_rfc(start), "step_s": step, "days": days,
            "future_days": future_days, "initial_balance": b0, "reference_daily_spend": round(D, 4),
            "timestamps": ts_format, "events": ev, "probing": probe_info,
            "services": [{k: v for k, v in s.items() if k != "costs"} for s in S]}
    write_trace(out, name, rows, demand, bal[:n_trace], info, start, step, fmt)
    return len(exh), len(tops)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=int, default=75)
    ap.add_argument("--future-days", type=int, default=60)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for i in range(args.count):
        kind = KINDS[i % len(KINDS)]
        rng = random.Random(f"ops-{args.seed}-{i}")
        e, t = make_trace(args.out, f"trace{i:02d}", kind, rng, args.days, args.future_days)
        print(f"trace{i:02d} {kind}: {e} exhaustions, {t} top-ups")


if __name__ == "__main__":
    main()
