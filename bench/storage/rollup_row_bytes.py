#!/usr/bin/env python3
"""Bytes per hourly rollup row in SQLite: creates the `rollups` table with schema 4's DDL
(read from src/storage/sqlite/migrations.cpp), fills it with a year of hours for 100
accounts (a falling balance with top-ups, as prune writes them: account by account, hour by
hour) and prints page bytes per row and per account-year. Python 3 standard library only.

  bench/storage/rollup_row_bytes.py
"""
import os
import random
import re
import sqlite3
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = os.path.join(HERE, "..", "..", "src", "storage", "sqlite", "migrations.cpp")


def rollups_ddl():
    text = open(MIGRATIONS).read()
    match = re.search(r"CREATE TABLE rollups \(.*?\) WITHOUT ROWID;", text, re.S)
    return match.group(0)


def main():
    random.seed(1)
    accounts, hours, t0 = 100, 8760, 1_796_000_000_000
    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(os.path.join(tmp, "rollups.db"))
        con.execute(rollups_ddl())
        for account in range(1, accounts + 1):
            balance = 500_000_000
            for hour in range(hours):
                spend = random.randint(0, 2_000_000)
                opening = balance
                balance -= spend
                deposit = 0
                if balance < 50_000_000:
                    deposit = 450_000_000
                    balance += deposit
                con.execute("INSERT INTO rollups VALUES (?, 1, ?, ?, ?, ?, ?, ?, 60)",
                            (account, t0 + hour * 3_600_000, opening, balance, min(opening, balance), spend, deposit))
        con.commit()
        size = con.execute("PRAGMA page_count").fetchone()[0] * con.execute("PRAGMA page_size").fetchone()[0]
        rows = accounts * hours
        print(f"{rows} rows, {size} bytes: {size / rows:.1f} B per hourly row, "
              f"{size / accounts / 1e6:.3f} MB per account-year of rollups")


if __name__ == "__main__":
    main()
