"""People for the chat tests: two members of different agencies, each with their own policy."""

import pytest
from django.utils import timezone

from keizoku.accounts.models import PolicyLink, User
from keizoku.renewals.models import Application
from tests import factories
from tests.factories import make_agency, make_contract, make_group

PASSWORD = "x9Lq2!zz"


def make_member(email: str) -> User:
    return factories.make_member(email, PASSWORD)


def login(client, user: User) -> None:
    response = client.post("/mypage/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]


def ask(client, question: str, *, htmx: bool = True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/chat/", {"question": question}, headers=headers)


@pytest.fixture
def taro(db):
    """Member with P-0001 (grade 13, no accident), agency テスト保険サービス, no application."""
    agency = make_agency(code="AG-A", name="テスト保険サービス", contact_phone="0120-111-222")
    contract = make_contract(
        group=make_group(agency=agency, code="GRP-A"),
        policy_number="P-0001",
        vehicle_model="トヨタ プリウス ZVW60",
    )
    user = make_member("taro@example.jp")
    PolicyLink.objects.create(member=user, contract=contract)
    return user


@pytest.fixture
def hanako(db):
    """Member with P-0099 (grade 7, one 3-down accident), another agency, an application sent."""
    agency = make_agency(code="AG-B", name="別の保険代理店", contact_phone="0120-999-888")
    contract = make_contract(
        group=make_group(agency=agency, code="GRP-B"),
        policy_number="P-0099",
        vehicle_model="ホンダ フィット GR3",
        grade=7,
        claims_3down=1,
        holder_name="継続 花子",
        annual_premium=98_000,
    )
    user = make_member("hanako@example.jp")
    PolicyLink.objects.create(member=user, contract=contract)
    Application.objects.create(
        contract=contract,
        member=user,
        period_start=contract.period_end,
        status=Application.Status.SUBMITTED,
        acceptance_number="KZ-20261125-0001",
        submitted_at=timezone.now(),
    )
    return user
