"""The production layout on one machine, for the fault suite: HAProxy (config/haproxy.cfg) in
front of two gunicorn "hosts", two db_workers, a periodic per host, a real SMTP server in its own
process, all on a PostgreSQL database of their own. Every process can be killed and restarted."""

import http.client
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
HAPROXY = "/usr/sbin/haproxy"
PASSWORD = "x9Lq2!zz"


@dataclass
class Process:
    """One process of the layout, in a process group of its own (a "host" dies whole)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        with self.log.open("a") as out:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """kill -9 of the whole group: the host or the worker is gone, mid-request."""
        if self.alive:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=25)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Cluster:
    database_url: str  # the test run's PostgreSQL; the cluster uses <its name>_faults
    directory: Path  # logs and scratch
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.database_url)
        self.db_name = f"{parts.path.lstrip('/')}_faults_{os.getpid()}"
        self.admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        self.url = urllib.parse.urlunsplit(parts._replace(path=f"/{self.db_name}"))
        self.lb_port, self.smtp_port = free_port(), free_port()
        self.web_ports = [free_port(), free_port()]
        self.smtp_log = self.directory / "smtp-received.jsonl"
        self.errorfiles = self.directory / "errorfiles"
        # What a host has of its own: the suite checks it holds nothing after the run.
        self.host_dirs = {
            name: self.directory / "host" / name for name in ("KEIZOKU_VAR_DIR", "HOME", "TMPDIR")
        }
        for path in self.host_dirs.values():
            path.mkdir(parents=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"},
            "DATABASE_URL": self.url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),  # the same on every host
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BASE_URL": f"http://127.0.0.1:{self.lb_port}",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}?timeout=5",
            "TRUSTED_PROXY_COUNT": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "KEIZOKU_DOTENV": os.devnull,
            **{name: str(path) for name, path in self.host_dirs.items()},
        }

    # --- the database ----------------------------------------------------------------------

    def sql(self, query: str, params: tuple | list = ()) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def create_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        for command in (
            ["migrate", "--noinput", "-v0"],
            ["createcachetable"],
            ["collectstatic", "--noinput", "-v0"],
            ["loadbalancer_errorfiles", str(self.errorfiles)],
        ):
            self.manage(*command)

    def drop_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stderr[-3000:]}"
        return done.stdout

    def python(self, script: str) -> object:
        """Run ``script`` with Django set up on the cluster's database; it prints JSON last."""
        done = subprocess.run(
            [PYTHON, "-c", "import django\ndjango.setup()\n" + script],
            cwd=ROOT,
            env={**self.env, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def terminate_connections(self) -> int:
        """Cut every connection to the database, as a failover or a restart does."""
        rows = self.sql(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.db_name],
        )
        return rows[0][0]

    # --- the processes ---------------------------------------------------------------------

    def add(self, name: str, argv: list[str], **env: str) -> Process:
        process = Process(name, argv, {**self.env, **env}, self.directory / f"{name}.log")
        self.processes[name] = process
        return process

    def build(self) -> None:
        for number, port in enumerate(self.web_ports, start=1):
            self.add(
                f"web{number}",
                # --no-control-socket: two instances share this machine's home directory.
                [
                    GUNICORN,
                    "config.wsgi",
                    "--config",
                    "config/gunicorn.py",
                    "--no-control-socket",
                ],
                PORT=str(port),
                WEB_CONCURRENCY="2",
                WEB_THREADS="4",
                PROMETHEUS_MULTIPROC_DIR=str(self.directory / f"web{number}-metrics"),
            )
            self.add(f"periodic{number}", [PYTHON, "manage.py", "periodic"])
            self.add(
                f"worker{number}",
                [
                    *(PYTHON, "manage.py", "db_worker", "--queue-name", "*", "--no-reload"),
                    *("--interval", "0.5", "--worker-id", f"fault-worker-{number}"),
                ],
            )
        # 40 ms a message: a batch of 100 lasts long enough to kill its worker in the middle.
        sink = [PYTHON, "tests/faults/smtp_sink.py", str(self.smtp_port), str(self.smtp_log)]
        self.add("smtp", [*sink, "0.04"])
        self.add(
            "haproxy",
            [HAPROXY, "-db", "-f", "config/haproxy.cfg"],
            KEIZOKU_BIND=f"127.0.0.1:{self.lb_port}",
            KEIZOKU_HOST="127.0.0.1",
            KEIZOKU_WEB1=f"127.0.0.1:{self.web_ports[0]}",
            KEIZOKU_WEB2=f"127.0.0.1:{self.web_ports[1]}",
            KEIZOKU_ERRORFILES=str(self.errorfiles),
        )

    def start_all(self) -> None:
        for name, process in self.processes.items():
            if name != "haproxy":
                process.start()
        for port in self.web_ports:
            wait_for(lambda port=port: get(port, "/healthz").status == 200, 90, f"web {port}")
        self.processes["haproxy"].start()
        wait_for(lambda: get(self.lb_port, "/livez").status == 200, 30, "haproxy")

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.stop()

    def logs(self, name: str) -> list[dict]:
        """The JSON lines a process wrote (others, like Python warnings, are left out)."""
        entries = []
        for line in self.processes[name].log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    pass
        return entries

    def files_written_on_hosts(self) -> list[str]:
        """Files the processes left in their var directory, home or temp directory."""
        return [
            str(path.relative_to(self.directory))
            for root in self.host_dirs.values()
            for path in root.rglob("*")
        ]

    def received(self) -> list[dict]:
        if not self.smtp_log.exists():
            return []
        return [json.loads(line) for line in self.smtp_log.read_text().splitlines() if line]


def get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = connection.getresponse()
        response.text = response.read().decode(errors="replace")
        return response
    finally:
        connection.close()


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
