"""`make run` with DEBUG=0 in the environment: no demo data (one line says so), and the service
starts production-like — static files collected, pages answering, the dev mailbox closed."""

import http.client
import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "localhost"})
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def test_make_run_with_debug_off_skips_the_demo_data_and_starts(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION", "ALLOWED_HOSTS")}
    env.update(
        DEBUG="0",
        PORT=str(port),
        SECRET_KEY="a-secret-key-for-this-test-only-0123456789",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        KEIZOKU_DOTENV=os.devnull,
        WEB_CONCURRENCY="1",
    )
    log = tmp_path / "make-run.log"
    with log.open("w") as out:
        # -o .env: use the developer's .env as it is (or none), never write one from a test.
        make = subprocess.Popen(
            ["make", "-o", ".env", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert make.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        else:
            raise AssertionError(log.read_text()[-3000:])
        status, html = get(port, "/mypage/login/")
        assert status == 200 and "ログイン" in html
        stylesheet = next(
            part.split('"')[0] for part in html.split('href="')[1:] if part.startswith("/static/")
        )
        assert get(port, stylesheet)[0] == 200  # collected, with its hashed name
        assert get(port, "/dev/mailbox/")[0] == 404
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=60)
    output = log.read_text()
    assert "DEBUG is off: demo data not loaded (seed_demo --force loads it)." in output
    assert "Traceback" not in output.split("exec .venv/bin/honcho")[0]
