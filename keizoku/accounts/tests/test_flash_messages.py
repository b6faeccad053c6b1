"""Flash messages stay on the server (W12): they can hold the member's address, and the default
cookie storage would carry it in clear text (base64 JSON, signed but not encrypted)."""

import pytest
from django.test import Client

from .conftest import login
from .test_account import reauthenticate
from .test_registration import register_until_mail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hasher")]


def _no_messages_cookie(response) -> None:
    assert "messages" not in response.cookies
    for cookie in response.cookies.values():
        assert "example.jp" not in cookie.value


def test_the_login_and_email_change_messages_show_but_never_travel_in_a_cookie(client, member):
    response = login(client)
    _no_messages_cookie(response)
    page = client.get("/mypage/")
    assert "ユーザー member@example.jp としてログインしました。" in page.content.decode()
    _no_messages_cookie(page)

    reauthenticate(client, "/mypage/email/")
    response = client.post("/mypage/email/", {"email": "new@example.jp", "action_add": ""})
    assert response.status_code == 302
    _no_messages_cookie(response)
    page = client.get(response["Location"])
    assert "new@example.jp" in page.content.decode()  # the confirmation-sent message
    _no_messages_cookie(page)
    assert "messages" not in client.cookies


def test_registration_sets_no_messages_cookie(client):
    from tests.factories import make_contract

    make_contract(policy_number="P-0001")
    register_until_mail(client)
    assert "messages" not in client.cookies
    assert all("example.jp" not in cookie.value for cookie in client.cookies.values())


def test_a_back_office_flash_message_shows_after_its_redirect(settings):
    # The session storage keeps the Post/Redirect/Get messages working for staff as well.
    from django.utils import timezone

    from keizoku.backoffice.tests.conftest import login_staff, make_staff
    from keizoku.chat import unanswered
    from keizoku.chat.models import UnansweredQuestion

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clerk = make_staff("ops@insurer.example.jp", "insurer_admin")
    client = Client()
    login_staff(client, clerk)
    unanswered.record(
        "保険料の支払い方法は", language="ja", suggestions=[], confidence=0.1, now=timezone.now()
    )
    question = UnansweredQuestion.objects.get()
    response = client.post("/backoffice/chat/resolve/", {"id": question.pk})
    assert "messages" not in response.cookies
    page = client.get(response["Location"])
    assert "を対応済みにしました。" in page.content.decode()
