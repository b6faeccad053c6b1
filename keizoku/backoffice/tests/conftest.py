"""Named people for the back-office tests: two agencies' clerks, an insurer admin, an auditor."""

import time
from dataclasses import replace

import pytest
from allauth.mfa.models import Authenticator

from keizoku.accounts import allauth_bridge
from keizoku.accounts.models import PolicyLink, User
from keizoku.backoffice.services import staff_create
from keizoku.renewals import pricing
from keizoku.renewals.models import Application
from tests.factories import make_agency, make_contract, make_group, make_member

PASSWORD = "Staff-pass-2026"


def totp_code(secret: str) -> str:
    """What the clerk's authenticator app shows now."""
    return allauth_bridge.totp_code(secret, counter=int(time.time()) // 30)


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Argon2 is the production hasher; dozens of staff accounts per test run need a fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_staff(email: str, role: str, agency=None, *, totp: bool = True) -> User:
    user, _password = staff_create(email=email, role=role, agency=agency, password=PASSWORD)
    if totp:
        user.totp_secret = allauth_bridge.totp_secret_generate()
        allauth_bridge.totp_activate(user, user.totp_secret)
    return user


def login_staff(client, user: User, *, mfa: bool = True) -> None:
    """A session as the staff login leaves it: password, then the second factor."""
    client.force_login(user)
    session = client.session
    now = time.time()
    records = [{"method": "password", "at": now, "email": user.email}]
    if mfa:
        authenticator = Authenticator.objects.filter(user=user, type="totp").first()
        records.append({"method": "mfa", "at": now, "id": authenticator.pk, "type": "totp"})
    allauth_bridge.authentication_records_store(session, user, records)
    session.save()


@pytest.fixture
def agency():
    return make_agency(code="DEMO", name="デモ保険サービス")


@pytest.fixture
def other_agency():
    return make_agency(code="OTHER", name="ほか保険サービス")


@pytest.fixture
def group(agency):
    return make_group(agency=agency, code="DEMO-A", name="株式会社デモ製作所")


@pytest.fixture
def other_group(other_agency):
    return make_group(agency=other_agency, code="OTHER-A", name="ほか商事")


@pytest.fixture
def contract(group):
    return make_contract(group=group, policy_number="DM-0001")


@pytest.fixture
def other_contract(other_group):
    return make_contract(
        group=other_group,
        policy_number="OT-0001",
        holder_name="他社 花子",
        holder_kana="タシャ ハナコ",
    )


@pytest.fixture
def clerk(agency):
    return make_staff("clerk@demo.example.jp", "agency_staff", agency)


@pytest.fixture
def other_clerk(other_agency):
    return make_staff("clerk@other.example.jp", "agency_staff", other_agency)


@pytest.fixture
def insurer_admin():
    return make_staff("admin@insurer.example.jp", "insurer_admin")


@pytest.fixture
def auditor():
    return make_staff("audit@insurer.example.jp", "auditor")


@pytest.fixture
def member(contract):
    user = make_member("taro@example.jp", name="継続 太郎")
    PolicyLink.objects.create(member=user, contract=contract)
    return user


def quote_for(contract, **fields):
    """The contract's real renewal quote, with the figures these tests read (70,800 yen in 12
    instalments of 5,900) unless ``fields`` say otherwise."""
    values = {"annual_premium": 70_800, "installments": (5_900,) * 12, **fields}
    return replace(pricing.contract_quote(contract), **values)


def make_application(contract, member, status="submitted", number="K-0000-0000-001", **fields):
    values = {
        "contract": contract,
        "member": member,
        "period_start": contract.period_end,
        "status": status,
        "quote": quote_for(contract),
        "acceptance_number": None if status == "draft" else number,
        "completed_steps": [],
    }
    if status != "draft":
        from django.utils import timezone

        values["submitted_at"] = timezone.now()
    values.update(fields)
    return Application.objects.create(**values)


@pytest.fixture
def application(contract, member):
    return make_application(contract, member)


def wizard_application(contract, member, *, until: str = "submitted", overrides=None):
    """The member's application as the wizard leaves it, with its real answers, quote (the
    engine's, with its lines) and audit trail: ``until`` a step (a draft with every step before
    it done) or "submitted" (【申し込む】 pressed)."""
    import re

    from django.test import Client

    from keizoku.renewals.tests.conftest import login, step_url, walk

    client = Client()
    login(client, member)
    walk(client, contract, until="confirm" if until == "submitted" else until, overrides=overrides)
    if until == "submitted":
        html = client.get(step_url(contract, "confirm")).content.decode()
        key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
        data = {"intent": "on", "idempotency_key": key}
        response = client.post(step_url(contract, "confirm"), data)
        assert response["Location"] == f"/clickar/{contract.pk}/complete/"
    return Application.objects.exclude(status="withdrawn").get(contract=contract, member=member)
