"""Benchmark: import 100,000 generated contracts on PostgreSQL, beside COPY of the same rows.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--repeat 3] [--db postgres://postgres@127.0.0.1:5432/keizoku_bench]

Creates (and drops at the end) the benchmark database, migrates it, generates a contracts.csv,
times `contracts_import` (parse + validate + normalise + write, as `manage.py import_contracts`),
then times PostgreSQL COPY of exactly the rows the import stored into a table of the same shape
(constraints and indexes included). Goal: import ≤ 5 × COPY. Rounds of import and COPY alternate
(the tables emptied in between) and the medians are reported, so that a busy machine skews both
alike. Also times the re-import of the same file (nothing changes) for reference.
"""

import argparse
import contextlib
import csv
import io
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import machine
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def season_database(url: str):
    """A fresh PostgreSQL database at ``url`` (dropped at the end), Django set up on it and
    migrated, with the agency BENCH and its 20 groups BG-0…19 that ``generate_csv`` names."""
    name = urlsplit(url).path.lstrip("/")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY="bench-only",
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
        KEIZOKU_DOTENV="/nonexistent",
        ALLOWED_HOSTS="localhost",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.factories import make_agency, make_group

    try:
        call_command("migrate", verbosity=0)
        agency = make_agency(code="BENCH")
        for g in range(20):
            make_group(agency=agency, code=f"BG-{g}")
        yield
    finally:
        connection.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def generate_csv(rows: int) -> bytes:
    from keizoku.contracts.importing import CONTRACT_COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CONTRACT_COLUMNS))
    writer.writeheader()
    start = date(2026, 1, 1)
    for i in range(rows):
        period_start = start + timedelta(days=i % 365)
        cover = ("none", "general", "economy")[i % 3]
        kei = i % 5 == 0
        writer.writerow(
            {
                "policy_number": f"BN-{i:08d}",
                "group_code": f"BG-{i % 20}",
                "holder_name": f"山田 太郎{i % 1000}",
                "holder_kana": "やまだ たろう",
                "birth_date": f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "postal_code": "100-0005",
                "address": f"東京都千代田区丸の内{1 + i % 3}丁目{i % 50}番{i % 20}号",
                "phone": f"03-{1000 + i % 9000:04d}-{i % 10000:04d}",
                "email": f"user{i}@example.jp",
                "member_type": "retiree" if i % 10 == 0 else "employee",
                "period_start": period_start.isoformat(),
                "period_end": period_start.replace(year=2027).isoformat(),
                "grade": 1 + i % 20,
                "coef_period": i % 7,
                "claims_3down": i % 2,
                "claims_1down": 0,
                "claims_nocount": i % 3,
                "open_claim": "no",
                "age_condition": ("all", "21", "26", "35")[i % 4],
                "driver_scope": ("any", "self_spouse", "self")[i % 3],
                "use": ("leisure", "commute", "business")[i % 3],
                "gold_license": ("yes", "no")[i % 2],
                "vehicle_use_class": "kei" if kei else ("futsu", "kogata")[i % 2],
                "vehicle_model": "トヨタ プリウス ZVW60",
                "vehicle_plate": f"品川 300 あ {i % 10000}",
                "first_registration": f"{2015 + i % 10}-{1 + i % 12:02d}",
                "model_launch": f"{2014 + i % 10}-{1 + i % 12:02d}",
                "asv": ("yes", "no")[i % 2],
                "class_bi": 1 + i % 7,
                "class_pd": 1 + i % 7,
                "class_pi": 1 + i % 7,
                "class_vh": 1 + i % 7,
                "vehicle_cover": cover,
                "vehicle_value": 0 if cover == "none" else 1_500_000,
                "deductible": "" if cover == "none" else "5-10",
                "personal_injury": "50000000",
                "property_damage": "unlimited",
                "riders": "legal;road" if i % 2 else "",
                "paperless": ("yes", "no")[i % 2],
                "annual_premium": 40_000 + i % 50_000,
            }
        )
    return out.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of import + COPY")
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/keizoku_bench")
    args = parser.parse_args()

    with season_database(args.db):
        from django.db import connection

        from keizoku.contracts.models import Contract, ContractChange, ImportBatch
        from keizoku.contracts.services import contracts_import

        data = generate_csv(args.rows)
        table = Contract._meta.db_table

        def copy_same_rows() -> float:
            """COPY of exactly the rows the import stored, into a table of the same shape."""
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS bench_copy")
                cursor.execute(f"CREATE TABLE bench_copy (LIKE {table} INCLUDING ALL)")
                cursor.execute(f"SELECT * FROM {table}")
                stored = cursor.fetchall()
                columns = [col.name for col in cursor.description]
            raw = connection.connection
            started = time.perf_counter()
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY bench_copy ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in stored:
                        copy.write_row(row)
            raw.commit()
            return time.perf_counter() - started

        # Rounds alternate import and COPY so that both see the same load on a shared machine;
        # the figures kept are the medians.
        import_times, copy_times = [], []
        for round_number in range(args.repeat):
            if round_number:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"TRUNCATE {table}, {ContractChange._meta.db_table}, "
                        f"{ImportBatch._meta.db_table} CASCADE"
                    )
            started = time.perf_counter()
            result = contracts_import(data=data, source="bench.csv")
            import_times.append(time.perf_counter() - started)
            assert result.ok and result.created == args.rows, result.errors[:5]
            copy_times.append(copy_same_rows())
            print(
                f"round {round_number + 1}: import {import_times[-1]:.2f} s, "
                f"COPY {copy_times[-1]:.2f} s, ratio {import_times[-1] / copy_times[-1]:.2f}",
                flush=True,
            )

        started = time.perf_counter()
        again = contracts_import(data=data, source="bench.csv")
        reimport_seconds = time.perf_counter() - started
        assert again.ok and again.unchanged == args.rows and not ContractChange.objects.exists()
        import_seconds = statistics.median(import_times)
        copy_seconds = statistics.median(copy_times)

        print(f"machine: {machine.describe()}; PostgreSQL {connection.pg_version // 10000}")
        print(
            f"rows: {args.rows:,} ({len(data) / 1e6:.1f} MB of CSV); medians of {args.repeat} rounds"
        )
        print(
            f"import_contracts:  {import_seconds:7.2f} s  ({args.rows / import_seconds:,.0f} rows/s)"
        )
        print(f"COPY (same rows):  {copy_seconds:7.2f} s  ({args.rows / copy_seconds:,.0f} rows/s)")
        print(f"ratio import/COPY: {import_seconds / copy_seconds:7.2f}  (goal ≤ 5)")
        print(f"re-import, nothing changed: {reimport_seconds:.2f} s")


if __name__ == "__main__":
    main()
