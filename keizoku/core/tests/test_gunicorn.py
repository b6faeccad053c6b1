"""gunicorn as production runs it (config/gunicorn.py): /metrics of a multi-worker instance
counts every worker's requests, a killed worker's included; the access log is JSON lines that
carry each request's X-Request-ID and route."""

import http.client
import json
import os
import runpy
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port
from tests.processes import process_env

pytestmark = pytest.mark.django_db(transaction=True)


def get(port: int, path: str, **headers) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": "127.0.0.1", "Connection": "close", **headers})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def wait_until(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def access_lines(log: Path) -> list[dict]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "gunicorn.access"]


def test_metrics_sum_every_worker_and_the_access_log_is_json_with_request_ids(tmp_path):
    port = free_port()
    scratch = tmp_path / "metrics"
    scratch.mkdir()
    (scratch / "counter_99999.db").write_bytes(b"left by a previous run")
    log = tmp_path / "gunicorn.log"
    env = process_env(
        PORT=str(port),
        WEB_CONCURRENCY="2",
        WEB_THREADS="2",
        PROMETHEUS_MULTIPROC_DIR=str(scratch),
    )
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [
                str(Path(settings.BASE_DIR) / ".venv/bin/gunicorn"),
                "config.wsgi",
                "--config",
                "config/gunicorn.py",
                "--no-control-socket",  # several instances share this machine's home
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stderr=stderr,
            stdout=subprocess.DEVNULL,
        )
    try:
        wait_until(lambda: get(port, "/livez").status == 200)
        assert not (scratch / "counter_99999.db").exists()  # wiped at start
        seen: list[str] = []

        def served_by_two_workers() -> bool:
            seen.append(get(port, "/livez").getheader("X-Request-ID"))
            pids = {line["pid"] for line in access_lines(log)}
            return len(seen) >= 30 and len(pids) >= 2

        wait_until(served_by_two_workers, timeout=120)  # the second may boot late on a busy machine
        # A worker writes its access line after the answer: wait for every line before the kill.
        wait_until(lambda: set(seen) <= {line["request_id"] for line in access_lines(log)})
        victim = access_lines(log)[-1]["pid"]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: "Booting worker" in log.read_text().split(f'"pid": {victim}')[-1])
        for _ in range(10):
            seen.append(get(port, "/livez").getheader("X-Request-ID"))

        wait_until(lambda: set(seen) <= {line["request_id"] for line in access_lines(log)})
        text = get(port, "/metrics").body.decode()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    counts = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "keizoku_http_request_duration_seconds_count"
        and sample.labels["route"] == "livez"
        and sample.labels["status"] == "200"
    ]
    served = sum(1 for line in access_lines(log) if line["route"] == "livez")
    assert served >= len(seen) >= 40
    assert sum(counts) == served  # every worker's, the killed one's included

    lines = access_lines(log)
    by_id = {line["request_id"]: line for line in lines}
    for request_id in seen:
        assert by_id[request_id]["route"] == "livez"
        assert by_id[request_id]["status"] == 200
        assert by_id[request_id]["method"] == "GET"
    assert len({line["pid"] for line in lines if line["request_id"] in seen}) >= 2
    # Never the raw path: ids and one-time keys in URLs stay out of the log.
    assert all("path" not in line and "/livez" not in json.dumps(line) for line in lines)


def test_the_config_turns_the_control_socket_off():
    # gunicorn ≥ 25 binds $XDG_RUNTIME_DIR/gunicorn.ctl or $HOME/.gunicorn/gunicorn.ctl: one path
    # per host user, so a second instance would take over the first one's (W14).
    config = runpy.run_path(str(Path(settings.BASE_DIR) / "config/gunicorn.py"))
    assert config["control_socket_disable"] is True


def test_two_instances_on_one_host_leave_no_control_socket_to_overwrite(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    ports = [free_port(), free_port()]
    servers = []
    try:
        for index, port in enumerate(ports):
            env = process_env(PORT=str(port), WEB_CONCURRENCY="1", WEB_THREADS="2", HOME=str(home))
            env.pop("XDG_RUNTIME_DIR", None)
            scratch = tmp_path / f"metrics{index}"
            scratch.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(scratch)
            servers.append(
                subprocess.Popen(
                    [
                        str(Path(settings.BASE_DIR) / ".venv/bin/gunicorn"),
                        "config.wsgi",
                        "--config",
                        "config/gunicorn.py",  # as production starts it: no flag of the test's
                    ],
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in ports:
            wait_until(lambda port=port: get(port, "/livez").status == 200, timeout=120)
        assert all(server.poll() is None for server in servers)
        sockets = [path for path in home.rglob("*") if stat.S_ISSOCK(path.lstat().st_mode)]
        assert sockets == []
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)
