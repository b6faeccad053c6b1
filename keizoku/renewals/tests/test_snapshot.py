"""The renewal snapshot: Quote and Answers keep one JSON shape, refuse any other, and every page,
mail and PDF that shows them reads each of their fields (a change of the shape fails here)."""

import dataclasses
import json
import re

import pytest
from django.db import transaction
from django.template.loader import render_to_string
from django.test import Client

from keizoku.backoffice.tests.conftest import login_staff, make_staff
from keizoku.core.models import AuditEvent
from keizoku.rating.engine import Coverages
from keizoku.renewals import pricing
from keizoku.renewals.choices import DECLARATIONS
from keizoku.renewals.models import Application
from keizoku.renewals.selectors import application_summary
from keizoku.renewals.snapshot import (
    ANSWERS_VERSION,
    QUOTE_VERSION,
    Answers,
    Conditions,
    Declarations,
    PlanChoice,
    Quote,
    SnapshotError,
)
from tests.factories import make_contract, make_member

from .conftest import STEP_DATA, step_url, walk

# The worked example of RATING.md: accidents, so that every part of the explanation has a figure.
EXAMPLE = {"claims_3down": 1, "claims_1down": 1, "claims_nocount": 1}
INVALID = "@@MISSING:%s@@"
# A variable that reads the snapshot (or a value made from it) and did not resolve.
SNAPSHOT_MISSING = re.compile(
    r"@@MISSING:((quote|q|line|part|row|change|answers|conditions|summary|plan|labels)\b"
    r"|application\.(quote|answers))[^@]*@@"
)


def full_answers() -> Answers:
    """Every step answered, no field left at its default."""
    coverages = Coverages("unlimited", "unlimited", "economy", "10-10", ("legal", "road"))
    return Answers(
        consent=True,
        notes=True,
        disclosure=True,
        current=True,
        conditions=Conditions(
            age_condition="26", driver_scope="self", use="leisure", gold_license=True
        ),
        plan=PlanChoice(plan="custom", coverages=coverages, custom=coverages),
        premium=True,
        declarations=Declarations(
            other_insurance=True,
            use_change=False,
            modified=True,
            license_suspended=False,
            unreported_accident=False,
        ),
        payment="payroll",
        delivery="web",
    )


@pytest.fixture
def example(db):
    return make_contract(policy_number="SN-0001", **EXAMPLE)


@pytest.fixture
def quote(example) -> Quote:
    return pricing.contract_quote(example)


def draft(contract) -> Application:
    return Application.objects.create(
        contract=contract,
        member=make_member("snapshot@example.jp"),
        period_start=contract.period_end,
    )


def leaves(value, path="") -> dict[str, object]:
    """Every leaf of a JSON value by its path."""
    if isinstance(value, dict):
        return {k: v for key in value for k, v in leaves(value[key], f"{path}.{key}").items()}
    if isinstance(value, list):
        return {
            k: v for i, item in enumerate(value) for k, v in leaves(item, f"{path}[{i}]").items()
        }
    return {path: value}


# --- one JSON shape ---------------------------------------------------------------------------


def test_a_quote_round_trips_every_field_through_json_and_the_database(example, quote):
    data = quote.to_json()
    assert data["version"] == QUOTE_VERSION
    assert Quote.from_json(json.loads(json.dumps(data))) == quote
    # Every field has a value (no default left over), nested ones included.
    assert None not in leaves(data).values()
    assert {f.name for f in dataclasses.fields(Quote)} == set(data)
    application = draft(example)
    Application.objects.filter(pk=application.pk).update(quote=quote, answers=full_answers())
    stored = Application.objects.get(pk=application.pk)
    assert stored.quote == quote and isinstance(stored.quote, Quote)
    assert stored.answers == full_answers()


def test_answers_round_trip_every_step():
    answers = full_answers()
    data = answers.to_json()
    assert data["version"] == ANSWERS_VERSION
    assert Answers.from_json(json.loads(json.dumps(data))) == answers
    assert set(data) == {"version"} | {f.name for f in dataclasses.fields(Answers)} - {"version"}
    assert Answers.from_json(Answers().to_json()) == Answers()


def test_the_declarations_are_the_questions_of_step_17():
    assert [f.name for f in dataclasses.fields(Declarations)] == [d.code for d in DECLARATIONS]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: {**d, "discount": 1}, r"quote: unknown keys \['discount'\]"),
        (lambda d: {k: v for k, v in d.items() if k != "annual_premium"}, "missing keys"),
        (lambda d: {**d, "annual_premium": "71720"}, r"quote\.annual_premium: int expected"),
        (lambda d: {**d, "annual_premium": True}, r"quote\.annual_premium: an int expected"),
        (
            lambda d: {**d, "conditions": {**d["conditions"], "gold_license": "yes"}},
            r"quote\.conditions\.gold_license: bool expected, not 'yes'",
        ),
        (
            lambda d: {**d, "lines": [{**d["lines"][0], "amount": 1}]},
            r"quote\.lines\[0\]: unknown keys \['amount'\]",
        ),
        (lambda d: {**d, "grade_rate": 0.5}, r"quote\.grade_rate: a decimal as a string"),
        (lambda d: {**d, "installments": 5000}, r"quote\.installments: a list expected"),
        (lambda d: {k: v for k, v in d.items() if k != "version"}, "version None stored"),
        (lambda d: {**d, "version": 1}, "version 1 stored, this code reads version 2"),
    ],
)
def test_a_quote_of_another_shape_is_refused_with_where_and_why(quote, change, message):
    with pytest.raises(SnapshotError, match=message):
        Quote.from_json(change(quote.to_json()))


def test_answers_of_another_shape_are_refused():
    data = full_answers().to_json()
    with pytest.raises(
        SnapshotError, match=r"answers\.conditions: unknown keys \['same_vehicle'\]"
    ):
        Answers.from_json({**data, "conditions": {**data["conditions"], "same_vehicle": True}})
    with pytest.raises(SnapshotError, match=r"answers: an object expected, not list"):
        Answers.from_json([])
    with pytest.raises(
        SnapshotError, match=r"answers.declarations: unknown keys \[\], missing keys \['modified'\]"
    ):
        declarations = {k: v for k, v in data["declarations"].items() if k != "modified"}
        Answers.from_json({**data, "declarations": declarations})


def test_a_step_answer_of_the_wrong_type_is_refused():
    answers = full_answers()
    assert answers.with_step("delivery", "paper").delivery == "paper"
    with pytest.raises(SnapshotError, match=r"answers\.conditions: an object expected, not str"):
        answers.with_step("conditions", "yes")
    with pytest.raises(SnapshotError, match=r"answers\.consent: bool expected"):
        answers.with_step("consent", {"agree": True})
    with pytest.raises(ValueError, match="no answers for step 'confirm'"):
        answers.with_step("confirm", True)


@pytest.mark.django_db
def test_a_dict_cannot_be_stored_as_a_quote(example, quote):
    application = draft(example)
    application.quote = quote.to_json()
    with pytest.raises(TypeError, match="quote takes a Quote, not dict"), transaction.atomic():
        application.save()
    assert Application.objects.get().quote is None


# --- every template that shows the snapshot reads fields that exist ---------------------------


@pytest.fixture
def strict_templates(settings):
    """A template variable that does not resolve shows its name (Django's default is "")."""
    settings.TEMPLATES = [
        {**engine, "OPTIONS": {**engine.get("OPTIONS", {}), "string_if_invalid": INVALID}}
        for engine in settings.TEMPLATES
    ]


def assert_complete(html: str, *figures: str) -> None:
    """Every variable of the page that reads the snapshot resolved, and shows ``figures``."""
    assert not SNAPSHOT_MISSING.findall(html), SNAPSHOT_MISSING.findall(html)
    for figure in figures:
        assert figure in html, figure


@pytest.mark.django_db
def test_every_page_mail_and_pdf_showing_the_snapshot_reads_existing_fields(
    strict_templates, client, member, contract
):
    # The customer's pages, from the plan cards to the completion, on the real wizard.
    walk(client, contract, until="plan")
    assert_complete(client.get(step_url(contract, "plan")).content.decode(), "年間保険料")
    htmx = client.post(
        step_url(contract, "plan"),
        {
            "plan": "custom",
            "custom-personal_injury": "unlimited",
            "custom-property_damage": "unlimited",
            "custom-vehicle_cover": "none",
            "custom-deductible": "",
        },
        headers={"HX-Request": "true"},
    )
    assert_complete(htmx.content.decode(), "年間保険料")
    walk(client, contract, until="confirm")
    application = Application.objects.get()
    premium = f"{application.quote.annual_premium:,}円"
    installment = f"{application.quote.installments[1]:,}円"
    assert_complete(client.get(step_url(contract, "premium")).content.decode(), premium)
    assert_complete(client.get(step_url(contract, "payment")).content.decode(), installment)
    confirm = client.get(step_url(contract, "confirm")).content.decode()
    assert_complete(confirm, premium, installment, "前年同等プラン", "Web証券・Web約款")
    key = confirm.split('name="idempotency_key" value="')[1].split('"')[0]
    client.post(step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key})
    complete = client.get(f"/clickar/{contract.pk}/complete/").content.decode()
    assert_complete(complete, premium)
    application.refresh_from_db()
    pdf_html = render_to_string(
        "renewals/pdf/application.html", {**application_summary(application), "printed_at": None}
    )
    assert_complete(pdf_html, premium, installment, "Web証券・Web約款")
    # The agency's view of the same application.
    clerk = make_staff("snapshot-clerk@example.jp", "agency_staff", contract.group.agency)
    staff = Client()
    login_staff(staff, clerk)
    detail = staff.get(f"/backoffice/applications/{application.pk}/").content.decode()
    assert_complete(
        detail,
        f'<dd id="quoted-premium">{premium}</dd>',
        "前年同等プラン",
        "ゴールド免許",
        "Web証券・Web約款（ペーパーレス割引あり）",
    )


# --- the declarations' referral is a versioned, audited change -----------------------------------


@pytest.mark.django_db
def test_a_declaration_that_refers_is_saved_with_its_version_and_audit_row(
    client, member, contract
):
    walk(client, contract, until="declarations")
    url = step_url(contract, "declarations")
    before = Application.objects.get().version
    yes = {**STEP_DATA["declarations"], "modified": "yes"}
    assert client.post(url, yes).status_code == 302
    application = Application.objects.get()
    assert [reason["code"] for reason in application.referral_reasons] == ["modified"]
    assert application.answers.declarations.modified is True
    assert application.version == before + 1  # one write: the answers and the referral
    event = AuditEvent.objects.get(action="application.referral_set")
    assert (event.actor, event.details) == (member, {"from": [], "to": ["modified"]})
    # The same answers again change nothing of the referral: no second row.
    client.post(url, yes)
    assert AuditEvent.objects.filter(action="application.referral_set").count() == 1
    # 「いいえ」 again: no longer referred, and that is recorded too.
    client.post(url, STEP_DATA["declarations"])
    application.refresh_from_db()
    assert application.referral_reasons == []
    last = AuditEvent.objects.filter(action="application.referral_set").latest("pk")
    assert last.details == {"from": ["modified"], "to": []}
