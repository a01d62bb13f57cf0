#!/usr/bin/env python3
"""Grows a SQLite creditwatch database (schema 4) to N accounts by copying its accounts' rows.

For a restart test on a year of history at fleet size without writing a year for every
account through the store (bench/storage/year_history writes about 20 accounts' year in
minutes; 5,000 would take hours): the source's accounts (e.g. load-00000 ... load-00019 of a
year_history run) are copied, rows and all (readings, heads, rollups, ledgers and the
accounts row's probe counters), into load-00020 ... load-(N-1), account i getting the
history of source account i mod k. Nothing else is touched; the copy is written to --out.

  bench/storage/clone_accounts.py --source YEAR.db --out FLEET.db --accounts 5000 [--prefix load-]

Python 3 standard library only.
"""
import argparse
import os
import shutil
import sqlite3
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--prefix", default="load-")
    args = p.parse_args()
    t0 = time.monotonic()
    src = sqlite3.connect(args.source)
    src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    src.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(args.out + suffix):
            os.remove(args.out + suffix)
    shutil.copyfile(args.source, args.out)
    db = sqlite3.connect(args.out, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != 4:
        raise SystemExit(f"schema {version}: this copies schema-4 tables")
    sources = db.execute("SELECT id, name FROM accounts WHERE name LIKE ? ORDER BY name",
                         (args.prefix + "%",)).fetchall()
    if not sources:
        raise SystemExit(f"no account named {args.prefix}... in {args.source}")
    names = {name for _, name in sources}
    db.execute("BEGIN")
    for i in range(args.accounts):
        name = f"{args.prefix}{i:05d}"
        if name in names:
            continue
        source_id = sources[i % len(sources)][0]
        db.execute("INSERT INTO accounts (name, last_ok_ms, last_ok_latency, ok_probes, failed_probes) SELECT ?, "
                   "last_ok_ms, last_ok_latency, ok_probes, failed_probes FROM accounts WHERE id = ?", (name, source_id))
        new_id = db.execute("SELECT id FROM accounts WHERE name = ?", (name,)).fetchone()[0]
        db.execute("INSERT INTO readings (account_id, currency_id, from_ms, held_ms, balance_micros, spend_micros, "
                   "details) SELECT ?, currency_id, from_ms, held_ms, balance_micros, spend_micros, details FROM "
                   "readings WHERE account_id = ? ORDER BY currency_id, from_ms", (new_id, source_id))
        db.execute("INSERT INTO heads (account_id, currency_id, from_ms, seen_ms, anchor_ms, balance_micros, "
                   "spend_micros, details) SELECT ?, currency_id, from_ms, seen_ms, anchor_ms, balance_micros, "
                   "spend_micros, details FROM heads WHERE account_id = ?", (new_id, source_id))
        db.execute("INSERT INTO rollups (account_id, currency_id, hour_ms, open_micros, close_micros, low_micros, "
                   "spend_micros, deposits_micros, readings) SELECT ?, currency_id, hour_ms, open_micros, "
                   "close_micros, low_micros, spend_micros, deposits_micros, readings FROM rollups WHERE "
                   "account_id = ? ORDER BY currency_id, hour_ms", (new_id, source_id))
        db.execute("INSERT INTO ledgers (account_id, currency_id, saved_ms, state) SELECT ?, currency_id, saved_ms, "
                   "state FROM ledgers WHERE account_id = ?", (new_id, source_id))
        if i % 500 == 0:
            print(f"  {i} accounts, {time.monotonic() - t0:.0f} s", flush=True)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("accounts", "readings", "rollups", "heads", "ledgers")}
    db.close()
    print(f"{args.out}: {counts}, {os.path.getsize(args.out) / 1e6:.0f} MB, {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
