#!/usr/bin/env python3
"""Makes the database of a warm restart (issue 16): a copy of a filled history after one
first round of `creditwatch run` and a kill -9.

bench/storage/restart_bench.py on a fresh fill_history database measures a cold restart:
its nginx body (balance 110.00 for every account) matches none of the filled histories, so
the first probe round fires thousands of alerts, each a durable commit. A daemon that is
restarted in practice finds its alerts stored as they fired and the runs its last probes
wrote after the last ledger save. This script makes that database: it copies --db to --out,
runs the daemon on it against nginx on loopback (the same config as restart_bench.py) until
every account has a successful probe stored after the start, waits --linger seconds, and
kills it with SIGKILL (no ledger save at stop: the snapshots stay as old as the fill left
them). Then:

    bench/storage/restart_bench.py --binary BUILD/src/creditwatch --db OUT --accounts N

Python 3 standard library only; needs nginx on PATH.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "load"))
import restart_bench  # noqa: E402  (write_conf, probed_since)
import run_load  # noqa: E402  (free_port, start_nginx)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", required=True, help="creditwatch")
    p.add_argument("--db", required=True, help="a filled history (bench/fill_history), left as it is")
    p.add_argument("--out", required=True, help="the warm database to write")
    p.add_argument("--accounts", type=int, required=True, help="accounts in --db (load-00000 ...)")
    p.add_argument("--interval", type=int, default=60)
    p.add_argument("--linger", type=float, default=2, help="seconds after the first round before the kill")
    p.add_argument("--timeout", type=float, default=300)
    args = p.parse_args()

    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(args.out + suffix):
            os.remove(args.out + suffix)
    shutil.copyfile(args.db, args.out)
    work = tempfile.mkdtemp(prefix="cw-warm-")
    nginx_port, http_port = run_load.free_port(), run_load.free_port()
    os.makedirs(os.path.join(work, "nginx"))
    nginx = run_load.start_nginx(os.path.join(work, "nginx"), nginx_port, 1)
    conf = os.path.join(work, "cw.yaml")
    restart_bench.write_conf(conf, args.out, nginx_port, http_port, args.accounts, args.interval)
    try:
        with open(os.path.join(work, "daemon.log"), "w") as log:
            start_ms = int(time.time() * 1000)
            t0 = time.monotonic()
            proc = subprocess.Popen([args.binary, "run", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
            while restart_bench.probed_since(args.out, start_ms) < args.accounts:
                if proc.poll() is not None:
                    raise SystemExit(f"creditwatch exited with {proc.returncode}; see {log.name}")
                if time.monotonic() - t0 > args.timeout:
                    proc.kill()
                    raise SystemExit("the first round did not finish in time")
                time.sleep(0.1)
            round_s = time.monotonic() - t0
            time.sleep(args.linger)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        nginx.terminate()
        nginx.wait()
    print(f"{args.out}: first round in {round_s:.2f} s, killed {args.linger:.0f} s later", flush=True)


if __name__ == "__main__":
    main()
