"""Unlinking a policy withdraws the member's unfinished draft, so the next member who links the
policy can renew it (issue 10, W6)."""

import re

import pytest
from django.test import Client

from keizoku.accounts.models import PolicyLink
from keizoku.core.models import AuditEvent
from keizoku.renewals.models import Application

from .conftest import login, make_member, step_url, walk

pytestmark = pytest.mark.django_db


def unlink(client, member) -> None:
    link = PolicyLink.objects.get(member=member)
    response = client.post(f"/mypage/policies/{link.pk}/unlink/")
    assert response.status_code == 302


def link(client, contract) -> None:
    """Through MyPage's form: the policy number, the address and the phone as at the contract."""
    data = {
        "policy_number": contract.policy_number,
        "address": contract.address,
        "phone": "03-1234-5678",
    }
    response = client.post("/mypage/policies/link/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_after_an_unlink_the_next_member_who_links_the_policy_can_renew_it(
    client, member, contract
):
    walk(client, contract, until="plan")  # the first member leaves a draft half-way
    draft = Application.objects.get(contract=contract)
    unlink(client, member)

    draft.refresh_from_db()
    assert draft.status == Application.Status.WITHDRAWN
    assert draft.version > 1 and draft.acceptance_number is None
    event = AuditEvent.objects.filter(action="application.status", object_id=str(draft.pk)).get()
    assert event.details == {"from": "draft", "to": "withdrawn", "by": "policy_unlinked"}
    assert event.actor == member

    owner = make_member("owner@example.jp")
    other = Client()
    login(other, owner)
    link(other, contract)
    walk(other, contract)
    html = other.get(step_url(contract, "confirm")).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    response = other.post(step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key})
    assert response["Location"] == f"/clickar/{contract.pk}/complete/"
    mine = Application.objects.exclude(pk=draft.pk).get(contract=contract)
    assert mine.member == owner and mine.status == Application.Status.SUBMITTED


def test_an_unlink_leaves_a_submitted_application_to_the_agency(client, member, contract):
    walk(client, contract)
    html = client.get(step_url(contract, "confirm")).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    client.post(step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key})
    unlink(client, member)
    application = Application.objects.get(contract=contract)
    assert application.status == Application.Status.SUBMITTED
    assert not AuditEvent.objects.filter(details__to="withdrawn").exists()


def test_an_unlink_withdraws_only_the_unlinking_members_draft_of_that_policy(
    client, member, contract, other_member
):
    other = Client()
    login(other, other_member)
    theirs = other_member.policy_links.get().contract
    walk(other, theirs, until="plan")
    walk(client, contract, until="plan")
    unlink(client, member)
    assert Application.objects.get(contract=theirs).status == Application.Status.DRAFT
    assert Application.objects.get(contract=contract).status == Application.Status.WITHDRAWN
