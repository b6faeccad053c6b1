"""Operations interfaces over HTTP: /livez, /healthz, /metrics (who may read it and what it
says), X-Request-ID on every response and every log line of its request."""

import io
import json
import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from keizoku.core import admission
from keizoku.core.logging import RequestIdFilter
from keizoku.notifications.models import OutboundMail
from keizoku.notifications.services import mail_queue
from keizoku.renewals.models import Application
from tests.factories import make_contract, make_group, make_member

pytestmark = pytest.mark.django_db

TOKEN = "s3cr3t-metrics-token-for-tests"


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    """/metrics as {(sample name, sorted labels): value}."""
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- /livez and /healthz ---------------------------------------------------------------------


def test_livez_answers_without_the_database(client, monkeypatch):
    def no_database(*args, **kwargs):
        raise AssertionError("livez must not touch the database")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", no_database)
    response = client.get("/livez")
    assert (response.status_code, response.content) == (200, b"ok")


def test_healthz_reports_the_database_and_the_outbox_backlog_to_this_host(client):
    mail_queue(key="a", kind="notice", to="a@example.jp", subject="件名", body="本文")
    retrying = mail_queue(key="b", kind="notice", to="b@example.jp", subject="件名", body="本文")
    OutboundMail.objects.filter(pk=retrying.pk).update(attempts=2)
    failed = mail_queue(key="c", kind="notice", to="c@example.jp", subject="件名", body="本文")
    OutboundMail.objects.filter(pk=failed.pk).update(status="failed", attempts=20)
    OutboundMail.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["outbox"]["pending"] == 1
    assert body["outbox"]["retrying"] == 1
    assert body["outbox"]["failed"] == 1
    assert 299 <= body["outbox"]["oldest_pending_age_seconds"] <= 330


def test_healthz_through_the_proxy_says_ok_without_the_backlog(client):
    response = client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def down(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert "connection refused" not in response.content.decode()


# --- who may read /metrics -------------------------------------------------------------------


def test_metrics_answer_a_request_from_this_host():
    samples = scrape()
    assert value(samples, "keizoku_database_up") == 1.0


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "203.0.113.5"},  # another machine
        {"HTTP_X_FORWARDED_FOR": "203.0.113.5"},  # relayed by the proxy on this host
        {"HTTP_FORWARDED": "for=203.0.113.5"},
        {"REMOTE_ADDR": "203.0.113.5", "HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"REMOTE_ADDR": "203.0.113.5", "HTTP_AUTHORIZATION": f"Basic {TOKEN}"},
        {"REMOTE_ADDR": "203.0.113.5", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
    ],
)
def test_metrics_are_a_japanese_404_to_anyone_else(settings, headers):
    settings.METRICS_TOKEN = TOKEN
    response = Client().get("/metrics", **headers)
    assert response.status_code == 404
    html = response.content.decode()
    assert "ページが見つかりません" in html
    assert "keizoku_" not in html


def test_metrics_answer_a_bearer_of_the_token_from_anywhere(settings):
    settings.METRICS_TOKEN = TOKEN
    samples = scrape(
        REMOTE_ADDR="203.0.113.5",
        HTTP_X_FORWARDED_FOR="203.0.113.5",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert value(samples, "keizoku_database_up") == 1.0


def test_without_a_token_configured_no_bearer_is_let_in(settings):
    settings.METRICS_TOKEN = ""
    response = Client().get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404


# --- what /metrics says ------------------------------------------------------------------------


def test_requests_are_counted_by_route_name_and_status_never_by_raw_path(client):
    before = scrape(client)
    contract_id = 987654321
    client.get(f"/clickar/{contract_id}/consent/")  # anonymous: sent to the login page
    client.get("/no/such/page/")
    after = scrape(client)
    labels = {"route": "renewals:step", "method": "GET", "status": "302"}
    name = "keizoku_http_request_duration_seconds_count"
    assert value(after, name, **labels) == value(before, name, **labels) + 1
    missing = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert value(after, name, **missing) == value(before, name, **missing) + 1
    assert value(after, "keizoku_http_request_duration_seconds_bucket", le="+Inf", **labels) == (
        value(after, name, **labels)
    )
    text = client.get("/metrics").content.decode()
    assert str(contract_id) not in text
    assert "/no/such/page/" not in text


def test_logins_and_lockouts_are_counted(client, django_capture_on_commit_callbacks):
    from keizoku.core.models import AuditEvent

    make_member("taro@example.jp", "x9Lq2!zz")
    before = scrape()
    start = timezone.now()
    with (
        time_machine.travel(start, tick=False) as clock,
        django_capture_on_commit_callbacks(execute=True),  # counted once the event is committed
    ):
        assert (
            Client()
            .post("/mypage/login/", {"login": "taro@example.jp", "password": "x9Lq2!zz"})
            .status_code
            == 302
        )
        for n in range(12):  # past the lock, with the waits the throttle asks for
            Client().post("/mypage/login/", {"login": "hanako@example.jp", "password": "wrong1"})
            clock.shift(timedelta(seconds=30 * 2 ** max(n - 4, 0) + 1))
    after = scrape()
    success = value(after, "keizoku_logins_total", result="success") - value(
        before, "keizoku_logins_total", result="success"
    )
    failures = value(after, "keizoku_logins_total", result="failure") - value(
        before, "keizoku_logins_total", result="failure"
    )
    lockouts = value(after, "keizoku_lockouts_total") - value(before, "keizoku_lockouts_total")
    assert success == 1
    assert failures == AuditEvent.objects.filter(action="auth.login_failed").count() >= 5
    assert lockouts == AuditEvent.objects.filter(action="auth.account_locked").count() >= 1


def test_the_outbox_tasks_and_applications_are_read_from_the_database():
    mail_queue(key="a", kind="notice", to="a@example.jp", subject="件名", body="本文")
    retrying = mail_queue(key="b", kind="notice", to="b@example.jp", subject="件名", body="本文")
    OutboundMail.objects.filter(pk=retrying.pk).update(attempts=1)
    OutboundMail.objects.filter(pk=retrying.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    member = make_member()
    group = make_group()
    for number, status in [("P-1", "draft"), ("P-2", "submitted"), ("P-3", "submitted")]:
        contract = make_contract(group=group, policy_number=number)
        Application.objects.create(
            contract=contract, member=member, period_start=contract.period_end, status=status
        )
    samples = scrape()
    assert value(samples, "keizoku_mail_outbox_mails", state="pending") == 1
    assert value(samples, "keizoku_mail_outbox_mails", state="retrying") == 1
    assert value(samples, "keizoku_mail_outbox_mails", state="failed") == 0
    assert 3590 <= value(samples, "keizoku_mail_outbox_oldest_pending_age_seconds") <= 3700
    assert value(samples, "keizoku_tasks_queued", queue="mail") == 2
    assert value(samples, "keizoku_applications", state="submitted") == 2
    assert value(samples, "keizoku_applications", state="draft") == 1
    assert value(samples, "keizoku_applications", state="accepted") == 0


def test_a_scrape_with_the_database_down_still_answers_and_says_so(monkeypatch):
    def down(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", down)
    samples = scrape()
    assert value(samples, "keizoku_database_up") == 0.0
    assert ("keizoku_http_request_duration_seconds_count", ()) not in samples


def test_a_request_shed_by_admission_control_is_counted(client, settings):
    """The busy page (issue 11) counts in keizoku_overload_rejected_total and, like every
    answer, in the request metric with its status."""
    settings.ADMISSION_SLOTS = 1
    settings.ADMISSION_MAX_WAIT_MS = 0
    settings.ADMISSION_OVERLOAD_WAIT_MS = 0
    admission.gate_reset()
    gate = admission.gate()
    before = scrape()
    assert gate.enter().admitted  # a long request holds the only slot
    try:
        response = client.get("/agency/DEMO/")
    finally:
        gate.leave(0.01)
        admission.gate_reset()
    assert response.status_code == 503
    after = scrape()
    assert value(after, "keizoku_overload_rejected_total") == (
        value(before, "keizoku_overload_rejected_total") + 1
    )


# --- request ids -------------------------------------------------------------------------------


def test_every_response_carries_a_new_request_id(client):
    first = client.get("/")["X-Request-ID"]
    second = client.get("/no/such/page/")["X-Request-ID"]
    static = client.get("/static/keizoku/favicon.svg")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    assert re.fullmatch(r"[0-9a-f]{32}", static["X-Request-ID"])


def test_a_request_id_sent_without_a_trusted_proxy_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    response = client.get("/livez", headers={"X-Request-ID": "forged-by-a-client-1234"})
    assert response["X-Request-ID"] != "forged-by-a-client-1234"


def test_the_proxys_request_id_is_kept_when_it_is_well_formed(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy_id = "6f1c2a9e-43b1-4d3c-9a57-0e4b1f2c3d4e"
    assert client.get("/livez", headers={"X-Request-ID": proxy_id})["X-Request-ID"] == proxy_id


@pytest.mark.parametrize(
    "sent",
    [
        "short",
        "x" * 129,
        "id with spaces 123",
        "id\r\nSet-Cookie: a=b",
        "<script>alert(1)</script>",
    ],
)
def test_a_malformed_request_id_is_replaced(client, settings, sent):
    settings.TRUSTED_PROXY_COUNT = 1
    answered = client.get("/livez", headers={"X-Request-ID": sent})["X-Request-ID"]
    assert answered != sent
    assert re.fullmatch(r"[0-9a-f]{32}", answered)


@pytest.fixture
def json_log():
    """The real console handler of settings.LOGGING (JSON formatter, request id filter), writing
    into a buffer for the test."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RequestIdFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line]
    handler.setStream(previous)


def test_every_log_line_of_a_request_holds_its_id(client, json_log, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy_id = "req-0123456789abcdef"
    # A form posted without its CSRF token is logged (logger keizoku.core.views) on the way.
    response = Client(enforce_csrf_checks=True).post(
        "/mypage/login/", {"login": "a@example.jp"}, headers={"X-Request-ID": proxy_id}
    )
    assert response.status_code == 403
    logging.getLogger("keizoku.test").warning("outside any request")
    lines = json_log()
    during = [line for line in lines if line["msg"] == "csrf failure"]
    assert during and all(line["request_id"] == proxy_id for line in during)
    outside = [line for line in lines if line["msg"] == "outside any request"]
    assert outside and "request_id" not in outside[0]


# --- no host-local state -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "warned"),
    [("django.db.backends.sqlite3", True), ("django.db.backends.postgresql", False)],
)
def test_check_deploy_warns_that_sqlite_is_a_file_of_one_host(monkeypatch, engine, warned):
    from django.conf import settings as django_settings

    from keizoku.core.checks import database_shared_by_every_host

    monkeypatch.setattr(django_settings, "DATABASES", {"default": {"ENGINE": engine}})
    messages = database_shared_by_every_host(None)
    assert [m.id for m in messages] == (["keizoku.W001"] if warned else [])


def test_a_session_that_cannot_be_saved_for_a_lost_connection_is_a_503_not_a_400(
    client, monkeypatch
):
    """Django reports a session save that fails as "deleted by a concurrent request" (400);
    when the database connection was cut, the customer gets the 503 page and may retry."""
    from django.contrib.sessions.models import Session
    from django.db import OperationalError

    make_member("taro@example.jp", "x9Lq2!zz")
    client.post("/mypage/login/", {"login": "taro@example.jp", "password": "x9Lq2!zz"})
    assert Session.objects.count() == 1

    def cut(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(Session, "save", cut)
    response = client.post("/mypage/session/extend/")  # writes the session
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "ただいまサービスを利用できません" in response.content.decode()


def test_a_session_deleted_by_a_concurrent_logout_is_still_a_400(client, monkeypatch):
    from django.contrib.sessions.models import Session

    make_member("taro@example.jp", "x9Lq2!zz")
    client.post("/mypage/login/", {"login": "taro@example.jp", "password": "x9Lq2!zz"})

    def gone(*args, **kwargs):  # what Django's forced update says when the row was deleted
        raise DatabaseError("Forced update did not affect any rows.")

    monkeypatch.setattr(Session, "save", gone)
    assert client.post("/mypage/session/extend/").status_code == 400


def test_a_rate_limit_answers_a_japanese_429_page(settings):
    """allauth's limits (e.g. logins per address) answer our page, not its English fallback."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1/m/ip"}
    make_member("taro@example.jp", "x9Lq2!zz")
    data = {"login": "taro@example.jp", "password": "x9Lq2!zz"}
    assert Client().post("/mypage/login/", data).status_code == 302
    response = Client().post("/mypage/login/", data)
    assert response.status_code == 429
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "操作の回数が多すぎます。しばらく時間をおいてから、もう一度お試しください。" in html
    assert "Too Many Requests" not in html


def test_a_connection_lost_for_the_rest_of_the_request_still_gets_the_japanese_503(
    client, monkeypatch
):
    """A logged-in member's request whose connection dies: every later query fails too (the
    user, the session, the messages), and the 503 page must be drawn without them."""
    from django.db.backends.utils import CursorWrapper

    make_member("taro@example.jp", "x9Lq2!zz")
    client.post("/mypage/login/", {"login": "taro@example.jp", "password": "x9Lq2!zz"})
    client.raise_request_exception = False

    def closed(*args, **kwargs):
        raise DatabaseError("the connection is closed")

    monkeypatch.setattr(CursorWrapper, "execute", closed)
    monkeypatch.setattr(CursorWrapper, "executemany", closed)
    response = client.get("/mypage/")
    assert response.status_code == 503
    html = response.content.decode()
    assert '<html lang="ja">' in html and "ただいまサービスを利用できません" in html
    assert "sessionid" not in response.cookies  # the member stays logged in


def test_a_driver_error_that_escapes_djangos_wrapping_is_a_503_too(client, monkeypatch):
    """psycopg's own OperationalError can escape Django's wrapping (closing a server-side cursor
    on a dead connection): still the database, still the 503."""
    from django.db import connection
    from django.db.backends.utils import CursorWrapper

    make_member("taro@example.jp", "x9Lq2!zz")
    client.post("/mypage/login/", {"login": "taro@example.jp", "password": "x9Lq2!zz"})
    client.raise_request_exception = False

    def dead(*args, **kwargs):
        raise connection.Database.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(CursorWrapper, "execute", dead)
    response = client.get("/mypage/")
    assert response.status_code == 503
    assert "ただいまサービスを利用できません" in response.content.decode()


def test_the_load_balancers_503_page_is_a_raw_http_response_in_japanese_then_english(tmp_path):
    from django.core.management import call_command

    call_command("loadbalancer_errorfiles", str(tmp_path), stdout=io.StringIO())
    raw = (tmp_path / "503.http").read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 503 Service Unavailable"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert int(headers["Content-Length"]) == len(body)
    assert headers["Retry-After"] == "30"
    assert headers["Cache-Control"] == "no-store"
    assert len(raw) < 16384  # fits HAProxy's buffer (tune.bufsize)
    html = body.decode()
    assert '<html lang="ja">' in html
    assert html.index("ただいまサービスを利用できません") < html.index(
        "The service is not available right now"
    )
