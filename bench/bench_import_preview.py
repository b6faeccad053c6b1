"""Benchmark: the back office's preview of a large contracts.csv, and whether it blocks writers.

    .venv/bin/python bench/bench_import_preview.py [--rows 60000] [--db postgres://postgres@127.0.0.1:5432/keizoku_bench_preview]

Creates (and drops at the end) the benchmark database, migrates it, imports ``--rows`` generated
contracts (the season's file, as `bench_import.py` makes it), then previews the same file with a
tenth of its rows changed — `contracts_import(dry_run=True)`, what the upload page runs. While
the preview runs, another connection updates one of the contracts every 0.2 s (a clerk at work,
a renewal being accepted), with a 60 s lock timeout; the script reports the preview's seconds,
the longest wait of that writer, and the load average. Issue 10, W3: the preview used to run the
whole import in a rolled-back transaction (row locks on every contract of the file until the
end); it must now only read.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import machine
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_import import generate_csv, season_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/keizoku_bench_preview")
    args = parser.parse_args()

    with season_database(args.db):
        from django.db import connection

        from keizoku.contracts.services import contracts_import

        data = generate_csv(args.rows)
        started = time.perf_counter()
        assert contracts_import(data=data, source="season.csv").ok
        print(f"setup: {args.rows:,} contracts imported in {time.perf_counter() - started:.1f} s")

        lines = data.decode().splitlines()
        changed = [lines[0]] + [
            line.replace(",no,", ",yes,", 1) if i % 10 == 0 else line
            for i, line in enumerate(lines[1:])
        ]
        changed_data = ("\r\n".join(changed) + "\r\n").encode()

        waits: list[float] = []
        timeouts: list[int] = []
        done = threading.Event()

        def writer() -> None:
            with psycopg.connect(args.db, autocommit=True) as other:
                other.execute("SET lock_timeout = '60s'")
                while not done.is_set():
                    began = time.perf_counter()
                    try:
                        other.execute(
                            "UPDATE contracts_contract SET updated_at = now() WHERE policy_key = %s",
                            ["BN00000001"],
                        )
                    except psycopg.errors.LockNotAvailable:
                        timeouts.append(1)  # waited the whole lock timeout
                    waits.append(time.perf_counter() - began)
                    time.sleep(0.2)

        thread = threading.Thread(target=writer)
        load_before = os.getloadavg()
        thread.start()
        time.sleep(0.5)
        started = time.perf_counter()
        result = contracts_import(data=changed_data, source="season.csv", dry_run=True)
        seconds = time.perf_counter() - started
        done.set()
        thread.join()
        load_after = os.getloadavg()
        assert result.ok, result.errors[:5]

        print(f"machine: {machine.describe()}; PostgreSQL {connection.pg_version // 10000}")
        print(
            f"preview of {args.rows:,} rows: {seconds:.1f} s "
            f"({result.created} new, {result.updated} changed, {result.unchanged} unchanged)"
        )
        print(
            f"a writer updating one of the file's contracts meanwhile: {len(waits)} updates, "
            f"longest wait {max(waits):.2f} s, {len(timeouts)} gave up after 60 s"
        )
        print(
            "load average before/after: "
            f"{' '.join(f'{x:.1f}' for x in load_before)} / "
            f"{' '.join(f'{x:.1f}' for x in load_after)}"
        )


if __name__ == "__main__":
    main()
