"""The audit trail viewer: every staff action and every application state change, filterable."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from keizoku.core.models import AuditEvent

from .conftest import login_staff

pytestmark = pytest.mark.django_db


def actions(client, **filters) -> list[str]:
    response = client.get("/backoffice/audit/", filters)
    assert response.status_code == 200
    return re.findall(r'<tr data-action="([^"]+)">', response.content.decode())


@pytest.fixture
def trail(client, clerk, application):
    """A clerk's morning: the dashboard, a search, the application, accepting it."""
    login_staff(client, clerk)
    client.get("/backoffice/contracts/", {"q": "けいぞく"})
    client.get("/backoffice/applications/")
    client.get(f"/backoffice/applications/{application.pk}/")
    client.post(
        f"/backoffice/applications/{application.pk}/accept/", {"version": application.version}
    )
    client.get("/backoffice/exports/applications.csv")
    return application


def test_every_staff_action_and_state_change_is_recorded(client, trail, insurer_admin):
    login_staff(client, insurer_admin)
    recorded = actions(client)
    for action in (
        "backoffice.contract_search",
        "backoffice.application_list",
        "backoffice.application_viewed",
        "application.status",
        "backoffice.export_applications",
    ):
        assert action in recorded, action


def test_the_trail_filters_by_actor_action_object_and_date(client, trail, clerk, auditor):
    login_staff(client, auditor)
    assert actions(client, action="application.") == ["application.status"]
    assert set(actions(client, actor="clerk@demo")) >= {
        "backoffice.contract_search",
        "application.status",
    }
    assert "backoffice.contract_search" not in actions(client, actor="somebody-else")
    by_object = actions(client, object_type="renewals.application", object_id=str(trail.pk))
    assert sorted(by_object) == ["application.status", "backoffice.application_viewed"]
    today = timezone.localdate()
    assert "application.status" in actions(client, date_from=today, date_to=today)
    assert actions(client, date_to=today - timedelta(days=1)) == []
    event = AuditEvent.objects.get(action="application.status")
    assert event.details == {"from": "submitted", "to": "accepted", "accepted_premium": 70800}
    assert event.actor == clerk


def test_actions_are_shown_in_japanese_beside_their_code(client, trail, insurer_admin):
    login_staff(client, insurer_admin)
    page = client.get("/backoffice/audit/", {"action": "application.status"}).content.decode()
    assert "申込の状態変更<br><small>application.status</small>" in page


def test_the_trail_cannot_be_changed_through_the_viewer(client, trail, insurer_admin):
    login_staff(client, insurer_admin)
    before = AuditEvent.objects.count()
    assert client.post("/backoffice/audit/", {}).status_code == 405
    assert AuditEvent.objects.count() == before


def test_a_bad_date_filter_says_why_in_japanese(client, trail, insurer_admin):
    login_staff(client, insurer_admin)
    response = client.get("/backoffice/audit/", {"date_from": "2026-13-45"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "日付を正しく入力してください。" in page
    assert "該当する操作はありません。" in page


def test_free_text_of_a_query_string_never_reaches_the_trail(client, clerk):
    """Issue 10 W9: the list's status filter was recorded as typed (bidi and controls too)."""
    login_staff(client, clerk)
    client.get("/backoffice/applications/", {"status": "sub\u202emitted\x1b"})
    client.get("/backoffice/applications/", {"status": "referred"})
    recorded = AuditEvent.objects.filter(action="backoffice.application_list").order_by("pk")
    assert [event.details["status"] for event in recorded] == ["", "referred"]
    searched = client.get("/backoffice/contracts/", {"q": "継続\u202e太郎"})
    assert searched.status_code == 200
    for event in AuditEvent.objects.filter(action="backoffice.contract_search"):
        assert "\u202e" not in event.details["query"]
