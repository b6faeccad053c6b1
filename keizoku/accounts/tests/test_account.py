"""Account management through allauth with our pages: reset, email and password change, two-step
login (TOTP, passkey pages), the session list and re-authentication — each over real HTTP."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.test import Client

from keizoku.accounts import allauth_bridge
from keizoku.accounts.models import User
from keizoku.core.models import AuditEvent
from keizoku.notifications.models import OutboundMail

from .conftest import PASSWORD, login
from .test_login import page_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hasher")]

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
NEW_PASSWORD = "n3wPass!x"


def logged_in(client: Client) -> bool:
    return client.get("/mypage/").status_code == 200


def reauthenticate(client: Client, next_path: str = "/mypage/") -> None:
    """allauth asks for the password again before account changes (a login alone is not enough)."""
    response = client.post(f"/mypage/reauthenticate/?next={next_path}", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == next_path


def link_in(mail: OutboundMail, path: str) -> str:
    """The path of the link in ``mail`` that starts with ``path`` (host checked elsewhere)."""
    return re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", mail.body).group(1)


# --- password reset -----------------------------------------------------------------------------


def test_password_reset_end_to_end_mail_link_new_password_login(client, member):
    other_device = Client()
    login(other_device)
    assert logged_in(other_device)

    response = client.post("/mypage/password/reset/", {"email": "member@example.jp"}, follow=True)
    assert response.status_code == 200
    assert "パスワード再設定のご案内をお送りしました" in response.content.decode()
    mail = OutboundMail.objects.get(kind="password_reset_key", to="member@example.jp")
    link = link_in(mail, "/mypage/password/reset/key/")

    # The key leaves the URL after landing (allauth keeps it in the session).
    landing = client.get(link)
    assert landing.status_code == 302
    form_url = landing["Location"]
    assert "set-password" in form_url
    page = client.get(form_url)
    assert page.status_code == 200
    assert "新しいパスワード" in page.content.decode()

    # The password rule holds here too, with the reason in Japanese.
    refused = client.post(form_url, {"password1": "abc12", "password2": "abc12"})
    assert refused.status_code == 200
    assert "パスワードは6文字以上で入力してください。" in refused.content.decode()

    done = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/mypage/password/reset/key/done/"
    assert client.get(done["Location"]).status_code == 200

    # The old password is gone, the new one works, every other session ended, a mail says so.
    assert login(Client()).status_code == 200
    assert login(client, password=NEW_PASSWORD).status_code == 302
    assert not logged_in(other_device)
    assert OutboundMail.objects.filter(kind="password_reset", to="member@example.jp").exists()
    # The link is single-use.
    assert "set-password" not in client.get(link).get("Location", "")


def test_password_reset_pages_are_the_same_for_known_and_unknown_addresses(member):
    known = Client().post("/mypage/password/reset/", {"email": "member@example.jp"}, follow=True)
    unknown = Client().post("/mypage/password/reset/", {"email": "nobody@example.jp"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert page_of(known) == page_of(unknown)
    # The member gets exactly one mail, the reset link; an address no member has gets none.
    assert OutboundMail.objects.get(to="member@example.jp").kind == "password_reset_key"
    assert not OutboundMail.objects.filter(to="nobody@example.jp").exists()


# --- password change ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "accepted"),
    [("Ab3!x", False), ("Ab3!xy", True), ("Ab3!" + "x" * 28, True), ("Ab3!" + "x" * 29, False)],
)
def test_the_password_change_applies_the_6_to_32_rule(client, member, password, accepted):
    login(client)
    response = client.post(
        "/mypage/password/change/",
        {"oldpassword": PASSWORD, "password1": password, "password2": password},
    )
    assert (response.status_code == 302) is accepted
    member.refresh_from_db()
    assert member.check_password(password) is accepted


def test_a_password_change_mails_the_member_and_ends_the_other_sessions(client, member):
    other_device = Client()
    login(other_device)
    login(client)
    response = client.post(
        "/mypage/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    mail = OutboundMail.objects.get(kind="password_changed")
    assert mail.to == "member@example.jp"
    assert mail.subject.startswith("【マイページ】")
    assert "パスワード" in mail.body
    assert logged_in(client) and not logged_in(other_device)
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=member).exists()


def test_a_wrong_current_password_refuses_the_change_in_japanese(client, member):
    login(client)
    response = client.post(
        "/mypage/password/change/",
        {"oldpassword": "not-mine-1", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "現在のパスワードが正しくありません。" in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


# --- email change ---------------------------------------------------------------------------------


def test_an_email_change_confirms_the_new_address_and_notifies_the_old_one(client, member):
    login(client)
    page = client.get("/mypage/email/")
    assert page.status_code == 200 and "メールアドレスの変更" in page.content.decode()
    reauthenticate(client, "/mypage/email/")

    response = client.post("/mypage/email/", {"email": "new@example.jp", "action_add": ""})
    assert response.status_code == 302
    confirmation = OutboundMail.objects.get(to="new@example.jp")
    assert confirmation.subject.startswith("【マイページ】")
    link = link_in(confirmation, "/mypage/confirm-email/")
    member.refresh_from_db()
    assert member.email == "member@example.jp"  # nothing changes before the confirmation

    # A GET of the link (a mail scanner) confirms nothing; the button does.
    assert client.get(link).status_code == 200
    member.refresh_from_db()
    assert member.email == "member@example.jp"
    assert client.post(link).status_code == 302
    member.refresh_from_db()
    assert member.email == "new@example.jp"

    notice = OutboundMail.objects.get(kind="email_changed")
    assert notice.to == "member@example.jp"
    assert "new@example.jp" in notice.body
    assert login(Client(), email="new@example.jp").status_code == 302
    assert login(Client(), email="member@example.jp").status_code == 200


def test_an_email_change_needs_a_password_entered_within_the_last_5_minutes(client, member):
    with time_machine.travel(START, tick=False) as clock:
        login(client)
        refused = client.post("/mypage/email/", {"email": "new@example.jp", "action_add": ""})
        assert refused["Location"] == "/mypage/reauthenticate/?next=%2Fmypage%2Femail%2F"
        reauthenticate(client, "/mypage/email/")
        clock.shift(timedelta(minutes=4, seconds=59))
        client.post("/mypage/email/", {"email": "new@example.jp", "action_add": ""})
        assert OutboundMail.objects.filter(to="new@example.jp").count() == 1
        clock.shift(timedelta(seconds=2))
        late = client.post("/mypage/email/", {"email": "new2@example.jp", "action_add": ""})
        assert late["Location"].startswith("/mypage/reauthenticate/")
        assert not OutboundMail.objects.filter(to="new2@example.jp").exists()


# --- re-authentication ----------------------------------------------------------------------------


def test_reauthentication_refuses_a_wrong_password_and_then_lets_the_member_in(client, member):
    with time_machine.travel(START, tick=False) as clock:
        login(client)
        clock.shift(timedelta(minutes=10))
        target = client.get("/mypage/2fa/totp/activate/")["Location"]
        assert target == "/mypage/reauthenticate/?next=%2Fmypage%2F2fa%2Ftotp%2Factivate%2F"
        page = client.get(target)
        assert page.status_code == 200 and "ご本人確認" in page.content.decode()

        wrong = client.post(target, {"password": "not-mine-1"})
        assert wrong.status_code == 200
        assert "パスワードが正しくありません。" in wrong.content.decode()
        right = client.post(target, {"password": PASSWORD})
        assert right.status_code == 302 and right["Location"] == "/mypage/2fa/totp/activate/"
        assert client.get("/mypage/2fa/totp/activate/").status_code == 200
        assert AuditEvent.objects.filter(action="auth.login", actor=member).count() == 1


# --- two-step login -------------------------------------------------------------------------------


def totp_code(secret: str, *, offset: int = 0) -> str:
    counter = int(datetime.now(tz=UTC).timestamp()) // 30 + offset
    return allauth_bridge.totp_code(secret, counter=counter)


def activate_totp(client: Client) -> str:
    reauthenticate(client, "/mypage/2fa/totp/activate/")
    page = client.get("/mypage/2fa/totp/activate/")
    assert page.status_code == 200
    secret = re.search(r'id="authenticator_secret">([A-Z2-7=]+)<', page.content.decode()).group(1)
    wrong = client.post("/mypage/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200 and "コード" in wrong.content.decode()
    response = client.post("/mypage/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    return secret


def test_totp_activation_mails_the_member_and_login_then_asks_for_the_code(
    client, member, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False) as clock:
        login(client)
        assert "認証アプリ" in client.get("/mypage/2fa/").content.decode()
        with django_capture_on_commit_callbacks(execute=True):  # allauth mails after commit
            secret = activate_totp(client)
        assert Authenticator.objects.filter(user=member, type="totp").exists()
        assert OutboundMail.objects.filter(kind="totp_activated", to=member.email).exists()
        assert AuditEvent.objects.filter(action="auth.mfa_added", actor=member).exists()

        clock.shift(timedelta(minutes=1))
        browser = Client()
        first = login(browser)
        assert first.status_code == 302 and first["Location"] == "/mypage/2fa/authenticate/"
        assert not logged_in(browser)  # the password alone is not enough

        wrong = browser.post("/mypage/2fa/authenticate/", {"code": "123456"})
        assert wrong.status_code == 200 and not logged_in(browser)
        right = browser.post("/mypage/2fa/authenticate/", {"code": totp_code(secret)})
        assert right.status_code == 302 and right["Location"] == "/mypage/"
        assert logged_in(browser)
        # The same code cannot be used twice.
        replay = Client()
        login(replay)
        assert (
            replay.post("/mypage/2fa/authenticate/", {"code": totp_code(secret)}).status_code == 200
        )
        assert not logged_in(replay)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/mypage/2fa/", "2段階認証"),
        ("/mypage/2fa/webauthn/", "パスキー"),
        ("/mypage/2fa/webauthn/add/", "パスキーの登録"),
    ],
)
def test_the_passkey_pages_render_in_japanese(client, member, path, heading):
    login(client)
    reauthenticate(client, path)
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert heading in html
    assert "<script>" not in html  # no inline script (CSP): data only as application/json


def test_the_two_step_pages_need_a_login(client):
    for path in ("/mypage/2fa/", "/mypage/2fa/totp/activate/", "/mypage/2fa/webauthn/add/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/mypage/login/")


# --- sessions -------------------------------------------------------------------------------------


def test_the_session_list_shows_each_browser_and_ends_the_others(client, member):
    other_device = Client(headers={"user-agent": "OtherPhone/1.0"})
    client = Client(headers={"user-agent": "ThisBrowser/2.0"})
    login(other_device)
    login(client)
    page = client.get("/mypage/sessions/")
    html = page.content.decode()
    assert page.status_code == 200 and "ログイン中の端末" in html
    assert "OtherPhone/1.0" in html and "ThisBrowser/2.0" in html and "この端末" in html

    response = client.post("/mypage/sessions/")
    assert response.status_code == 302
    assert logged_in(client) and not logged_in(other_device)
    assert "OtherPhone/1.0" not in client.get("/mypage/sessions/").content.decode()


def test_a_session_ended_by_the_member_cannot_be_revived_with_its_old_cookie(client, member):
    other_device = Client()
    login(other_device)
    old_cookie = other_device.cookies["sessionid"].value
    login(client)
    client.post("/mypage/sessions/")
    revived = Client()
    revived.cookies["sessionid"] = old_cookie
    assert not logged_in(revived)
    assert User.objects.get(pk=member.pk).is_active
