"""The staff login under guessing (issue 10 W11): a lock for the failing source only, and a code
by mail before the second factor when the guessing comes from many sources."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from keizoku.core.models import AuditEvent
from keizoku.notifications.models import OutboundMail

from .conftest import PASSWORD, totp_code

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
LOCKED = "このIDでのログインを停止しています。"
CODE_PAGE = "/mypage/login/code/confirm/"


def staff_login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/backoffice/login/", {"login": email, "password": password})


def test_an_attacker_locks_only_their_own_address_out_of_a_staff_login(clerk):
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    with time_machine.travel(START, tick=True) as clock:
        for n in range(10):
            page = staff_login(attacker, clerk.email, "wrong-Pass1").content.decode()
            if n < 9:  # the wait each failure brought, then the next guess
                clock.shift(timedelta(seconds=30 * 2 ** max(n - 4, 0) + 1))
        assert LOCKED in page
        assert LOCKED in staff_login(attacker, clerk.email).content.decode()
        clerk_at_work = Client(REMOTE_ADDR="198.51.100.7")
        response = staff_login(clerk_at_work, clerk.email)
        assert response["Location"] == reverse("mfa_authenticate")
        response = clerk_at_work.post(
            reverse("mfa_authenticate"), {"code": totp_code(clerk.totp_secret)}
        )
        assert response["Location"] == "/backoffice/"
        assert clerk_at_work.get("/backoffice/").status_code == 200
        clock.shift(timedelta(minutes=15, seconds=1))  # the lock of the attacker's address ends
        assert staff_login(attacker, clerk.email)["Location"] == reverse("mfa_authenticate")
    assert AuditEvent.objects.filter(action="auth.account_locked", actor=clerk).count() == 1
    notice = OutboundMail.objects.get(kind="login_locked")
    assert notice.to == clerk.email
    assert notice.subject == "【管理画面】ログインの失敗が続いたことのお知らせ"


def test_guessing_from_many_addresses_adds_a_mailed_code_before_the_second_factor(clerk):
    with time_machine.travel(START, tick=True):
        for n in range(10):
            staff_login(Client(REMOTE_ADDR=f"192.0.2.{n + 1}"), clerk.email, "wrong-Pass1")
        client = Client(REMOTE_ADDR="198.51.100.7")
        response = staff_login(client, clerk.email)
        assert response["Location"] == CODE_PAGE
        mail = OutboundMail.objects.filter(kind="login_code", to=clerk.email).get()
        code = re.search(r"^\s*(\d{8})\s*$", mail.body, re.MULTILINE).group(1)
        assert client.post(CODE_PAGE, {"code": "00000000"}).status_code == 200
        response = client.post(CODE_PAGE, {"code": code})
        assert response["Location"] == reverse("mfa_authenticate")  # then the authenticator app
        assert client.get("/backoffice/").status_code == 302
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(clerk.totp_secret)})
        assert response["Location"] == "/backoffice/"
        assert client.get("/backoffice/").status_code == 200
        # The code was for that login only.
        client.post("/backoffice/logout/")
        assert client.post(CODE_PAGE, {"code": code})["Location"] == "/mypage/login/"
