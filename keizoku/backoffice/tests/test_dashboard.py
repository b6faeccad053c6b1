"""The season dashboard: counts by state per agency and group, each opening the filtered list."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keizoku.accounts.models import PolicyLink
from keizoku.renewals.models import Application
from tests.factories import make_contract, make_group, make_member

from .conftest import login_staff, make_application

pytestmark = pytest.mark.django_db


def counts(html: str) -> dict[str, int]:
    """Every figure of the page, by its data-count key ("GROUP:state")."""
    return {key: int(value) for key, value in re.findall(r'data-count="([^"]+)">(\d+)</a>', html)}


def listed(html: str) -> list[str]:
    """The policy numbers of a contract list page."""
    return re.findall(r'data-policy="([^"]+)"', html)


@pytest.fixture
def season(group, other_group):
    """One contract in each state, plus ones the dashboard must not count."""
    today = timezone.localdate()

    def contract(number: str, days: int = 45, *, link: bool = False, in_group=group):
        made = make_contract(
            group=in_group, policy_number=number, period_end=today + timedelta(days=days)
        )
        if link:
            user = make_member(f"{number.lower()}@example.jp")
            PolicyLink.objects.create(member=user, contract=made)
            made.linked_member = user
        return made

    contract("S-NOTREG")  # no MyPage member, no application
    contract("S-REG", link=True)  # registered, nothing started
    for number, status in [
        ("S-DRAFT", "draft"),
        ("S-SUB", "submitted"),
        ("S-REF", "referred"),
        ("S-ACC", "accepted"),
    ]:
        made = contract(number, link=True)
        make_application(made, made.linked_member, status=status, number=f"K-0000-0000-{number}")
    # Withdrawn: the policy is back to "registered".
    withdrawn = contract("S-WD", link=True)
    make_application(withdrawn, withdrawn.linked_member, status="withdrawn", number="K-WD")
    # Expiring soon without an application (the draft one counts as "not applied").
    contract("S-EXP5", 5)
    contract("S-EXP10", 10, link=True)
    expiring_draft = contract("S-EXP20", 20, link=True)
    stuck = make_application(expiring_draft, expiring_draft.linked_member, status="draft")
    Application.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(days=8))
    # Expiring soon but applied: not an alert.
    applied = contract("S-EXP6-APPLIED", 6, link=True)
    make_application(applied, applied.linked_member, number="K-0000-0000-EXP6")
    # Expired yesterday: out of the season.
    contract("S-OLD", -1)
    # Another agency's contract: never counted for the clerk.
    contract("O-OTHER", 5, in_group=other_group)


def test_the_dashboard_counts_each_state_of_the_agencys_groups(client, clerk, group, season):
    login_staff(client, clerk)
    response = client.get("/backoffice/")
    assert response.status_code == 200
    figures = counts(response.content.decode())
    assert {key: value for key, value in figures.items() if key.startswith("DEMO-A:")} == {
        "DEMO-A:not_registered": 2,  # S-NOTREG, S-EXP5
        "DEMO-A:registered": 3,  # S-REG, S-WD, S-EXP10
        "DEMO-A:draft": 2,  # S-DRAFT, S-EXP20
        "DEMO-A:submitted": 2,  # S-SUB, S-EXP6-APPLIED
        "DEMO-A:referred": 1,
        "DEMO-A:accepted": 1,
        "DEMO-A:expiring7": 1,  # S-EXP5
        "DEMO-A:expiring14": 2,  # + S-EXP10
        "DEMO-A:expiring30": 3,  # + S-EXP20 (a draft is not an application)
        "DEMO-A:stuck": 1,  # S-EXP20's draft, untouched for 8 days
    }
    assert figures["DEMO:submitted"] == 2  # the agency's total row
    page = response.content.decode()
    assert "OTHER-A" not in page and "ほか商事" not in page


def test_the_dashboard_needs_the_same_queries_for_ten_more_groups(client, clerk, agency, season):
    login_staff(client, clerk)
    client.get("/backoffice/")  # the first request of the session also stamps it
    with CaptureQueriesContext(connection) as before:
        assert client.get("/backoffice/").status_code == 200
    for number in range(10):
        more = make_group(agency=agency, code=f"MORE-{number}")
        make_contract(group=more, policy_number=f"M-{number}")
    with CaptureQueriesContext(connection) as after:
        page = client.get("/backoffice/").content.decode()
    assert 'data-count="MORE-9:not_registered">1<' in page
    assert len(after) == len(before)


def test_an_insurer_admin_sees_every_agency_on_the_dashboard(client, insurer_admin, season):
    login_staff(client, insurer_admin)
    figures = counts(client.get("/backoffice/").content.decode())
    assert figures["OTHER-A:expiring7"] == 1
    assert figures["DEMO-A:expiring7"] == 1


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("not_registered", ["S-EXP5", "S-NOTREG"]),
        ("registered", ["S-EXP10", "S-REG", "S-WD"]),
        ("submitted", ["S-EXP6-APPLIED", "S-SUB"]),
        ("expiring14", ["S-EXP5", "S-EXP10"]),
        ("stuck", ["S-EXP20"]),
    ],
)
def test_each_figure_opens_the_list_of_those_contracts(
    client, clerk, group, season, state, expected
):
    login_staff(client, clerk)
    dashboard = client.get("/backoffice/").content.decode()
    link = re.search(rf'href="([^"]+)" data-count="DEMO-A:{state}"', dashboard).group(1)
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert sorted(listed(response.content.decode())) == sorted(expected)


def test_the_agency_total_opens_the_agencys_list(client, clerk, agency, season):
    login_staff(client, clerk)
    response = client.get(f"/backoffice/contracts/?agency={agency.pk}&state=expiring7")
    assert listed(response.content.decode()) == ["S-EXP5"]


def test_an_unknown_state_is_refused_with_a_message_not_a_500(client, clerk, season):
    login_staff(client, clerk)
    response = client.get("/backoffice/contracts/?state=nonsense")
    assert response.status_code == 200
    assert "正しく選択してください。" in response.content.decode()
