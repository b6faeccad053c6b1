"""The session list's activity (allauth usersessions): recorded at once for a new session, a new
address or a new browser, otherwise at most once a minute, to spare a write on every page."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from allauth.usersessions.signals import session_client_changed
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .conftest import login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hasher")]

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def _row(client) -> UserSession:
    return UserSession.objects.get(session_key=client.session.session_key)


def test_last_activity_is_written_at_most_once_a_minute(client, member):
    with time_machine.travel(START, tick=False) as clock:
        login(client)
        assert client.get("/mypage/").status_code == 200
        first = _row(client).last_seen_at
        clock.shift(timedelta(seconds=30))
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/mypage/").status_code == 200
        assert not [q for q in queries if "usersessions_usersession" in q["sql"]]
        assert _row(client).last_seen_at == first
        clock.shift(timedelta(seconds=31))
        assert client.get("/mypage/").status_code == 200
        assert _row(client).last_seen_at == START + timedelta(seconds=61)


def test_a_new_address_or_browser_is_recorded_at_once(client, member):
    changes = []

    def receiver(sender, from_session, to_session, **kwargs):
        changes.append((from_session.ip, to_session.ip, to_session.user_agent))

    session_client_changed.connect(receiver)
    try:
        with time_machine.travel(START, tick=False) as clock:
            login(client, REMOTE_ADDR="127.0.0.1")
            client.get("/mypage/", REMOTE_ADDR="127.0.0.1")
            clock.shift(timedelta(seconds=5))
            client.get("/mypage/", REMOTE_ADDR="127.0.0.2")
            assert _row(client).ip == "127.0.0.2"
            clock.shift(timedelta(seconds=5))
            client.get("/mypage/", REMOTE_ADDR="127.0.0.2", HTTP_USER_AGENT="Other/1.0")
            assert _row(client).user_agent == "Other/1.0"
    finally:
        session_client_changed.disconnect(receiver)
    assert changes[-2][:2] == ("127.0.0.1", "127.0.0.2")
    assert changes[-1][2] == "Other/1.0"


def test_the_session_list_shows_every_session_with_its_activity(client, member):
    from django.test import Client

    other = Client()
    with time_machine.travel(START, tick=False) as clock:
        login(other, HTTP_USER_AGENT="Other/1.0")
        clock.shift(timedelta(minutes=5))
        login(client)
        page = client.get(reverse("usersessions_list"))
    assert page.status_code == 200
    sessions = page.context["sessions"]
    assert len(sessions) == 2
    assert {s.user_agent for s in sessions} >= {"Other/1.0"}
    assert sorted(s.last_seen_at for s in sessions) == [START, START + timedelta(minutes=5)]
