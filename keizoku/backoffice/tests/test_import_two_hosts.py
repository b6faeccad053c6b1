"""Issue 12 item 1, no host-local state: a clerk's CSV preview answered by one web host and its
confirmation by another (as a load balancer without sticky sessions sends them) imports the file.
Two gunicorn instances, production settings, on the test's database; each host has a directory
of its own, and neither keeps a file."""

import http.client
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from conftest import free_port
from keizoku.contracts.models import Contract
from keizoku.contracts.tests.test_import_contracts import row, to_csv
from tests.processes import process_env

from .conftest import login_staff

pytestmark = pytest.mark.django_db(transaction=True)  # the hosts read what the test wrote

TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Host:
    """One web host: gunicorn from config/gunicorn.py with its own directories."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.directory = directory
        for name in ("var", "home", "tmp"):
            (directory / name).mkdir(parents=True)
        self.log = (directory / "gunicorn.log").open("w")
        self.popen = subprocess.Popen(
            [
                str(Path(settings.BASE_DIR) / ".venv/bin/gunicorn"),
                "config.wsgi",
                "--config",
                "config/gunicorn.py",
            ],
            cwd=settings.BASE_DIR,
            env={
                **env,
                "PORT": str(self.port),
                "WEB_CONCURRENCY": "1",
                "WEB_THREADS": "2",
                "KEIZOKU_VAR_DIR": str(directory / "var"),
                "HOME": str(directory / "home"),
                "TMPDIR": str(directory / "tmp"),
                "PROMETHEUS_MULTIPROC_DIR": "",
            },
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def request(
        self, method: str, path: str, cookies: dict[str, str], body: bytes = b"", **headers: str
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        connection.request(
            method,
            path,
            body=body or None,
            headers={"Host": "127.0.0.1", "Connection": "close", "Cookie": cookie, **headers},
        )
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                cookies[name] = rest.split(";", 1)[0]
        return response.status, dict(response.getheaders()), text

    def ready(self) -> bool:
        try:
            return self.request("GET", "/livez", {})[0] == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.popen.send_signal(signal.SIGTERM)
        self.popen.wait(timeout=30)
        self.log.close()

    def files(self) -> list[str]:
        return sorted(
            str(path.relative_to(self.directory))
            for name in ("var", "home", "tmp")
            for path in (self.directory / name).rglob("*")
            if path.is_file()
        )


def multipart(fields: dict[str, str], file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_a_preview_on_one_host_is_confirmed_on_another(client, clerk, group, tmp_path):
    login_staff(client, clerk)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    # Plain HTTP between the test and the hosts: no TLS terminator in front of them here.
    # One SECRET_KEY for both hosts, as in production (the test's own: its session signs with it).
    env = process_env(SECURE_SSL_REDIRECT="0", SECRET_KEY=settings.SECRET_KEY)
    # The deploy's step before any host starts: production settings serve the manifest's files.
    subprocess.run(
        [
            str(Path(settings.BASE_DIR) / ".venv/bin/python"),
            "manage.py",
            "collectstatic",
            "--noinput",
            "-v0",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
    )
    first, second = Host(tmp_path / "web1", env), Host(tmp_path / "web2", env)
    try:
        deadline = time.monotonic() + 120  # gunicorn boots slowly on a busy machine
        while not (first.ready() and second.ready()):
            assert time.monotonic() < deadline, "the hosts did not start"
            time.sleep(0.3)

        status, _headers, page = first.request("GET", "/backoffice/imports/", cookies)
        assert status == 200, (status, _headers.get("Location"))
        rows = [row(policy_number=f"DM-{i:04d}", group_code="DEMO-A") for i in range(3)]
        body, content_type = multipart(
            {"csrfmiddlewaretoken": CSRF.search(page).group(1), "kind": "contracts"},
            "contracts.csv",
            to_csv(rows).encode(),
        )
        status, _headers, preview = first.request(
            "POST", "/backoffice/imports/", cookies, body, **{"Content-Type": content_type}
        )
        assert status == 200, preview[:300]
        assert Contract.objects.count() == 0  # a preview writes nothing

        token = TOKEN.search(preview).group(1)
        csrf = CSRF.search(preview).group(1)
        status, headers, _text = second.request(
            "POST",
            "/backoffice/imports/confirm/",
            cookies,
            f"token={token}&csrfmiddlewaretoken={csrf}".encode(),
            **{"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 302, _text[:300]
        status, _headers, result = second.request("GET", headers["Location"], cookies)
        assert status == 200
        assert "取込が完了しました（新規 3件・更新 0件・変更なし 0件）。" in result
        assert sorted(Contract.objects.values_list("policy_number", flat=True)) == [
            "DM-0000",
            "DM-0001",
            "DM-0002",
        ]
    finally:
        first.stop()
        second.stop()
    assert first.files() == [] and second.files() == []  # the upload lived in the database
