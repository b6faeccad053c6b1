"""Step 11's rules hold at 【申し込む】: a contract the agency changed mid-wizard is referred, not
submitted (issue 10, W2)."""

import re
from datetime import date

import pytest

from keizoku.core.models import AuditEvent
from keizoku.notifications.models import OutboundMail
from keizoku.renewals.models import Application

from .conftest import STEP_DATA, step_url, walk

pytestmark = pytest.mark.django_db

# The three agency changes that make a policy ineligible online (RATING.md §4), each with the
# referral reason it must give.
CHANGES = {
    "open_claim": {"open_claim": True},
    "midterm_change": {"midterm_change_pending": True},
    "retiree_age": {"member_type": "retiree", "birth_date": None},  # birth date: see below
}


def change_contract(contract, reason: str) -> None:
    """What the agency's import does to a contract: new values, a new version."""
    values = dict(CHANGES[reason])
    if reason == "retiree_age":
        # 80 at the renewed start: over the retirees' limit of 75.
        values["birth_date"] = date(contract.period_end.year - 80, 1, 1)
    for name, value in values.items():
        setattr(contract, name, value)
    contract.version += 1
    contract.save()


def confirm_key(client, contract) -> str:
    html = client.get(step_url(contract, "confirm")).content.decode()
    return re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)


def assert_referred_not_submitted(contract, reason: str) -> Application:
    application = Application.objects.get(contract=contract)
    assert application.status == Application.Status.REFERRED
    assert reason in [r["code"] for r in application.referral_reasons]
    # Nothing of a submission was written: no 受付番号, no submission time, no mail.
    assert application.acceptance_number is None
    assert application.submitted_at is None
    assert not OutboundMail.objects.filter(kind="application_submitted").exists()
    transitions = AuditEvent.objects.filter(
        action="application.status", object_id=application.pk
    ).order_by("pk")
    assert [event.details["to"] for event in transitions] == ["referred"]
    return application


@pytest.mark.parametrize("reason", CHANGES)
def test_a_change_between_step_11_and_the_quote_is_referred_at_submit(
    client, member, contract, reason
):
    walk(client, contract, until="current")  # step 11 passed with an eligible contract
    change_contract(contract, reason)
    walk_from = list(STEP_DATA)[list(STEP_DATA).index("current") :]
    for slug in walk_from:  # the quote (step 16) is priced on the changed contract
        response = client.post(step_url(contract, slug), STEP_DATA[slug])
        assert response.status_code == 302, slug
    key = confirm_key(client, contract)

    response = client.post(
        step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key}, follow=True
    )

    assert response.redirect_chain[-1][0] == f"/clickar/{contract.pk}/referred/"
    html = response.content.decode()
    assert "代理店でのお手続きになります" in html
    assert contract.group.agency.contact_phone in html
    application = assert_referred_not_submitted(contract, reason)
    # A reload of the same 【申し込む】 changes nothing more.
    again = client.post(step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key})
    assert again.status_code == 302
    assert Application.objects.get(pk=application.pk).version == application.version
    assert_referred_not_submitted(contract, reason)


@pytest.mark.parametrize("reason", CHANGES)
def test_a_change_after_the_quote_sends_the_customer_back_to_step_11_and_refers(
    client, member, contract, reason
):
    walk(client, contract, until="confirm")
    key = confirm_key(client, contract)
    change_contract(contract, reason)

    response = client.post(
        step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key}, follow=True
    )

    # Step 11's answer no longer stands: shown again, it finds the new reason and refers.
    assert response.redirect_chain[-1][0] == step_url(contract, "notes")
    html = response.content.decode()
    assert "このご契約はWEBでは継続手続きができません" in html
    assert contract.group.agency.contact_phone in html
    application = assert_referred_not_submitted(contract, reason)
    assert "notes" not in application.answers
    assert application.quote is None
    # The wizard cannot be continued to the submit by typing a URL.
    late = client.post(step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key})
    assert late["Location"] == f"/clickar/{contract.pk}/referred/"
    assert_referred_not_submitted(contract, reason)


def test_a_declaration_referral_is_kept_beside_the_new_reason(client, member, contract):
    overrides = {"declarations": {"other_insurance": "yes"}}
    walk(client, contract, until="current")
    change_contract(contract, "open_claim")
    for slug in list(STEP_DATA)[list(STEP_DATA).index("current") :]:
        data = {**STEP_DATA[slug], **overrides.get(slug, {})}
        client.post(step_url(contract, slug), data)
    key = confirm_key(client, contract)
    client.post(step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key})
    application = assert_referred_not_submitted(contract, "open_claim")
    assert [r["code"] for r in application.referral_reasons] == ["open_claim", "other_insurance"]


def test_an_unchanged_eligible_contract_is_still_submitted(client, member, contract):
    walk(client, contract)
    key = confirm_key(client, contract)
    response = client.post(step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key})
    assert response["Location"] == f"/clickar/{contract.pk}/complete/"
    assert Application.objects.get().status == Application.Status.SUBMITTED
