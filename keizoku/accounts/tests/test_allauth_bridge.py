"""The bridge to allauth's internal modules: each function works against the installed allauth,
and nothing else in the source tree imports an allauth ``internal`` module."""

import re
import time
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from keizoku.accounts import allauth_bridge

from .conftest import PASSWORD, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hasher")]

ROOT = Path(__file__).resolve().parents[3]
BRIDGE = Path(allauth_bridge.__file__).resolve()
# An import of an allauth module under ``internal`` (or allauth.account.authentication, a
# re-export of one), at the start of a line as every import here is written.
INTERNAL = re.compile(r"^\s*(?:from|import)\s+allauth\.(?:[a-z_]+\.)*(?:internal|authentication)\b")


def request_of(user, session=None):
    request = RequestFactory().get("/")
    request.user = user
    request.session = session if session is not None else SessionStore()
    return request


def test_nothing_but_the_bridge_imports_allauth_internals():
    offenders = []
    for folder in ("keizoku", "config", "tests", "tools", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.resolve() == BRIDGE or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if INTERNAL.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_internal_pattern_matches_every_spelling_of_an_internal_import():
    assert INTERNAL.search("from allauth.account.internal.flows.login import x")
    assert INTERNAL.search("from allauth.mfa.totp.internal import auth")
    assert INTERNAL.search("    import allauth.mfa.recovery_codes.internal.flows")
    assert INTERNAL.search("from allauth.account.authentication import get_authentication_records")
    assert not INTERNAL.search("from allauth.account.adapter import DefaultAccountAdapter")


def test_authentication_records_are_written_and_read_back_for_their_user_only(member, make_member):
    request = request_of(member)
    assert allauth_bridge.authentication_records(request, member) == []
    allauth_bridge.authentication_record(request, member, "mfa", id=7, type="totp")
    records = allauth_bridge.authentication_records(request, member)
    assert [(r["method"], r["id"], r["type"]) for r in records] == [("mfa", 7, "totp")]
    assert time.time() - records[0]["at"] < 5
    other = make_member("other@example.jp")
    assert allauth_bridge.authentication_records(request, other) == []


def test_a_password_login_leaves_a_password_record_the_bridge_reads(member):
    client = Client()
    assert login(client).status_code == 302
    records = allauth_bridge.authentication_records(request_of(member, client.session), member)
    assert [record["method"] for record in records] == ["password"]
    assert records[0]["email"] == member.email


def test_stored_records_are_what_allauth_reads(member):
    session = SessionStore()
    now = time.time()
    allauth_bridge.authentication_records_store(
        session, member, [{"method": "password", "at": now}]
    )
    records = allauth_bridge.authentication_records(request_of(member, session), member)
    assert records == [{"method": "password", "at": now}]


def test_an_activated_totp_accepts_the_code_the_bridge_computes(member):
    secret = allauth_bridge.totp_secret_generate()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    authenticator = allauth_bridge.totp_activate(member, secret)
    assert authenticator.type == Authenticator.Type.TOTP and authenticator.user == member
    code = allauth_bridge.totp_code(secret, counter=int(time.time()) // 30)
    assert re.fullmatch(r"\d{6}", code)
    assert authenticator.wrap().validate_code(code)
    assert not authenticator.wrap().validate_code("000000" if code != "000000" else "111111")


def test_a_cleared_totp_secret_is_no_longer_the_one_the_set_up_form_checks(member):
    client = Client()
    assert login(client).status_code == 302
    url = "/mypage/2fa/totp/activate/"
    client.post(f"/mypage/reauthenticate/?next={url}", {"password": PASSWORD})

    def secret_shown() -> str:
        page = client.get(url).content.decode()
        return re.search(r'id="authenticator_secret">([A-Z2-7=]+)<', page).group(1)

    def code_of(secret: str) -> str:
        return allauth_bridge.totp_code(secret, counter=int(time.time()) // 30)

    shown = secret_shown()  # kept in the session for the POST that follows
    session = client.session
    allauth_bridge.totp_secret_clear(request_of(member, session))
    session.save()
    assert client.post(url, {"code": code_of(shown)}).status_code == 200  # refused
    assert not Authenticator.objects.filter(user=member, type="totp").exists()
    shown = secret_shown()
    assert client.post(url, {"code": code_of(shown)}).status_code == 302
    assert Authenticator.objects.filter(user=member, type="totp").exists()


def test_recovery_codes_are_generated_once_beside_the_first_factor(member):
    request = request_of(member)
    codes = allauth_bridge.recovery_codes_generate(request)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = Authenticator.objects.get(user=member, type=Authenticator.Type.RECOVERY_CODES)
    assert stored.wrap().validate_code(codes[0])
    assert allauth_bridge.recovery_codes_generate(request) == []  # already has a set


def test_recovery_codes_activate_gives_a_usable_set(member):
    authenticator = allauth_bridge.recovery_codes_activate(member)
    assert authenticator.type == Authenticator.Type.RECOVERY_CODES
    codes = authenticator.wrap().get_unused_codes()
    assert len(codes) == 10 and authenticator.wrap().validate_code(codes[-1])
