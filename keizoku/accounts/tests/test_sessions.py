"""Member sessions (SECURITY.md): 30 minutes idle with a warning and 【延長】, 12 hours in all."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from keizoku.core.models import AuditEvent

from .conftest import login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hasher")]

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
CSRF_HEADERS = {"HTTP_ACCEPT": "application/json"}


def test_the_page_carries_the_warning_dialog_with_the_time_left(client, member):
    with time_machine.travel(START, tick=False):
        login(client)
        html = client.get("/mypage/").content.decode()
    assert 'id="session-timeout"' in html and "延長" in html
    assert 'data-idle="1800"' in html and 'data-absolute="43200"' in html


def test_a_member_session_ends_after_30_idle_minutes_and_says_why(client, member):
    with time_machine.travel(START, tick=False) as clock:
        login(client)
        clock.shift(timedelta(minutes=29, seconds=59))
        assert client.get("/mypage/").status_code == 200
        clock.shift(timedelta(minutes=30, seconds=1))
        response = client.get("/mypage/renewals/")
        assert response.status_code == 302
        assert response["Location"] == "/mypage/login/?next=%2Fmypage%2Frenewals%2F"
        page = client.get(response["Location"]).content.decode()
        assert "一定時間操作がなかったため、ログアウトしました。" in page
        assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(action="auth.session_expired").details == {"reason": "idle"}


def test_extend_keeps_the_session_alive_past_30_minutes(client, member):
    with time_machine.travel(START, tick=False) as clock:
        login(client)
        clock.shift(timedelta(minutes=28))
        extended = client.post("/mypage/session/extend/")
        assert extended.status_code == 200
        assert extended.json()["idle"] == 30 * 60
        clock.shift(timedelta(minutes=29))
        assert client.get("/mypage/").status_code == 200


def test_extend_needs_a_post(client, member):
    login(client)
    assert client.get("/mypage/session/extend/").status_code == 405


def test_a_member_session_ends_12_hours_after_login_however_busy(client, member):
    with time_machine.travel(START, tick=False) as clock:
        login(client)
        for _ in range(12 * 60 // 20 - 1):
            clock.shift(timedelta(minutes=20))
            assert client.get("/mypage/").status_code == 200
        clock.shift(timedelta(minutes=20, seconds=1))
        response = client.get("/mypage/")
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert "ログインしてからの時間が上限を超えたため" in page
    assert AuditEvent.objects.get(action="auth.session_expired").details == {"reason": "absolute"}


def test_an_expired_htmx_request_is_sent_to_the_login_page(client, member):
    with time_machine.travel(START, tick=False) as clock:
        login(client)
        clock.shift(timedelta(minutes=31))
        response = client.get("/mypage/renewals/", headers={"HX-Request": "true"})
        assert response.status_code == 204
        assert response["HX-Redirect"].startswith("/mypage/login/")


def test_extend_after_expiry_answers_401(client, member):
    with time_machine.travel(START, tick=False) as clock:
        login(client)
        clock.shift(timedelta(minutes=31))
        response = client.post("/mypage/session/extend/", **CSRF_HEADERS)
        assert response.status_code == 401
        assert response.json() == {"expired": True}
