#!/usr/bin/env python3
"""Scores creditwatch's runway alerts against two baselines on traces from generate_traces.py.

For each trace it runs `creditwatch backtest --json --series` (the daemon's own code path),
rebuilds which `runway` alert was firing at each sample from the notification lines, and
computes the same alerts for two baselines on the raw CSV:
  * predict_linear: least-squares slope of the raw balance over the last 7 days (what a
    Prometheus `predict_linear(balance[7d], ...)` alert sees); runway = balance / -slope,
    none when the slope is >= 0;
  * avg3d: the plain sum of balance decreases over the last 3 days / 3 days.
Baselines fire critical below critical_days and warning below warn_days, no hysteresis.

Figures (lower is better), per method, summed or pooled over all traces:
  missed_h     hours in which the true runway was under 1 day and no critical alert fired
               (samples whose balance is already 0 are left out: the `exhausted` rule covers
               those for any method);
  unwarned     exhaustion events (the balance hit 0) with no warning or critical firing
               24 h before (events in the first 3 days of a trace are left out);
  false_crit   critical alert onsets while the true runway was over 2 x critical_days;
  med_log_err  median |ln(predicted / true runway)| over samples where both exist, both
               capped at the horizon (60 days); creditwatch's prediction is runway_days (P50).
Calibration (P10 and P50 runways), over the samples with balance > 0 and a true runway under
CALIBRATION_DAYS (30), pooled over traces:
  cov_p10      share of those samples where the true runway fell below the predicted P10
               runway (calibrated: 0.10); a sample without a prediction (no spend seen, or a
               rising balance for predict_linear) counts as a prediction of no exhaustion, so
               the true runway fell below it;
  cov_p50      the same for the P50 runway (calibrated: 0.50);
  pinball_p10  mean pinball (quantile) loss of the P10 runway at tau = 0.1, in days:
               with y the true and q the predicted runway, both capped at 60 days,
               loss = tau * (y - q) if y >= q else (1 - tau) * (q - y); a missing
               prediction counts as 60 days. Lower is better: it rewards a P10 that is
               both rarely above the truth and not needlessly low;
  pinball_p50  the same for the P50 runway at tau = 0.5 (half the mean absolute error).
The baselines have one runway, counted as their P50 (and left out of the P10 columns).
True runway at a sample: time until the cumulative future spend demand exceeds the balance
seen, ignoring future top-ups, capped at 60 days.

Usage: score.py --binary PATH/creditwatch --traces DIR [--jobs 2] [--per-trace] [--json OUT]
"""
import argparse
import bisect
import datetime as dt
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

WARN_DAYS = 14.0
CRITICAL_DAYS = 3.0
HORIZON_DAYS = 60.0
DAY = 86400.0
CALIBRATION_DAYS = 30.0
METHODS = ["creditwatch", "predict_linear", "avg3d"]


def parse_ts(text):
    text = text.strip()
    if text.replace(".", "", 1).isdigit():
        return float(text)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_csv(path):
    rows = []
    with open(path) as f:
        for n, line in enumerate(f):
            line = line.strip()
            if not line or (n == 0 and line.startswith("timestamp")):
                continue
            ts, bal = line.split(",")
            t = parse_ts(ts)
            if rows and t <= rows[-1][0]:
                continue
            rows.append((t, float(bal)))
    return rows


class Truth:
    def __init__(self, path):
        self.start = None
        self.step = None
        demand = []
        with open(path) as f:
            next(f)
            for line in f:
                s, d, _ = line.rstrip("\n").split(",")
                s = float(s)
                if self.start is None:
                    self.start = s
                elif self.step is None:
                    self.step = s - self.start
                demand.append(float(d))
        self.demand = demand
        self.cum = [0.0]
        for d in demand:
            self.cum.append(self.cum[-1] + d)

    def cum_at(self, t):
        x = (t - self.start) / self.step
        k = min(max(int(math.floor(x)), 0), len(self.demand) - 1)
        return self.cum[k] + self.demand[k] * min(max(x - k, 0.0), 1.0)

    def runway(self, t, balance):
        """Days until future demand from t exceeds balance (capped at the horizon)."""
        if balance <= 0:
            return 0.0
        target = self.cum_at(t) + balance
        k2 = bisect.bisect_left(self.cum, target)
        if k2 >= len(self.cum):
            return HORIZON_DAYS
        d = self.demand[k2 - 1]
        frac = (target - self.cum[k2 - 1]) / d if d > 0 else 1.0
        when = self.start + (k2 - 1 + frac) * self.step
        return min(max(when - t, 0.0) / DAY, HORIZON_DAYS)


def state_for(runway):
    if runway is None:
        return None
    if runway < CRITICAL_DAYS:
        return "critical"
    if runway < WARN_DAYS:
        return "warning"
    return None


def baseline_predict_linear(rows):
    """Least-squares slope over the last 7 days of raw balances, as predict_linear does."""
    out = []
    t0 = rows[0][0]
    n = sx = sy = sxx = sxy = 0.0
    lo = 0
    for i, (t, b) in enumerate(rows):
        x = (t - t0) / DAY
        n += 1; sx += x; sy += b; sxx += x * x; sxy += x * b
        while rows[lo][0] < t - 7 * DAY:
            xl = (rows[lo][0] - t0) / DAY
            bl = rows[lo][1]
            n -= 1; sx -= xl; sy -= bl; sxx -= xl * xl; sxy -= xl * bl
            lo += 1
        runway = None
        if n >= 2:
            var = n * sxx - sx * sx
            if var > 1e-12:
                slope = (n * sxy - sx * sy) / var
                if slope < 0:
                    runway = b / -slope
        out.append(runway)
    return out


def baseline_avg3d(rows):
    """Sum of decreases over the last 3 days, divided by the time covered (at most 3 days)."""
    out = []
    total = 0.0
    lo = 0  # first sample whose decrease (from its predecessor) is inside the window
    decs = [0.0] + [max(0.0, rows[i - 1][1] - rows[i][1]) for i in range(1, len(rows))]
    for i, (t, b) in enumerate(rows):
        total += decs[i]
        while rows[lo][0] <= t - 3 * DAY:
            total -= decs[lo]
            lo += 1
        span = min(3 * DAY, t - rows[0][0]) / DAY
        rate = total / span if span > 0 else 0.0
        out.append(b / rate if rate > 1e-12 else None)
    return out


def run_creditwatch(binary, csv_path, workdir):
    cfg = os.path.join(workdir, os.path.basename(csv_path) + ".yaml")
    with open(cfg, "w") as f:
        f.write("accounts:\n  - name: acct\n    provider: simulated\n"
                f"    warn_days: {WARN_DAYS:g}\n    critical_days: {CRITICAL_DAYS:g}\n")
    started = time.monotonic()
    proc = subprocess.run([binary, "backtest", "-c", cfg, "--account", "acct", "--csv", csv_path, "--json", "--series"],
                          capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"backtest failed on {csv_path}: {proc.stderr[-2000:]}")
    series, notes, summary = [], [], None
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if obj.get("summary"):
            summary = obj
        elif "event" in obj:
            notes.append(obj)
        else:
            series.append(obj)
    return series, notes, summary, elapsed


def creditwatch_states(rows, series, notes):
    """Runway alert state at each sample, from the firing/resolved notifications."""
    by_ts = {}
    for n in notes:
        if n["rule"] == "runway":
            by_ts.setdefault(parse_ts(n["ts"]), []).append(n)
    states, runways, p10s = [], [], []
    state = None
    for (t, _), s in zip(rows, series):
        for n in by_ts.get(t, []):
            state = n["severity"] if n["event"] == "firing" else None
        states.append(state)
        runways.append(s["runway_days"])
        p10s.append(s.get("runway_p10_days"))
    return states, runways, p10s


def pinball(tau, truth, predicted):
    """Quantile loss in days, both runways capped at the horizon; no prediction = the horizon."""
    q = HORIZON_DAYS if predicted is None else min(max(predicted, 0.0), HORIZON_DAYS)
    y = min(truth, HORIZON_DAYS)
    return tau * (y - q) if y >= q else (1 - tau) * (q - y)


def calibration(rows, true, quantiles):
    """Counts and loss sums of each quantile's runway over samples with a true runway under
    CALIBRATION_DAYS (pooled later): {"n", "below_p10", "pinball_p10", ...}."""
    out = {"n": 0}
    for name in quantiles:
        out["below_" + name] = 0
        out["pinball_" + name] = 0.0
    for i, (_, b) in enumerate(rows):
        if b <= 0 or true[i] >= CALIBRATION_DAYS:
            continue
        out["n"] += 1
        for name, (tau, predicted) in quantiles.items():
            p = predicted[i]
            if p is None or true[i] < p:
                out["below_" + name] += 1
            out["pinball_" + name] += pinball(tau, true[i], p)
    return out


def score(rows, truth, exhaustions, states, predicted, p10=None):
    times = [t for t, _ in rows]
    true = [truth.runway(t, b) for t, b in rows]
    missed_h = 0.0
    for i, (t, b) in enumerate(rows):
        if b <= 0 or true[i] >= 1.0 or states[i] == "critical":
            continue
        nxt = times[i + 1] if i + 1 < len(times) else t + 600
        missed_h += min(nxt - t, 3600.0) / 3600.0
    unwarned = 0
    events = 0
    for e in exhaustions:
        if e < times[0] + 3 * DAY:
            continue
        events += 1
        k = bisect.bisect_right(times, e - DAY) - 1
        if k < 0 or states[k] is None:
            unwarned += 1
    false_crit = 0
    prev = None
    for i, s in enumerate(states):
        if s == "critical" and prev != "critical" and true[i] > 2 * CRITICAL_DAYS:
            false_crit += 1
        prev = s
    errs = []
    for i, (t, b) in enumerate(rows):
        p = predicted[i]
        if b > 0 and true[i] > 0 and p is not None and p > 0:
            errs.append(abs(math.log(min(p, HORIZON_DAYS) / true[i])))
    quantiles = {"p50": (0.5, predicted)}
    if p10 is not None:
        quantiles["p10"] = (0.1, p10)
    return {"missed_h": missed_h, "unwarned": unwarned, "events": events, "false_crit": false_crit, "errs": errs,
            "calibration": calibration(rows, true, quantiles)}


def score_trace(binary, traces, name, workdir):
    rows = read_csv(os.path.join(traces, name + ".csv"))
    truth = Truth(os.path.join(traces, name + ".truth.csv"))
    with open(os.path.join(traces, name + ".meta.json")) as f:
        meta = json.load(f)
    exhaustions = [parse_ts(e) for e in meta["exhaustions"]]
    series, notes, summary, elapsed = run_creditwatch(binary, os.path.join(traces, name + ".csv"), workdir)
    if len(series) != len(rows):
        raise RuntimeError(f"{name}: {len(series)} series lines for {len(rows)} samples")
    if summary is None or summary["samples"] != len(rows) or summary["notifications"] != len(notes):
        raise RuntimeError(f"{name}: summary {summary} does not match the output")
    result = {"name": name, "kind": meta["kind"], "policy": meta["topup_policy"], "seconds": elapsed}
    cw_states, cw_runways, cw_p10 = creditwatch_states(rows, series, notes)
    result["creditwatch"] = score(rows, truth, exhaustions, cw_states, cw_runways, cw_p10)
    for method, fn in (("predict_linear", baseline_predict_linear), ("avg3d", baseline_avg3d)):
        pred = fn(rows)
        result[method] = score(rows, truth, exhaustions, [state_for(p) for p in pred], pred)
    return result


def pooled_calibration(parts):
    """Coverage and mean pinball loss pooled over traces (None where not defined)."""
    n = sum(p["n"] for p in parts)
    out = {"cal_samples": n}
    for name in ("p10", "p50"):
        known = [p for p in parts if "below_" + name in p]
        if not known or n == 0:
            out["cov_" + name] = out["pinball_" + name] = None
            continue
        out["cov_" + name] = round(sum(p["below_" + name] for p in known) / n, 3)
        out["pinball_" + name] = round(sum(p["pinball_" + name] for p in known) / n, 3)
    return out


def fmt(value):
    return "-" if value is None else f"{value:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--traces", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--per-trace", action="store_true")
    ap.add_argument("--json", help="write the totals as JSON here")
    args = ap.parse_args()
    names = sorted(f[:-4] for f in os.listdir(args.traces) if f.endswith(".csv") and not f.endswith(".truth.csv"))
    if not names:
        sys.exit(f"no traces in {args.traces}")
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda n: score_trace(args.binary, args.traces, n, workdir), names))

    totals = {}
    for m in METHODS:
        errs = [e for r in results for e in r[m]["errs"]]
        totals[m] = {
            "missed_h": round(sum(r[m]["missed_h"] for r in results), 1),
            "unwarned": sum(r[m]["unwarned"] for r in results),
            "false_crit": sum(r[m]["false_crit"] for r in results),
            "med_log_err": round(statistics.median(errs), 3) if errs else None,
        }
        totals[m].update(pooled_calibration([r[m]["calibration"] for r in results]))
    events = sum(r["creditwatch"]["events"] for r in results)
    print(f"{len(names)} traces, {events} exhaustion events, warn_days={WARN_DAYS:g}, critical_days={CRITICAL_DAYS:g}\n")
    print("| method | hours true runway < 1 d, no critical | exhaustions not warned 24 h ahead "
          "| critical onsets with true runway > 2x critical | median abs ln(pred/true runway) |")
    print("|---|---:|---:|---:|---:|")
    for m in METHODS:
        t = totals[m]
        print(f"| {m} | {t['missed_h']} | {t['unwarned']} | {t['false_crit']} | {t['med_log_err']} |")
    print(f"\nCalibration over samples with a true runway under {CALIBRATION_DAYS:g} days "
          "(P10 coverage calibrated at 0.10, P50 at 0.50; pinball loss in days, lower is better):\n")
    print("| method | samples | P10 coverage | P50 coverage | P10 pinball | P50 pinball |")
    print("|---|---:|---:|---:|---:|---:|")
    for m in METHODS:
        t = totals[m]
        print(f"| {m} | {t['cal_samples']} | {fmt(t['cov_p10'])} | {fmt(t['cov_p50'])} "
              f"| {fmt(t['pinball_p10'])} | {fmt(t['pinball_p50'])} |")
    if args.per_trace:
        print("\n| trace | kind | top-ups | events | " + " | ".join(
            f"{m} missed_h/unwarned/false_crit/med" for m in METHODS) + " |")
        print("|---|---|---|---:|" + "---|" * len(METHODS))
        for r in results:
            cells = []
            for m in METHODS:
                s = r[m]
                med = round(statistics.median(s["errs"]), 2) if s["errs"] else "-"
                cells.append(f"{s['missed_h']:.1f}/{s['unwarned']}/{s['false_crit']}/{med}")
            print(f"| {r['name']} | {r['kind']} | {r['policy']} | {r['creditwatch']['events']} | " + " | ".join(cells) + " |")
        print("\n| trace | samples < 30 d | creditwatch cov P10/P50 | predict_linear cov P50 | avg3d cov P50 |")
        print("|---|---:|---|---:|---:|")
        for r in results:
            c = {m: pooled_calibration([r[m]["calibration"]]) for m in METHODS}
            print(f"| {r['name']} | {c['creditwatch']['cal_samples']} | {fmt(c['creditwatch']['cov_p10'])}/"
                  f"{fmt(c['creditwatch']['cov_p50'])} | {fmt(c['predict_linear']['cov_p50'])} "
                  f"| {fmt(c['avg3d']['cov_p50'])} |")
    slowest = max(r["seconds"] for r in results)
    print(f"\nslowest backtest: {slowest:.2f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"totals": totals, "events": events, "traces": [
                {k: (v if not isinstance(v, dict) else {kk: vv for kk, vv in v.items() if kk != "errs"})
                 for k, v in r.items()} for r in results]}, f, indent=1)


if __name__ == "__main__":
    main()
