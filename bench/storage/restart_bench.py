#!/usr/bin/env python3
"""Memory and restart of `creditwatch run` on a filled history (issue 16).

For each N: fills a fresh database with bench/storage/fill_history (N accounts, --days of
history at --interval, ledger snapshots as the daemon's housekeeping saves them, the last
--raw-hours of readings), starts nginx on loopback serving DeepSeek's balance body (as
bench/load/run_load.py does) and `creditwatch run` on a config of the same N accounts
(`interval` = --interval, /healthz on a free port), and measures:

* time from exec to the first /healthz 200;
* time from exec until half, 90 % and all of the accounts have a successful probe stored
  after the start (accounts.last_ok_ms, polled read-only every 20 ms): the first probe
  round, each account's ledger restored from its snapshot plus the readings after it. The
  schedule spreads a new account's first probe over min(interval, 5 s) (scheduler/schedule.cpp),
  so a round that keeps up ends just after 5 s;
* CPU seconds of the main thread at the first /healthz 200 and of the whole process at the
  end of the first round (less moved by other load on the machine than the wall times);
* VmHWM and VmRSS right then, and again after --settle seconds (steady state: the ledgers
  came back full, five weeks of hours each).

A warm restart (the realistic one: alerts stored as they fired, the fill's snapshots plus the
runs of one round) is two runs: the first with --kill --work W1, the second with
--db W1/cw-N.db --work W2.

With --db PATH the history is not filled: each run starts on a copy of that database (made
e.g. by bench/storage/clone_accounts.py from bench/storage/year_history's year), whose
accounts must be load-00000 ... load-(N-1).

Python 3 standard library only; needs nginx on PATH.
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "load"))
import run_load  # noqa: E402  (free_port, start_nginx, proc_status)


def write_conf(path, db, nginx_port, http_port, accounts, interval):
    lines = ["storage:", f"  path: {db}", "http:", f"  listen: 127.0.0.1:{http_port}", "defaults:",
             f"  interval: {interval}s", "  timeout: 5s", "logging:", "  level: warn", "accounts:"]
    for i in range(accounts):
        lines += [f"  - name: load-{i:05d}", "    provider: deepseek", f"    api_key: sk-load-{i:05d}",
                  f"    base_url: http://127.0.0.1:{nginx_port}"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def healthy(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5) as r:
            return r.status == 200
    except Exception:
        return False


def probed_since(db, since_ms):
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM accounts WHERE last_ok_ms >= ?", (since_ms,)).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def thread_cpu_seconds(pid, tid):
    """User + system CPU of one thread so far: unlike wall times, barely moved by other load."""
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def measure(args, n, work):
    db = os.path.join(work, f"cw-{n}.db")
    if args.db:
        for suffix in ("-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        shutil.copyfile(args.db, db)  # the daemon writes to it: the given one stays as it was
        os.sync()  # gigabytes just copied: their writeback would slow the daemon's own fsyncs
        print(f"copied {args.db} ({os.path.getsize(db) / 1e6:.0f} MB)", flush=True)
    else:
        fill = subprocess.run([args.fill, "--db", db, "--accounts", str(n), "--days", str(args.days), "--interval",
                               str(args.interval), "--raw-hours", str(args.raw_hours), "--snapshot-age",
                               str(args.snapshot_age)], check=True, capture_output=True, text=True)
        print(fill.stdout.strip(), flush=True)
    nginx_port, http_port = run_load.free_port(), run_load.free_port()
    prefix = os.path.join(work, f"nginx-{n}")
    os.makedirs(prefix, exist_ok=True)
    nginx = run_load.start_nginx(prefix, nginx_port, 1)
    conf = os.path.join(work, f"cw-{n}.yaml")
    write_conf(conf, db, nginx_port, http_port, n, args.interval)
    try:
        with open(os.path.join(work, f"daemon-{n}.log"), "w") as log:
            start_ms = int(time.time() * 1000)
            t0 = time.monotonic()
            proc = subprocess.Popen([args.binary, "run", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
            healthz = round_done = None
            main_cpu_at_healthz = cpu_at_round = None
            milestones = {}  # share of the accounts probed -> seconds since exec
            while time.monotonic() - t0 < args.timeout:
                if proc.poll() is not None:
                    raise SystemExit(f"creditwatch exited with {proc.returncode}; see {log.name}")
                now = time.monotonic() - t0
                if healthz is None and healthy(http_port):
                    healthz = now
                    # The main thread's CPU until it served: config, store, seeding, HTTP start.
                    main_cpu_at_healthz = thread_cpu_seconds(proc.pid, proc.pid)
                if round_done is None:
                    done = probed_since(db, start_ms)
                    for share in (0.5, 0.9):
                        if share not in milestones and done >= share * n:
                            milestones[share] = time.monotonic() - t0
                    if done >= n:
                        round_done = time.monotonic() - t0
                        cpu_at_round = run_load.proc_cpu_seconds(proc.pid)
                if healthz is not None and round_done is not None:
                    break
                time.sleep(0.02)
            first = run_load.proc_status(proc.pid)
            time.sleep(args.settle)
            settled = run_load.proc_status(proc.pid)
            if args.kill:
                proc.kill()  # SIGKILL: the ledgers stay as last saved, the alerts as they fired
            else:
                proc.terminate()
            proc.wait(timeout=30)
    finally:
        nginx.terminate()
        nginx.wait()
    row = {"accounts": n, "healthz_s": healthz, "half_probed_s": milestones.get(0.5),
           "ninety_percent_probed_s": milestones.get(0.9), "first_round_s": round_done,
           "main_cpu_at_healthz_s": main_cpu_at_healthz, "cpu_at_first_round_s": cpu_at_round,
           "hwm_first_mib": first.get("VmHWM", 0) / 1024, "rss_first_mib": first.get("VmRSS", 0) / 1024,
           "hwm_settled_mib": settled.get("VmHWM", 0) / 1024, "rss_settled_mib": settled.get("VmRSS", 0) / 1024,
           "db_mb": os.path.getsize(db) / 1e6}
    print(row, flush=True)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", required=True, help="creditwatch")
    p.add_argument("--fill", help="bench/fill_history of the same build (unless --db)")
    p.add_argument("--db", help="an existing database to start on (a copy of it) instead of filling one")
    p.add_argument("--accounts", type=int, nargs="+", default=[1000, 5000])
    p.add_argument("--days", type=int, default=35)
    p.add_argument("--interval", type=int, default=60, help="seconds between probes (history and daemon)")
    p.add_argument("--raw-hours", type=int, default=2)
    p.add_argument("--snapshot-age", type=int, default=30, help="minutes since the last ledger save (kill -9)")
    p.add_argument("--settle", type=float, default=60, help="seconds after the first round before re-reading RSS")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--work", help="directory for databases and logs (default: a temp dir)")
    p.add_argument("--kill", action="store_true",
                   help="end the daemon with kill -9 instead of SIGTERM: WORK/cw-N.db is then the database of a "
                        "warm restart (pass it as --db to a second run with another --work)")
    args = p.parse_args()
    if not args.fill and not args.db:
        p.error("give --fill or --db")
    work = args.work or tempfile.mkdtemp(prefix="cw-restart-")
    os.makedirs(work, exist_ok=True)
    for n in args.accounts:
        measure(args, n, work)


if __name__ == "__main__":
    main()
