#!/usr/bin/env python3
"""Read paths at fleet scale: how long GET /metrics and the /api/v1 endpoints take with N accounts.

Starts nginx on loopback (the DeepSeek body, as run_load.py does) and the daemon with N deepseek
accounts probing it (two labels each, as a fleet would tag them) and its HTTP server on a free
port; waits until every account has been probed, then times each read path on a fresh
connection, over and over, while the probes go on:

  * GET /metrics (and the number of series it exposes),
  * GET /api/v1/accounts (one page at the default limit, and every page through the fleet),
  * GET /api/v1/summary,
  * GET /api/v1/accounts/NAME/series (a day at the raw step),

and the daemon's CPU share over the run. An endpoint the daemon does not have (an older
build) is reported as missing. Python 3 standard library only. Example:

  bench/load/bench_read_paths.py --binary build-r/src/creditwatch --accounts 5000 --interval 1s
"""

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_load import free_port, proc_cpu_seconds, start_nginx  # noqa: E402


def write_conf(path, db, nginx_port, http_port, accounts, interval):
    lines = [
        "storage:",
        f"  path: {db}",
        "http:",
        f"  listen: 127.0.0.1:{http_port}",
        "defaults:",
        f"  interval: {interval}",
        "  timeout: 5s",
        "logging:",
        "  level: warn",
        "accounts:",
    ]
    for i in range(accounts):
        lines += [
            f"  - name: fleet-{i:05d}",
            "    provider: deepseek",
            f"    api_key: sk-fleet-{i:05d}",
            f"    base_url: http://127.0.0.1:{nginx_port}",
            f"    labels: {{team: team-{i % 40:02d}, tier: {'prod' if i % 3 else 'dev'}}}",
        ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def get(port, path, timeout=60):
    """(status, body bytes, seconds) on a fresh connection, the body read to its end."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, body, time.perf_counter() - t0


def probed_accounts(port):
    """Accounts with a balance in /metrics (works on builds with and without the paged API)."""
    status, body, _ = get(port, "/metrics")
    if status != 200:
        return 0
    return sum(1 for line in body.decode().splitlines() if line.startswith("creditwatch_balance{"))


def timings(samples):
    ms = sorted(s * 1000 for s in samples)
    return {
        "runs": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p90_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.9))], 1),
        "max_ms": round(ms[-1], 1),
    }


def time_path(port, path, repeat):
    seconds, size, status = [], 0, None
    for _ in range(repeat):
        status, body, elapsed = get(port, path)
        if status != 200:
            return {"status": status}
        seconds.append(elapsed)
        size = len(body)
    return {**timings(seconds), "bytes": size, "status": status, "body": body}


def page_through(port, limit):
    """Every page of /api/v1/accounts at `limit`: the time for the whole fleet, and pages."""
    t0 = time.perf_counter()
    cursor, pages, rows, slowest = None, 0, 0, 0.0
    while True:
        path = f"/api/v1/accounts?limit={limit}" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, body, elapsed = get(port, path)
        if status != 200:
            return {"status": status}
        page = json.loads(body)
        pages += 1
        rows += len(page["accounts"])
        slowest = max(slowest, elapsed)
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return {"pages": pages, "accounts": rows, "total_ms": round((time.perf_counter() - t0) * 1000, 1),
            "slowest_page_ms": round(slowest * 1000, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--interval", default="1s")
    parser.add_argument("--repeat", type=int, default=20, help="requests per endpoint")
    parser.add_argument("--nginx-workers", type=int, default=1)
    parser.add_argument("--settle", type=float, default=5, help="seconds after every account was probed")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="cw-read-")
    nginx_port, http_port = free_port(), free_port()
    db, conf = os.path.join(work, "cw.db"), os.path.join(work, "cw.yaml")
    write_conf(conf, db, nginx_port, http_port, args.accounts, args.interval)
    nginx = start_nginx(work, nginx_port, args.nginx_workers)
    log = open(os.path.join(work, "daemon.log"), "w")
    daemon = subprocess.Popen([args.binary, "run", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    result = {"accounts": args.accounts, "interval": args.interval, "machine": platform.node(),
              "cpus": os.cpu_count(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        deadline = time.time() + 120
        while True:
            if daemon.poll() is not None:
                raise SystemExit(f"creditwatch exited with {daemon.returncode}; see {log.name}")
            try:
                if probed_accounts(http_port) >= args.accounts:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise SystemExit("not every account was probed within 120 s")
            time.sleep(0.5)
        time.sleep(args.settle)
        t0, cpu0 = time.monotonic(), proc_cpu_seconds(daemon.pid)

        metrics = time_path(http_port, "/metrics", args.repeat)
        if "body" in metrics:
            text = metrics.pop("body").decode()
            metrics["series"] = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
            metrics["probe_duration_series"] = sum(
                1 for line in text.splitlines() if line.startswith("creditwatch_probe_duration_seconds"))
        result["metrics"] = metrics
        accounts = time_path(http_port, "/api/v1/accounts", args.repeat)
        accounts.pop("body", None)
        result["accounts_default_page"] = accounts
        result["accounts_all_pages_limit_100"] = page_through(http_port, 100)
        result["accounts_all_pages_limit_1000"] = page_through(http_port, 1000)
        result["accounts_sorted_by_runway_desc"] = {
            k: v for k, v in time_path(http_port, "/api/v1/accounts?sort=-runway", args.repeat).items() if k != "body"}
        result["accounts_q_filter"] = {
            k: v for k, v in time_path(http_port, "/api/v1/accounts?q=team-07", args.repeat).items() if k != "body"}
        summary = time_path(http_port, "/api/v1/summary", args.repeat)
        summary.pop("body", None)
        result["summary"] = summary
        series = time_path(http_port, "/api/v1/accounts/fleet-00042/series", args.repeat)
        series.pop("body", None)
        result["series_default"] = series

        t1, cpu1 = time.monotonic(), proc_cpu_seconds(daemon.pid)
        result["daemon_cpu_percent_while_reading"] = round(100 * (cpu1 - cpu0) / (t1 - t0), 1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)
        log.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
