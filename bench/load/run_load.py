#!/usr/bin/env python3
"""Load harness for creditwatch: N DeepSeek accounts on a 1 s interval against nginx on loopback.

Starts nginx (prefix in a temp dir, a free 127.0.0.1 port, a static DeepSeek balance body),
writes a creditwatch config with N deepseek accounts whose base_url points at it, runs the
daemon for a fixed time and measures, over a steady window after a warm-up:

  * stored samples per second (the probe rate) and CPU seconds per probe (utime+stime),
  * peak RSS (VmHWM) and the RSS at the end,
  * database bytes per million samples (after a WAL checkpoint),
  * wrk's request rate against the same nginx for the same duration (run after the daemon,
    so the two do not share the CPU), and our rate as a ratio of it,
  * the bare libcurl reference client (bench/load/curl_reference.cpp: one easy handle,
    keep-alive, body discarded) making as many requests to the same nginx URL as the daemon
    stored probes in its window, right after the daemon stopped: its CPU µs per request, and
    ours per stored probe as a ratio of it (issue 16's target: at most 2 at 5,000 accounts),
  * optionally: ten SIGKILLs under load, each followed by a restart, then
    PRAGMA integrity_check and a check that no acknowledged (committed) sample was lost.

Stored probes are counted from the database: schema 4 counts them in `accounts`
(ok_probes + failed_probes); older schemas stored one `samples` row per successful probe.

Python 3 standard library only. Example:

  bench/load/run_load.py --binary build-release-h/src/creditwatch --accounts 5000 --duration 30 --kills 10
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

DEEPSEEK_BODY = ('{"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.00",'
                 '"granted_balance":"10.00","topped_up_balance":"100.00"}]}')

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_balance(path, total):
    assert '"total_balance":"110.00"' in DEEPSEEK_BODY
    body = DEEPSEEK_BODY.replace('"total_balance":"110.00"', f'"total_balance":"{total:.2f}"')
    with open(path + ".tmp", "w") as f:
        f.write(body)
    os.chmod(path + ".tmp", 0o644)
    os.replace(path + ".tmp", path)  # nginx opens the file per request: never half-written


def spend_forever(path, per_second, stop):
    """Lowers the served balance every second, so every account spends (the ledger grows)."""
    total = 1_000_000.0
    while not stop.wait(1.0):
        total = max(0.0, total - per_second)
        write_balance(path, total)


def write_nginx_conf(prefix, port, workers, balance_file=None):
    conf = f"""
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/client_body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server {{
    listen 127.0.0.1:{port};
    location = /user/balance {{
      default_type application/json;
      {f"alias {balance_file};" if balance_file else f"return 200 '{DEEPSEEK_BODY}';"}
    }}
  }}
}}
"""
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def start_nginx(prefix, port, workers, balance_file=None):
    conf = write_nginx_conf(prefix, port, workers, balance_file)
    proc = subprocess.Popen(["nginx", "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "error.log"),
                             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("nginx failed: " + proc.stderr.read().decode())
            time.sleep(0.05)
    raise SystemExit("nginx did not start listening")


def write_creditwatch_conf(path, db, port, accounts, interval, level):
    lines = [
        "storage:",
        f"  path: {db}",
        "http:",
        "  listen: 'off'",
        "defaults:",
        f"  interval: {interval}",
        "  timeout: 5s",
        "logging:",
        f"  level: {level}",
        "accounts:",
    ]
    for i in range(accounts):
        lines += [
            f"  - name: load-{i:05d}",
            "    provider: deepseek",
            f"    api_key: sk-load-{i:05d}",
            f"    base_url: http://127.0.0.1:{port}",
        ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    return out


def count_stored_probes(con):
    """Probes the database holds, committed: schema 4 counts them per account; before it,
    each successful probe was a `samples` row (MAX(id): a b-tree lookup)."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(accounts)")}
    if "ok_probes" in columns:
        return con.execute("SELECT COALESCE(SUM(ok_probes + failed_probes), 0) FROM accounts").fetchone()[0]
    return con.execute("SELECT COALESCE(MAX(id), 0) FROM samples").fetchone()[0]


def max_sample_id(db):
    # Safe next to the writer in WAL mode: a read-only connection sees the last commit.
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return count_stored_probes(con)
    finally:
        con.close()


def logical_db_bytes(db):
    """Bytes of the database's pages in use (page_count - freelist_count), as the last commit
    left them (WAL included): its growth over the window divided by the probes stored is the
    issue's "bytes per probe", independent of when checkpoints run."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
        return (pages - free) * size
    finally:
        con.close()


def start_daemon(binary, conf, log):
    return subprocess.Popen([binary, "run", "-c", conf], stdout=log, stderr=subprocess.STDOUT)


def wait_for_db(db, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"creditwatch exited early with {proc.returncode}")
        try:
            if max_sample_id(db) > 0:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    raise SystemExit("creditwatch stored no sample")


def measure_daemon(args, binary, conf, db, log, perf_data=None):
    proc = start_daemon(binary, conf, log)
    try:
        wait_for_db(db, proc)
        time.sleep(args.warmup)
        perf = None
        if perf_data:
            # Call graphs over the measured window only (DWARF unwinding: our frames have no
            # frame pointers). perf's own cost lands on the daemon's CPU: such a run's figures
            # are marked as perturbed.
            perf = subprocess.Popen(["perf", "record", "-q", "-F", str(args.perf_frequency), "--call-graph", "dwarf,16384",
                                     "-p", str(proc.pid), "-o", perf_data], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        t0, cpu0, n0, b0 = time.monotonic(), proc_cpu_seconds(proc.pid), max_sample_id(db), logical_db_bytes(db)
        time.sleep(args.duration)
        t1, cpu1, n1, b1 = time.monotonic(), proc_cpu_seconds(proc.pid), max_sample_id(db), logical_db_bytes(db)
        status = proc_status(proc.pid)
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    samples = n1 - n0
    seconds = t1 - t0
    return {
        "samples": samples,
        "seconds": seconds,
        "rate": samples / seconds,
        "cpu_seconds": cpu1 - cpu0,
        "cpu_percent": 100.0 * (cpu1 - cpu0) / seconds,
        "cpu_us_per_probe": 1e6 * (cpu1 - cpu0) / samples if samples else None,
        "db_growth_bytes_per_probe": (b1 - b0) / samples if samples else None,
        "vm_hwm_kib": status.get("VmHWM"),
        "vm_rss_kib": status.get("VmRSS"),
        "threads": status.get("Threads"),
        "exit_code": proc.returncode,
    }


def db_bytes_per_million(db):
    con = sqlite3.connect(db, timeout=30)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = count_stored_probes(con)
    finally:
        con.close()
    size = os.path.getsize(db)
    return total, size, (size / total * 1e6 if total else None)


def run_reference(reference, port, requests, connections):
    """The bare libcurl poll of the daemon's URL, as many requests as it stored probes."""
    out = subprocess.run([reference, f"http://127.0.0.1:{port}/user/balance", str(requests), str(connections),
                          "Bearer sk-load-00000"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def run_wrk(port, duration, connections, threads):
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                          f"http://127.0.0.1:{port}/user/balance"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else None


def kill_pass(args, binary, conf, db, log):
    """SIGKILLs the daemon under load `kills` times; every committed sample must survive."""
    rng = random.Random(args.seed)
    results = []
    for i in range(args.kills):
        proc = start_daemon(binary, conf, log)
        wait_for_db(db, proc)
        time.sleep(rng.uniform(0.5, 2.5))
        before = max_sample_id(db)  # committed, hence acknowledged, before the kill
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = max_sample_id(db)
        con = sqlite3.connect(db, timeout=30)
        try:
            check = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
        ok = check == [("ok",)]
        results.append({"kill": i + 1, "committed_before": before, "after_restart": after, "integrity": ok})
        if not ok or after < before:
            print(f"kill {i + 1}: integrity {check[:3]}, samples {before} -> {after}", file=sys.stderr)
    return results


def run_hyperfine(binary, work, port):
    conf = os.path.join(work, "check.yaml")
    write_creditwatch_conf(conf, os.path.join(work, "check.db"), port, 1, "1s", "warn")
    export = os.path.join(work, "hyperfine.json")
    subprocess.run(["hyperfine", "--warmup", "5", "--runs", "50", "-N", "--export-json", export,
                    f"{binary} check -c {conf}"], capture_output=True, text=True, check=True)
    with open(export) as f:
        r = json.load(f)["results"][0]
    return {"mean_ms": r["mean"] * 1000, "stddev_ms": r["stddev"] * 1000, "min_ms": r["min"] * 1000,
            "median_ms": r["median"] * 1000}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", default="build-release-h/src/creditwatch")
    p.add_argument("--accounts", type=int, nargs="+", default=[1000, 5000, 10000])
    p.add_argument("--interval", default="1s")
    p.add_argument("--duration", type=float, default=30, help="measured seconds per run (and for wrk)")
    p.add_argument("--warmup", type=float, default=5, help="seconds after the first sample before measuring")
    p.add_argument("--kills", type=int, default=0, help="SIGKILL rounds (0: skip)")
    p.add_argument("--kill-accounts", type=int, default=5000, help="the N whose run gets the SIGKILL rounds")
    p.add_argument("--nginx-workers", type=int, default=1)
    p.add_argument("--wrk-connections", type=int, default=64, help="default: the most probe threads the daemon starts")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--wrk-duration", type=float, help="seconds for wrk (default: --duration)")
    p.add_argument("--spend", type=float, default=0,
                   help="lower the served balance by this much every second (default 0: a static body)")
    p.add_argument("--hyperfine", action="store_true", help="also time `check` cold start with hyperfine")
    p.add_argument("--reference", help="the bare libcurl client (default: bench/curl_reference of --binary's build)")
    p.add_argument("--reference-connections", type=int, default=1,
                   help="easy handles (one thread each) the reference client polls with (default 1: the cheapest)")
    p.add_argument("--no-wrk", action="store_true", help="skip wrk")
    p.add_argument("--repeat", type=int, default=1, help="measure each N this many times (fresh database each)")
    p.add_argument("--perf", help="perf record -g the daemon over the measured window into PREFIX-N-K.data")
    p.add_argument("--perf-frequency", type=int, default=499)
    p.add_argument("--log-level", default="info")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", help="write the results here as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = p.parse_args()
    binary = os.path.abspath(args.binary)
    reference = os.path.abspath(args.reference or os.path.join(os.path.dirname(binary), "..", "bench", "curl_reference"))
    if not os.access(reference, os.X_OK):
        raise SystemExit(f"no reference client at {reference}: build the curl_reference target "
                         "(-DCREDITWATCH_BENCH=ON) or pass --reference")

    work = tempfile.mkdtemp(prefix="creditwatch-load-")
    port = free_port()
    stop_spending = threading.Event()
    balance_file = None
    if args.spend > 0:
        os.chmod(work, 0o755)  # nginx's workers run as www-data when started by root
        balance_file = os.path.join(work, "balance.json")
        write_balance(balance_file, 1_000_000.0)
        spender = threading.Thread(target=spend_forever, args=(balance_file, args.spend, stop_spending), daemon=True)
        spender.start()
    nginx = start_nginx(work, port, args.nginx_workers, balance_file)
    results = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release()},
               "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": " ".join(sys.argv), "runs": []}
    try:
        for n, k in [(n, k) for n in args.accounts for k in range(args.repeat)]:
            run_dir = os.path.join(work, f"n{n}-{k}")
            os.mkdir(run_dir)
            conf, db = os.path.join(run_dir, "creditwatch.yaml"), os.path.join(run_dir, "creditwatch.db")
            write_creditwatch_conf(conf, db, port, n, args.interval, args.log_level)
            perf_data = os.path.abspath(f"{args.perf}-{n}-{k}.data") if args.perf else None
            with open(os.path.join(run_dir, "daemon.log"), "wb") as log:
                run = measure_daemon(args, binary, conf, db, log, perf_data)
            total, size, per_million = db_bytes_per_million(db)
            # Same nginx, same number of requests, not at the same time as the daemon.
            ref = run_reference(reference, port, max(1, run["samples"]), args.reference_connections)
            ours = run["cpu_us_per_probe"]
            run.update({"reference": ref, "reference_cpu_us": ref["cpu_us_per_request"],
                        "ratio_to_reference": ours / ref["cpu_us_per_request"] if ours and ref["cpu_us_per_request"]
                        else None, "perf_data": perf_data})
            wrk_rate = None if args.no_wrk else run_wrk(port, int(args.wrk_duration or args.duration),
                                                         args.wrk_connections, args.wrk_threads)
            run.update({"accounts": n, "db_samples": total, "db_bytes": size, "db_bytes_per_million": per_million,
                        "wrk_rate": wrk_rate, "ratio_to_wrk": run["rate"] / wrk_rate if wrk_rate else None})
            if args.kills and n == args.kill_accounts:
                with open(os.path.join(run_dir, "kills.log"), "wb") as log:
                    kills = kill_pass(args, binary, conf, db, log)
                run["kills"] = kills
                run["kills_ok"] = all(k["integrity"] and k["after_restart"] >= k["committed_before"] for k in kills)
            results["runs"].append(run)
            print_row(run)
        if args.hyperfine:
            results["check_cold_start"] = run_hyperfine(binary, work, port)
            print("check (1 account, hyperfine): {mean_ms:.1f} ms ± {stddev_ms:.1f} (min {min_ms:.1f})".format(
                **results["check_cold_start"]))
    finally:
        stop_spending.set()
        if balance_file:
            spender.join()  # before the temp dir goes: it may be writing there
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept", work)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0 if all(r.get("kills_ok", True) for r in results["runs"]) else 1


HEADER_PRINTED = False


def print_row(run):
    global HEADER_PRINTED
    if not HEADER_PRINTED:
        print("| accounts | probes/s | CPU % | CPU µs/probe | reference µs/request | ratio to reference | VmHWM MiB "
              "| VmRSS MiB | DB bytes per probe (whole file) | DB growth per probe in the window | wrk req/s | ratio to wrk | SIGKILL x10 |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        HEADER_PRINTED = True
    kills = run.get("kills")
    kills_text = "-" if kills is None else ("ok" if run["kills_ok"] else "FAILED")
    per_probe = run["cpu_us_per_probe"]
    perturbed = " (perf)" if run.get("perf_data") else ""
    wrk = f"{run['wrk_rate']:.0f} | {run['ratio_to_wrk']:.3f}" if run["wrk_rate"] else "- | -"
    print(f"| {run['accounts']} | {run['rate']:.0f} | {run['cpu_percent']:.0f} | "
          f"{per_probe:.1f}{perturbed} | {run['reference_cpu_us']:.1f} | {run['ratio_to_reference']:.2f} | "
          f"{run['vm_hwm_kib'] / 1024:.1f} | {run['vm_rss_kib'] / 1024:.1f} | "
          f"{(run['db_bytes_per_million'] or 0) / 1e6:.0f} | {run['db_growth_bytes_per_probe'] or 0:.1f} | "
          f"{wrk} | {kills_text} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
