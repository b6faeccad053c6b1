"""Benchmark: MyPage logins per second beside the machine's bare Argon2 rate, in the same run.

    .venv/bin/python bench/bench_login.py [--logins 60] [--members 10] [--chunk 10]

Creates a throw-away SQLite database under ``var/``, migrates it and creates ``--members``
members whose passwords are hashed with the first entry of ``PASSWORD_HASHERS`` (Argon2), then
times, interleaved in chunks of ``--chunk`` (so both see the same load on a shared machine):

1. real logins: a POST of ID and password to ``/mypage/login/`` through the Django test client,
   each from a new browser (a new client, a new IP), through the whole middleware stack, the
   per-account throttle, allauth, the session, the known-browser record, its notice mail and the
   audit trail; every answer must be the 302 to ``/mypage/``;
2. the bare Argon2 work of a login: ``argon2-cffi``'s ``PasswordHasher.verify`` of one of the
   same hashes, with the same parameters as Django's ``Argon2PasswordHasher``.

Prints both rates and their ratio (goal ≥ 0.8: a login costs little more than its hash), with the
machine (nproc, CPU model). The exit status is 1 below the goal or on any failed login.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 0.8
PASSWORD = "x9Lq2!zz"


def setup(database: Path, members: int) -> list[str]:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host and mail outbox
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    from tests.factories import make_member

    emails = [f"bench{index}@example.jp" for index in range(members)]
    for email in emails:
        make_member(email, PASSWORD)
    return emails


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=60)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=ROOT / "var", prefix="bench-login-") as tmp:
        emails = setup(Path(tmp) / "db.sqlite3", args.members)

        import argon2
        from django.contrib.auth.hashers import Argon2PasswordHasher, get_hashers
        from django.test import Client

        from keizoku.accounts.models import User

        django_hasher = get_hashers()[0]
        assert isinstance(django_hasher, Argon2PasswordHasher), "Argon2 must come first"
        bare = argon2.PasswordHasher(
            time_cost=django_hasher.time_cost,
            memory_cost=django_hasher.memory_cost,
            parallelism=django_hasher.parallelism,
        )
        # Django stores "argon2" + argon2-cffi's encoded hash: verify exactly that hash.
        stored = [User.objects.get(email=email).password.removeprefix("argon2") for email in emails]

        # Warm up both (imports, template loading, first queries).
        Client(REMOTE_ADDR="10.9.9.9").post(
            "/mypage/login/", {"login": emails[0], "password": PASSWORD}
        )
        bare.verify(stored[0], PASSWORD)

        login_time = hash_time = 0.0
        done = failed = 0
        while done < args.logins:
            count = min(args.chunk, args.logins - done)
            start = time.perf_counter()
            for offset in range(count):
                index = done + offset
                client = Client(
                    REMOTE_ADDR=f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"
                )
                response = client.post(
                    "/mypage/login/",
                    {"login": emails[index % len(emails)], "password": PASSWORD},
                )
                if response.status_code != 302 or response["Location"] != "/mypage/":
                    failed += 1
            login_time += time.perf_counter() - start

            start = time.perf_counter()
            for offset in range(count):
                bare.verify(stored[(done + offset) % len(stored)], PASSWORD)
            hash_time += time.perf_counter() - start
            done += count

    login_rate = args.logins / login_time
    hash_rate = args.logins / hash_time
    ratio = login_rate / hash_rate
    print(f"machine: {machine.describe()}")
    print(
        f"argon2: time_cost={django_hasher.time_cost} memory_cost={django_hasher.memory_cost} KiB "
        f"parallelism={django_hasher.parallelism}"
    )
    print(f"logins (POST /mypage/login/, test client): {login_rate:8.2f}/s  ({args.logins} logins)")
    print(f"bare argon2 verify (argon2-cffi):          {hash_rate:8.2f}/s")
    print(f"ratio: {ratio:.2f} (goal ≥ {GOAL})  failed logins: {failed}")
    return 0 if ratio >= GOAL and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
