#!/usr/bin/env python3
"""Replicas on PostgreSQL (issue 15): failover under repeated kill -9, and scale-out.

Starts its own PostgreSQL 15 (initdb in a temp dir, a free loopback port, as the `postgres`
user when run as root; fsync and synchronous_commit on, so the figures are honest), nginx on
loopback serving DeepSeek balance bodies (bench/load/run_load.py's pieces), a webhook sink in
this process, and several `creditwatch run` replicas of one config sharing the database.

Failover (`--mode failover`): R replicas, N accounts at `--interval`; after a warm-up, every
`--kill-every` seconds one replica (round robin) gets SIGKILL and is restarted at once (a new
process, so a new replica id: the default hostname-pid). Some accounts ("alert accounts") are
served a balance that drops below their min_balance and recovers, group by group, so alerts
fire and resolve all through the run. Measured from the database and the sink:

  * failover time: for each kill, the accounts the killed replica leased just before it, and
    for each the time from the kill to its next stored probe (whoever made it);
  * probe coverage: probe rows stored during the kill phase / accounts x phase / interval;
  * notifications: every outbox row against the webhook deliveries, by (dedup_key, status,
    reason, severity, time): lost = queued but never delivered, duplicates = delivered more
    than once, order violations = an alert's notifications arriving out of outbox order;
    the outbox's "reclaimed" count (log lines, and /metrics when it exposes one).

Scale-out (`--mode scaleout`): N accounts at `--scale-interval` (more than one replica can
hold: 10,000 at 1 s by default), with 1, 2, 3 replicas in turn, each on a fresh database:
stored probe rows per second over a steady window, CPU of the replicas, of PostgreSQL and of
the whole machine, and probe rows per PostgreSQL transaction (group commit).

Python 3 standard library only. The runs in docs/benchmarks.md ("Replicas on PostgreSQL"):

  bench/replicas/run_failover.py --binary build-h6/src/creditwatch --scale-accounts 5000 --json all.json
  bench/replicas/run_failover.py --binary build-h6/src/creditwatch --mode scaleout --json scale.json
  bench/replicas/run_failover.py --binary build-h6/src/creditwatch --mode failover --lease 5s --duration 180
"""

import argparse
import http.server
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "load"))
from run_load import CLK_TCK, DEEPSEEK_BODY, free_port, proc_cpu_seconds, write_balance  # noqa: E402

PG_BIN = "/usr/lib/postgresql/15/bin"
HIGH_BALANCE = 110.0
LOW_BALANCE = 20.0
MIN_BALANCE = 50.0  # alert accounts fire min_balance while served LOW_BALANCE
RECLAIMED = re.compile(r"notifier \S+: (\S+) was being sent by \S+ when it stopped")


def now_ms():
    return int(time.time() * 1000)


def seconds_of(duration):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    if not match:
        raise SystemExit(f"bad duration {duration!r}")
    return float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def quantile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------- PostgreSQL


class Postgres:
    """One cluster in `directory`, its postmaster run as `postgres` when we are root."""

    def __init__(self, directory):
        self.directory = directory
        self.data = os.path.join(directory, "data")
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        self.proc = None
        os.makedirs(directory)
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(directory, user.pw_uid, user.pw_gid)
        self.run_as(["initdb", "-D", self.data, "-U", "postgres", "-E", "UTF8", "--no-locale", "--auth=trust"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            # fsync, synchronous_commit and full_page_writes keep their defaults (on).
            f.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nmax_connections = 300\n"
                    f"unix_socket_directories = '{directory}'\n")

    def run_as(self, argv):
        argv = [os.path.join(PG_BIN, argv[0])] + argv[1:]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        subprocess.run(argv, check=True, capture_output=True)

    def start(self):
        argv = [os.path.join(PG_BIN, "postgres"), "-D", self.data]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        log = open(os.path.join(self.directory, "postgres.log"), "ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                self.sql("SELECT 1")
                return
            except subprocess.CalledProcessError:
                if self.proc.poll() is not None:
                    raise SystemExit("PostgreSQL did not start: see " + self.directory + "/postgres.log")
                time.sleep(0.2)
        raise SystemExit("PostgreSQL did not become ready")

    def postmaster_pid(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def pids(self):
        """The postmaster and every backend and helper it forked."""
        root = self.postmaster_pid()
        out = [root]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == root:
                out.append(int(entry))
        return out

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.postmaster_pid(), signal.SIGINT)  # fast shutdown
        except (OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def url(self, database):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, *statements, database="postgres"):
        """Runs statements in one session; returns the last one's rows as lists of strings."""
        argv = ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "postgres", "-d", database]
        for statement in statements:
            argv += ["-c", statement]
        out = subprocess.run(argv, check=True, capture_output=True, text=True,
                             env=dict(os.environ, PGCONNECT_TIMEOUT="10")).stdout
        return [line.split("\t") for line in out.splitlines() if line]


# ---------------------------------------------------------------- nginx and balances


def start_nginx(prefix, port, www):
    """run_load.py's nginx, plus /flap/GROUP/user/balance served from files under `www`."""
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
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
      return 200 '{DEEPSEEK_BODY}';
    }}
    location /flap/ {{
      default_type application/json;
      root {www};
    }}
  }}
}}
""")
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


def flap_file(www, group):
    return os.path.join(www, "flap", f"g{group}", "user", "balance")


def flap_forever(www, groups, period, stop):
    """Group g is low for `period` seconds, then high for `period`, phases spread evenly, so
    some alert fires or resolves every period/groups seconds."""
    start = time.monotonic()
    low = [None] * groups
    while True:
        t = time.monotonic() - start
        for g in range(groups):
            want = int((t + g * period / groups) / period) % 2 == 1
            if want != low[g]:
                write_balance(flap_file(www, g), LOW_BALANCE if want else HIGH_BALANCE)
                low[g] = want
        if stop.wait(0.2):
            return


# ---------------------------------------------------------------- webhook sink


class Sink:
    """A webhook receiver recording every delivery (200 to each)."""

    def __init__(self, delay):
        self.deliveries = []
        self.lock = threading.Lock()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(delay)  # a remote receiver's latency: a kill can land mid-send
                try:
                    j = json.loads(body)
                    record = {"at_ms": now_ms(), "key": [j.get("dedup_key"), j.get("status"), j.get("reason"),
                                                         j.get("severity"), j.get("time")]}
                except ValueError:
                    record = {"at_ms": now_ms(), "key": None}
                with sink.lock:
                    sink.deliveries.append(record)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- creditwatch replicas


def write_config(path, url, nginx_port, accounts, alert_accounts, groups, interval, lease, sink_port, level):
    lines = [
        "storage:",
        f"  url: {url}",
        "ha:",
        f"  lease: {lease}",
        "http:",
        "  listen: 127.0.0.1:${CW_HTTP_PORT}",
        "defaults:",
        f"  interval: {interval}",
        "  timeout: 5s",
        "logging:",
        f"  level: {level}",
    ]
    if sink_port:
        lines += ["notifiers:", "  - name: hook", "    type: webhook", f"    url: http://127.0.0.1:{sink_port}/hook"]
    lines.append("accounts:")
    for i in range(accounts):
        if i < alert_accounts:
            lines += [f"  - name: alert-{i:05d}", "    provider: deepseek", f"    api_key: sk-alert-{i:05d}",
                      f"    base_url: http://127.0.0.1:{nginx_port}/flap/g{i % groups}",
                      f"    min_balance: {MIN_BALANCE:.2f}"]
        else:
            lines += [f"  - name: load-{i:05d}", "    provider: deepseek", f"    api_key: sk-load-{i:05d}",
                      f"    base_url: http://127.0.0.1:{nginx_port}"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def replica_id_for(pid):
    # The default ha.replica_id: the hostname (anything but letters, digits, '-', '.' made '-'), '-', pid.
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "localhost"
    return f"{host}-{pid}"


class Replica:
    def __init__(self, slot, binary, conf, log_path):
        self.slot = slot
        self.binary = binary
        self.conf = conf
        self.log_path = log_path
        self.http_port = free_port()
        self.proc = None
        self.incarnations = []
        self.cpu_of_the_dead = 0.0  # CPU seconds of incarnations killed so far

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "run", "-c", self.conf], stdout=log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, CW_HTTP_PORT=str(self.http_port)))
        log.close()
        self.incarnations.append(self.proc.pid)

    @property
    def id(self):
        return replica_id_for(self.proc.pid)

    def cpu_seconds(self):
        """Of every incarnation so far, this one included."""
        try:
            return self.cpu_of_the_dead + proc_cpu_seconds(self.proc.pid)
        except OSError:
            return self.cpu_of_the_dead

    def kill(self):
        # Read just before the kill: what it spent since is lost, a few milliseconds at most.
        self.cpu_of_the_dead = self.cpu_seconds()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=5) as r:
                return r.read().decode()
        except OSError:
            return None


def wait_until(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise SystemExit("timed out waiting for " + what)


def live_leases(pg, database):
    try:
        return int(pg.sql(f"SELECT count(*) FROM leases WHERE expires_ms > {now_ms()}", database=database)[0][0])
    except subprocess.CalledProcessError:
        return -1  # no schema yet: the first replica is still migrating


def commits(pg, database):
    return int(pg.sql(f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'")[0][0])


def max_id(pg, database, table):
    return int(pg.sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}", database=database)[0][0])


# ---------------------------------------------------------------- CPU accounting


def machine_cpu():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) / CLK_TCK, idle / CLK_TCK


def cpu_of(pids):
    total = 0.0
    for pid in pids:
        try:
            total += proc_cpu_seconds(pid)
        except OSError:
            pass
    return total


class CpuWindow:
    """CPU seconds of the replicas, PostgreSQL, nginx and the whole machine over a window."""

    def __init__(self, replicas, pg, nginx):
        self.replicas, self.pg, self.nginx = replicas, pg, nginx
        # PostgreSQL's backends come and go with the replicas' connections: each one's CPU
        # is read every second while it lives, so one that exits still counts (all but its
        # last second).
        self.pg_seen = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.watch_postgres, daemon=True)
        self.thread.start()

    def watch_postgres(self):
        while True:
            self.poll_postgres()
            if self.stopped.wait(1.0):
                return

    def poll_postgres(self):
        for pid in self.pg.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # Keyed by pid and start time: a reused pid is another process.
            key = (pid, fields[19])
            with self.lock:
                self.pg_seen[key] = (int(fields[11]) + int(fields[12])) / CLK_TCK

    def close(self):
        self.stopped.set()
        self.thread.join()

    def sample(self):
        self.poll_postgres()
        total, idle = machine_cpu()
        with self.lock:
            pg = sum(self.pg_seen.values())
        return {"t": time.monotonic(), "replicas": sum(r.cpu_seconds() for r in self.replicas), "pg": pg,
                "nginx": cpu_of(self.nginx_pids()), "machine_total": total, "machine_idle": idle}

    def nginx_pids(self):
        out = [self.nginx.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == self.nginx.pid:
                            out.append(int(entry))
                except (OSError, IndexError, ValueError):
                    pass
        return out

    @staticmethod
    def shares(a, b):
        seconds = b["t"] - a["t"]
        busy = (b["machine_total"] - a["machine_total"]) - (b["machine_idle"] - a["machine_idle"])
        return {
            "seconds": seconds,
            "replicas_cpu_percent": 100 * (b["replicas"] - a["replicas"]) / seconds,
            "postgres_cpu_percent": 100 * (b["pg"] - a["pg"]) / seconds,
            "nginx_cpu_percent": 100 * (b["nginx"] - a["nginx"]) / seconds,
            "machine_busy_percent": 100 * busy / max(1e-9, b["machine_total"] - a["machine_total"]),
            "machine_cpus": os.cpu_count(),
        }


# ---------------------------------------------------------------- failover


def failover(args, work, pg, nginx, nginx_port, www):
    database = "failover"
    pg.sql(f"CREATE DATABASE {database}")
    sink = Sink(args.sink_delay)
    conf = os.path.join(work, "failover.yaml")
    write_config(conf, pg.url(database), nginx_port, args.accounts, args.alert_accounts, args.flap_groups,
                 args.interval, args.lease, sink.port, args.log_level)
    interval = seconds_of(args.interval)
    stop_flapping = threading.Event()
    flapper = threading.Thread(target=flap_forever, args=(www, args.flap_groups, args.flap_period, stop_flapping),
                               daemon=True)
    replicas = [Replica(i, args.binary, conf, os.path.join(work, f"failover-replica{i}.log"))
                for i in range(args.replicas)]
    cpu = CpuWindow(replicas, pg, nginx)
    kills = []
    result = {}
    try:
        for r in replicas:
            r.start()
        wait_until(lambda: live_leases(pg, database) == args.accounts, 120, "every account to be leased")
        flapper.start()
        time.sleep(args.warmup)
        # A baseline window without kills, for comparison with the kill phase.
        base_start = now_ms()
        time.sleep(args.baseline)
        base_end = now_ms()
        phase_start = now_ms()
        cpu0 = cpu.sample()
        # Kills at 0, kill_every, 2 kill_every, ... while inside the phase: ten minutes at
        # 30 s are 20 kills, the last 30 s before the phase ends.
        phase_t0 = time.monotonic()
        victim = 0
        while victim * args.kill_every < args.duration:
            time.sleep(max(0.0, phase_t0 + victim * args.kill_every - time.monotonic()))
            replica = replicas[victim % len(replicas)]
            victim += 1
            killed_id = replica.id
            held = [row[0] for row in pg.sql(
                f"SELECT account FROM leases WHERE owner = '{killed_id}' AND expires_ms > {now_ms()}",
                database=database)]
            kill_ms = now_ms()
            replica.kill()
            replica.start()
            kills.append({"kill": len(kills) + 1, "slot": replica.slot, "replica": killed_id,
                          "restarted_as": replica.id, "at_ms": kill_ms, "held": held})
            print(f"kill {len(kills)}: {killed_id} (held {len(held)} accounts), restarted as {replica.id}",
                  flush=True)
        time.sleep(max(0.0, phase_t0 + args.duration - time.monotonic()))
        phase_end = now_ms()
        cpu1 = cpu.sample()
        # Let the last failover finish and every queued notification go out.
        stop_flapping.set()
        flapper.join()
        time.sleep(args.lease_seconds + 2 * interval)
        drain_deadline = time.time() + args.drain_timeout
        while time.time() < drain_deadline:
            if int(pg.sql("SELECT count(*) FROM outbox WHERE state = 'pending'", database=database)[0][0]) == 0:
                break
            time.sleep(1)
        time.sleep(2)
        metrics = [r.get("/metrics") or "" for r in replicas]
        cluster = replicas[0].get("/api/v1/cluster")
    finally:
        stop_flapping.set()
        cpu.close()
        for r in replicas:
            r.stop()
        sink.close()

    result["cpu"] = CpuWindow.shares(cpu0, cpu1)
    result["failover"] = failover_times(pg, database, work, kills)
    result["coverage"] = coverage(pg, database, args.accounts, interval, phase_start, phase_end)
    result["baseline_coverage"] = coverage(pg, database, args.accounts, interval, base_start, base_end)
    result["notifications"] = notifications(pg, database, sink.deliveries)
    reclaimed = []
    for r in replicas:
        with open(r.log_path, errors="replace") as f:
            reclaimed += [m.group(1) for m in map(RECLAIMED.search, f) if m]
    n = result["notifications"]
    n["reclaimed_log_lines"] = len(reclaimed)
    # A duplicate is allowed only when its sender was killed mid-send and another replica
    # took the claim over (and said so in its log).
    n["duplicates_without_reclaim"] = sum(1 for key in n["duplicate_keys_all"] if key[0] not in reclaimed)
    result["notifications"]["reclaimed_metric_lines"] = [line for text in metrics for line in text.splitlines()
                                                         if "reclaim" in line and not line.startswith("#")]
    result["cluster_at_end"] = json.loads(cluster) if cluster else None
    result["kills"] = [{k: v for k, v in kill.items() if k != "held"} | {"held": len(kill["held"])} for kill in kills]
    result["phase_seconds"] = (phase_end - phase_start) / 1000
    return result


def failover_times(pg, database, work, kills):
    csv = os.path.join(work, "kills.csv")
    with open(csv, "w") as f:
        for kill in kills:
            for account in kill["held"]:
                f.write(f"{kill['kill']},{kill['at_ms']},{account}\n")
    os.chmod(csv, 0o644)
    rows = pg.sql(
        "CREATE TEMP TABLE k (kill INTEGER, kill_ms BIGINT, account TEXT)",
        f"\\copy k FROM '{csv}' CSV",
        "SELECT k.kill, k.account, (SELECT MIN(ts_ms) FROM probes p WHERE p.account = k.account AND "
        "p.ts_ms > k.kill_ms) - k.kill_ms, k.kill_ms - (SELECT MAX(ts_ms) FROM probes p WHERE "
        "p.account = k.account AND p.ts_ms <= k.kill_ms) FROM k",
        database=database)
    per_kill = {}
    never = []
    all_times = []
    for kill_no, account, after, before in rows:
        if after == "":
            never.append((int(kill_no), account))
            continue
        seconds = int(after) / 1000
        all_times.append(seconds)
        per_kill.setdefault(int(kill_no), []).append(seconds)
    kill_max = [max(v) for v in per_kill.values()]
    kill_median = [statistics.median(v) for v in per_kill.values()]
    return {
        "kills": len(kills),
        "accounts_failed_over": len(all_times),
        "never_probed_again": len(never),
        "never_probed_again_sample": never[:10],
        "per_account_median_s": statistics.median(all_times) if all_times else None,
        "per_account_p90_s": quantile(all_times, 0.9),
        "per_account_p99_s": quantile(all_times, 0.99),
        "per_account_max_s": max(all_times) if all_times else None,
        "per_kill_median_of_medians_s": statistics.median(kill_median) if kill_median else None,
        "per_kill_last_account_median_s": statistics.median(kill_max) if kill_max else None,
        "per_kill_last_account_max_s": max(kill_max) if kill_max else None,
        "per_kill": {k: {"accounts": len(v), "median_s": statistics.median(v), "max_s": max(v)}
                     for k, v in sorted(per_kill.items())},
    }


def coverage(pg, database, accounts, interval, start_ms, end_ms):
    done = int(pg.sql(f"SELECT count(*) FROM probes WHERE ts_ms >= {start_ms} AND ts_ms < {end_ms}",
                      database=database)[0][0])
    ok = int(pg.sql(f"SELECT count(*) FROM probes WHERE ts_ms >= {start_ms} AND ts_ms < {end_ms} AND outcome = 'ok'",
                    database=database)[0][0])
    scheduled = accounts * (end_ms - start_ms) / 1000 / interval
    # The longest gap between consecutive probes of each account inside the window (the
    # window's edges count as probes, so an account never probed shows the whole window).
    gaps = pg.sql(
        "WITH p AS (SELECT account, ts_ms FROM probes WHERE ts_ms >= "
        f"{start_ms} AND ts_ms < {end_ms}), g AS (SELECT account, ts_ms - LAG(ts_ms) OVER (PARTITION BY account "
        "ORDER BY ts_ms) AS gap FROM p) SELECT account, MAX(gap) FROM g GROUP BY account",
        database=database)
    max_gaps = [int(g) / 1000 for _, g in gaps if g != ""]
    return {
        "seconds": (end_ms - start_ms) / 1000,
        "probes": done,
        "probes_ok": ok,
        "scheduled": scheduled,
        "coverage": done / scheduled,
        "accounts_probed": len(gaps),
        "max_gap_median_s": statistics.median(max_gaps) if max_gaps else None,
        "max_gap_max_s": max(max_gaps) if max_gaps else None,
        "accounts_with_gap_over_3_intervals": sum(1 for g in max_gaps if g > 3 * interval),
    }


def notifications(pg, database, deliveries):
    rows = pg.sql(
        "SELECT id, state, attempts, dedup_key, payload::json->>'status', payload::json->>'reason', "
        "payload::json->>'severity', payload::json->>'ts' FROM outbox ORDER BY id", database=database)
    queued = {}
    order = {}
    states = {}
    state_of = {}
    for row_id, state, attempts, *key in rows:
        key = tuple(key)
        queued[key] = queued.get(key, 0) + 1
        state_of.setdefault(key, []).append(state)
        order.setdefault(key[0], []).append((int(row_id), key))
        states[state] = states.get(state, 0) + 1
    received = {}
    arrivals = {}
    for d in sorted(deliveries, key=lambda d: d["at_ms"]):
        key = tuple(d["key"]) if d["key"] else None
        received[key] = received.get(key, 0) + 1
        if key:
            arrivals.setdefault(key[0], []).append(key)
    lost = sum(max(0, n - received.get(key, 0)) for key, n in queued.items())
    # Of those: rows the outbox marked delivered though the sink never saw them (a real loss
    # whatever the drain), and rows still pending when the drain gave up (a backlog).
    missing = [key for key, n in queued.items() if received.get(key, 0) < n]
    lost_marked_delivered = sum(1 for key in missing if "delivered" in state_of[key])
    lost_still_pending = sum(1 for key in missing if "pending" in state_of[key])
    duplicates = sum(max(0, n - queued.get(key, 0)) for key, n in received.items() if key in queued)
    unknown = sum(n for key, n in received.items() if key not in queued)
    # Per alert, first arrivals must follow outbox order.
    violations = 0
    for dedup_key, queued_rows in order.items():
        rank = {key: i for i, (_, key) in enumerate(queued_rows)}
        seen = set()
        last = -1
        for key in arrivals.get(dedup_key, []):
            if key in seen:
                continue
            seen.add(key)
            if rank.get(key, last) < last:
                violations += 1
            last = max(last, rank.get(key, last))
    duplicate_keys = [list(key) for key, n in received.items() if key in queued and n > queued[key]
                      for _ in range(n - queued[key])]
    return {
        "queued": len(rows),
        "outbox_states": states,
        "delivered_to_sink": len(deliveries),
        "distinct_delivered": sum(1 for key in received if key in queued),
        "lost": lost,
        "lost_marked_delivered": lost_marked_delivered,
        "lost_still_pending": lost_still_pending,
        "duplicates": duplicates,
        "duplicate_keys_all": duplicate_keys,
        "unknown_deliveries": unknown,
        "order_violations": violations,
        "by_status": {s: sum(n for key, n in queued.items() if key[1] == s) for s in ("firing", "resolved")},
        "by_rule": rule_counts(queued),
    }


def rule_counts(queued):
    out = {}
    for key, n in queued.items():
        rule = key[0].rsplit("-", 1)[-1]
        out[rule] = out.get(rule, 0) + n
    return out


# ---------------------------------------------------------------- scale-out


def scaleout(args, work, pg, nginx, nginx_port):
    interval = seconds_of(args.scale_interval)
    out = []
    for n in args.scale_replicas:
        database = f"scale{n}"
        pg.sql(f"CREATE DATABASE {database}")
        conf = os.path.join(work, f"scale{n}.yaml")
        write_config(conf, pg.url(database), nginx_port, args.scale_accounts, 0, 1, args.scale_interval,
                     args.lease, None, args.log_level)
        replicas = [Replica(i, args.binary, conf, os.path.join(work, f"scale{n}-replica{i}.log")) for i in range(n)]
        cpu = CpuWindow(replicas, pg, nginx)
        try:
            for r in replicas:
                r.start()
            wait_until(lambda: live_leases(pg, database) == args.scale_accounts, 120, "every account to be leased")
            time.sleep(args.scale_warmup)
            p0, s0, c0 = max_id(pg, database, "probes"), max_id(pg, database, "samples"), cpu.sample()
            x0 = commits(pg, database)
            time.sleep(args.scale_window)
            p1, s1, c1 = max_id(pg, database, "probes"), max_id(pg, database, "samples"), cpu.sample()
            time.sleep(1)  # PostgreSQL 15 flushes its statistics about once a second
            x1 = commits(pg, database)
            held = pg.sql(f"SELECT owner, count(*) FROM leases WHERE expires_ms > {now_ms()} GROUP BY owner "
                          "ORDER BY owner", database=database)
        finally:
            cpu.close()
            for r in replicas:
                r.stop()
        seconds = c1["t"] - c0["t"]
        run = {"replicas": n, "accounts": args.scale_accounts, "interval_s": interval,
               "offered_per_s": args.scale_accounts / interval, "probes_per_s": (p1 - p0) / seconds,
               "samples_per_s": (s1 - s0) / seconds, "leases_per_replica": [int(c) for _, c in held]}
        run.update(CpuWindow.shares(c0, c1))
        # Group commit: probe rows per transaction (lease renewals and reads count as
        # transactions too, so this is a lower bound).
        run["transactions_per_s"] = (x1 - x0) / seconds
        run["probes_per_transaction"] = (p1 - p0) / (x1 - x0) if x1 > x0 else None
        run["replicas_cpu_us_per_probe"] = (1e6 * (c1["replicas"] - c0["replicas"]) / (p1 - p0)) if p1 > p0 else None
        run["postgres_cpu_us_per_probe"] = (1e6 * (c1["pg"] - c0["pg"]) / (p1 - p0)) if p1 > p0 else None
        out.append(run)
        print(f"scale-out {n} replica(s): {run['probes_per_s']:.0f} probes/s of {run['offered_per_s']:.0f} offered; "
              f"replicas {run['replicas_cpu_percent']:.0f}% CPU, PostgreSQL {run['postgres_cpu_percent']:.0f}%, "
              f"nginx {run['nginx_cpu_percent']:.0f}%, machine {run['machine_busy_percent']:.0f}% busy", flush=True)
    return out


# ---------------------------------------------------------------- main


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", default="build-h6/src/creditwatch")
    p.add_argument("--mode", choices=["failover", "scaleout", "all"], default="all")
    p.add_argument("--replicas", type=int, default=3)
    p.add_argument("--accounts", type=int, default=5000)
    p.add_argument("--alert-accounts", type=int, default=200,
                   help="accounts whose served balance falls below min_balance and recovers (of --accounts)")
    p.add_argument("--flap-groups", type=int, default=4)
    p.add_argument("--flap-period", type=float, default=60, help="seconds low, then as many high, per group")
    p.add_argument("--interval", default="10s")
    p.add_argument("--lease", default="15s")
    p.add_argument("--warmup", type=float, default=30, help="seconds after every account is leased")
    p.add_argument("--baseline", type=float, default=60, help="seconds measured without kills, before them")
    p.add_argument("--duration", type=float, default=600, help="seconds of the kill phase")
    p.add_argument("--kill-every", type=float, default=30)
    p.add_argument("--sink-delay", type=float, default=0.2,
                   help="seconds the webhook sink takes to answer (a remote receiver's latency)")
    p.add_argument("--drain-timeout", type=float, default=120)
    p.add_argument("--scale-accounts", type=int, default=10000)
    p.add_argument("--scale-interval", default="1s")
    p.add_argument("--scale-replicas", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--scale-warmup", type=float, default=20)
    p.add_argument("--scale-window", type=float, default=60)
    p.add_argument("--log-level", default="info")
    p.add_argument("--json", help="write the results here as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database)")
    args = p.parse_args()
    args.binary = os.path.abspath(args.binary)
    args.lease_seconds = seconds_of(args.lease)

    work = tempfile.mkdtemp(prefix="creditwatch-replicas-")
    os.chmod(work, 0o755)  # nginx's workers (www-data under root) and postgres read below it
    www = os.path.join(work, "www")
    for g in range(args.flap_groups):
        os.makedirs(os.path.dirname(flap_file(www, g)))
        write_balance(flap_file(www, g), HIGH_BALANCE)
    for root, dirs, _ in os.walk(www):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    results = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                           "loadavg_at_start": os.getloadavg()},
               "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": " ".join(sys.argv),
               "postgres": None}
    pg = Postgres(os.path.join(work, "pg"))
    nginx_port = free_port()
    nginx = None
    try:
        pg.start()
        results["postgres"] = pg.sql("SELECT version()")[0][0]
        results["postgres_settings"] = dict(pg.sql("SELECT name, setting FROM pg_settings WHERE name IN "
                                                   "('fsync', 'synchronous_commit', 'full_page_writes', "
                                                   "'shared_buffers', 'wal_level')"))
        nginx = start_nginx(work, nginx_port, www)
        if args.mode in ("failover", "all"):
            results["failover"] = failover(args, work, pg, nginx, nginx_port, www)
            print_failover(results["failover"])
        if args.mode in ("scaleout", "all"):
            results["scaleout"] = scaleout(args, work, pg, nginx, nginx_port)
    finally:
        if nginx:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=10)
        pg.stop()
        results["machine"]["loadavg_at_end"] = os.getloadavg()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    bad = results.get("failover", {}).get("notifications", {}).get("lost", 0)
    return 1 if bad else 0


def print_failover(r):
    f, c, b, n = r["failover"], r["coverage"], r["baseline_coverage"], r["notifications"]
    print(f"failover over {f['kills']} kills, {f['accounts_failed_over']} account hand-overs: "
          f"median {f['per_account_median_s']:.1f} s, p99 {f['per_account_p99_s']:.1f} s, "
          f"max {f['per_account_max_s']:.1f} s; last account of a kill: median "
          f"{f['per_kill_last_account_median_s']:.1f} s, max {f['per_kill_last_account_max_s']:.1f} s; "
          f"never probed again: {f['never_probed_again']}")
    print(f"coverage: {c['coverage']:.4f} during kills ({c['probes']} of {c['scheduled']:.0f}), "
          f"{b['coverage']:.4f} before; longest gap {c['max_gap_max_s']:.1f} s, "
          f"{c['accounts_with_gap_over_3_intervals']} accounts with a gap over 3 intervals")
    print(f"notifications: {n['queued']} queued {n['outbox_states']}, {n['delivered_to_sink']} deliveries, "
          f"lost {n['lost']} ({n['lost_still_pending']} still pending, {n['lost_marked_delivered']} marked "
          f"delivered), duplicates {n['duplicates']} ({n['duplicates_without_reclaim']} without a reclaim), "
          f"unknown {n['unknown_deliveries']}, "
          f"order violations {n['order_violations']}, reclaimed (log) {n['reclaimed_log_lines']}")
    print(f"CPU during kills: {r['cpu']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
