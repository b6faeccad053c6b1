"""Shared people and helpers for the wizard tests: a member with a linked policy inside its window."""

import pytest

from keizoku.accounts.models import PolicyLink, User
from tests import factories
from tests.factories import make_contract, make_group

PASSWORD = "x9Lq2!zz"


def make_member(email: str = "member@example.jp", **fields) -> User:
    return factories.make_member(email, PASSWORD, **fields)


def login(client, user: User) -> None:
    """Log in through the real login form, so the session records a recent authentication."""
    response = client.post("/mypage/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.fixture
def group():
    return make_group(renewal_window_days=60)


@pytest.fixture
def contract(group):
    return make_contract(group=group, policy_number="P-0001")


@pytest.fixture
def member(client, contract):
    user = make_member()
    PolicyLink.objects.create(member=user, contract=contract)
    login(client, user)
    return user


@pytest.fixture
def other_member(contract):
    user = make_member("other@example.jp")
    other = make_contract(group=contract.group, policy_number="P-0099")
    PolicyLink.objects.create(member=user, contract=other)
    return user


STEP_DATA = {
    "consent": {"agree": "on"},
    "notes": {},
    "disclosure": {"confirmed": "on"},
    "current": {},
    "conditions": {
        "age_condition": "35",
        "driver_scope": "self_spouse",
        "use": "commute",
        "gold_license": "yes",
        "same_vehicle": "yes",
    },
    "plan": {"plan": "same"},
    "premium": {},
    "declarations": {
        "other_insurance": "no",
        "use_change": "no",
        "modified": "no",
        "license_suspended": "no",
        "unreported_accident": "no",
    },
    "payment": {"confirmed": "on"},
    "delivery": {"delivery": "web"},
}


def step_url(contract, slug: str) -> str:
    return f"/clickar/{contract.pk}/{slug}/"


def walk(client, contract, *, until: str = "confirm", overrides: dict | None = None) -> None:
    """Start the wizard and complete every step before ``until``, asserting each moves on."""
    response = client.get(f"/clickar/{contract.pk}/")
    assert response.status_code == 302
    for slug, data in STEP_DATA.items():
        if slug == until:
            return
        data = {**data, **(overrides or {}).get(slug, {})}
        response = client.post(step_url(contract, slug), data)
        assert response.status_code == 302, (slug, response.content.decode()[:3000])
