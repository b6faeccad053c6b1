"""Staff sessions (SECURITY.md): 15 minutes idle, 8 hours in all, then log in again."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from keizoku.core.models import AuditEvent

from .conftest import login_staff

pytestmark = pytest.mark.django_db


def test_a_staff_session_ends_after_15_idle_minutes(client, clerk):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login_staff(client, clerk)
        assert client.get("/backoffice/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=14, seconds=50), tick=False):
        assert client.get("/backoffice/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29, seconds=55), tick=False):
        response = client.get("/backoffice/")
    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/login/")  # staff's own login page
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert event.details == {"reason": "idle"}


def test_a_staff_session_ends_8_hours_after_login_however_busy(client, clerk):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login_staff(client, clerk)
    for minutes in range(10, 8 * 60, 10):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/backoffice/").status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=8, seconds=1), tick=False):
        assert client.get("/backoffice/").status_code == 302
    assert AuditEvent.objects.get(action="auth.session_expired").details == {"reason": "absolute"}
