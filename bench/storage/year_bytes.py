#!/usr/bin/env python3
"""Bytes per account-year from a synthetic year written through the store (issue 16).

Runs bench/storage/year_history (the C++ generator: N accounts, a year of readings at the
interval through Store::add_samples, the daemon's hourly housekeeping through Store::prune and
Store::save_ledger with the default retentions, checks of what was kept) once per case, each
on a fresh SQLite file, and prints a table of logical bytes per account-year against the
2 MB target (at 1 minute), with the run time and the machine load before and after.

Cases (--cases): m1-every (1 minute, balance changing at every reading), m1-hourly (1 minute,
the provider refreshes the balance hourly), m5-every, m5-hourly.

With --postgres it also starts its own PostgreSQL 15 (bench/replicas/run_failover.py's
Postgres: initdb in a temp dir, a free loopback port; synchronous_commit off for speed, which
changes no byte of the tables) and runs the same cases against it (PostgresStore), reporting
pg_total_relation_size of every table after a VACUUM, less an empty database's.

Python 3 standard library only.

  bench/storage/year_bytes.py --binary build/bench/year_history [--accounts 20] [--days 365]
      [--cases m1-every m1-hourly m5-every m5-hourly] [--details deepseek] [--work DIR] [--json OUT]
      [--postgres] [--pg-cases m5-every]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CASES = {
    "m1-every": (60, "every"),
    "m1-hourly": (60, "hourly"),
    "m5-every": (300, "every"),
    "m5-hourly": (300, "hourly"),
}
TARGET_MB = 2.0  # per account-year at 1 minute


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_case(args, name, target, extra_env=None):
    interval, refresh = CASES[name]
    argv = [args.binary, *target, "--accounts", str(args.accounts), "--days", str(args.days), "--interval",
            str(interval), "--refresh", refresh, "--details", args.details, "--threads", str(args.threads)]
    before = load()
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, **(extra_env or {})))
    wall = time.monotonic() - t0
    after = load()
    sys.stdout.write(proc.stdout)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{name}: year_history exited with {proc.returncode}")
    result = json.loads([line for line in proc.stdout.splitlines() if line.startswith("RESULT ")][-1][7:])
    result.update(case=name, wall_s=wall, load_before=before, load_after=after, argv=argv)
    return result


def sqlite_cases(args, work):
    rows = []
    for name in args.cases:
        db = os.path.join(work, f"{name}.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        r = run_case(args, name, ["--db", db])
        r["file_bytes"] = os.path.getsize(db)
        years = r["days"] / 365.0
        r["mb_per_account_year"] = r["logical_bytes"] / 1e6 / r["accounts"] / years
        tables = r.get("tables", {})
        for table in ("readings", "rollups", "ledgers", "heads", "accounts"):
            r[f"{table}_mb_per_account"] = tables.get(table, {}).get("bytes", 0) / 1e6 / r["accounts"]
        rows.append(r)
        print(f"== {name}: {r['mb_per_account_year']:.3f} MB per account-year, {r['wall_s']:.0f} s, "
              f"load {r['load_before']} -> {r['load_after']}", flush=True)
    return rows


def postgres_cases(args, work):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "replicas"))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "load"))
    import run_failover  # noqa: E402  (Postgres)

    pg = run_failover.Postgres(os.path.join(work, "pg"))
    with open(os.path.join(pg.data, "postgresql.conf"), "a") as f:
        f.write("synchronous_commit = off\n")
    pg.start()
    size_sql = ("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON "
                "n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 2 DESC")
    rows = []
    try:
        for name in args.pg_cases:
            database = "y_" + name.replace("-", "_")
            pg.sql(f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}")
            empty = "e_" + database
            pg.sql(f"DROP DATABASE IF EXISTS {empty}", f"CREATE DATABASE {empty}")
            # An empty schema-4 database (the store migrates it on open) for the baseline.
            subprocess.run([args.binary, "--url", pg.url(empty), "--migrate-only"], capture_output=True, check=True)
            r = run_case(args, name, ["--url", pg.url(database)])
            pg.sql("VACUUM", database=database)
            pg.sql("VACUUM", database=empty)
            tables = {t: int(b) for t, b in pg.sql(size_sql, database=database)}
            base = {t: int(b) for t, b in pg.sql(size_sql, database=empty)}
            total = sum(tables.values())
            baseline = sum(base.values())
            years = r["days"] / 365.0
            r.update(tables=tables, empty_tables=base, total_bytes=total, empty_bytes=baseline,
                     mb_per_account_year=(total - baseline) / 1e6 / r["accounts"] / years)
            rows.append(r)
            print(f"== postgresql {name}: {r['mb_per_account_year']:.3f} MB per account-year "
                  f"(total {total / 1e6:.2f} MB, empty {baseline / 1e6:.2f} MB), {r['wall_s']:.0f} s", flush=True)
            for t in sorted(tables, key=lambda t: -tables[t]):
                print(f"  {t:20} {tables[t]:>12} B  {(tables[t] - base.get(t, 0)) / r['accounts']:>12.0f} B per account")
    finally:
        pg.stop()
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", required=True, help="bench/year_history")
    p.add_argument("--accounts", type=int, default=20)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--threads", type=int, default=20)
    p.add_argument("--details", default="deepseek", choices=["deepseek", "static", "none"])
    p.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--pg-cases", nargs="*", default=["m5-every"], choices=list(CASES))
    p.add_argument("--work", help="directory for the databases (default: a temp dir)")
    p.add_argument("--json", help="write every case's figures here")
    args = p.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="cw-year-")
    os.makedirs(work, exist_ok=True)
    print(f"load before: {load()}", flush=True)
    rows = sqlite_cases(args, work)
    pg_rows = postgres_cases(args, work) if args.postgres else []
    print(f"load after: {load()}")
    print()
    print("| case | interval | balance | raw runs kept / account | rollup hours / account | readings | rollups | ledgers "
          "| logical MB per account-year | target | run time |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        verdict = (("met" if r["mb_per_account_year"] <= TARGET_MB else "NOT met") if r["interval_s"] == 60 else "")
        print(f"| {r['case']} | {r['interval_s']} s | {'changing every reading' if r['refresh'] == 'every' else 'refreshed hourly'} "
              f"| {r['raw_rows'] / r['accounts']:,.0f} | {r['rollup_rows'] / r['accounts']:,.0f} "
              f"| {r['readings_mb_per_account']:.3f} | {r['rollups_mb_per_account']:.3f} "
              f"| {r['ledgers_mb_per_account']:.3f} | **{r['mb_per_account_year']:.3f}** | {verdict} "
              f"| {r['wall_s']:.0f} s |")
    for r in pg_rows:
        print(f"| postgresql {r['case']} | {r['interval_s']} s | {r['refresh']} | {r['raw_rows'] / r['accounts']:,.0f} "
              f"| {r['rollup_rows'] / r['accounts']:,.0f} | | | | **{r['mb_per_account_year']:.3f}** | | {r['wall_s']:.0f} s |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sqlite": rows, "postgresql": pg_rows}, f, indent=1)
    failed = [r["case"] for r in rows + pg_rows if r.get("check_failures")]
    if failed:
        print(f"CHECKS FAILED in {failed}: see the CHECK FAILED lines above")
        sys.exit(1)


if __name__ == "__main__":
    main()
