"""MyPage login: Japanese messages, no enumeration, per-IP limits, new-browser notice, redirects."""

import logging
import re

import pytest
from django.test import Client

from keizoku.accounts.authn import BROWSER_COOKIE
from keizoku.accounts.models import KnownBrowser
from keizoku.core.models import AuditEvent
from keizoku.notifications.models import OutboundMail

from .conftest import PASSWORD, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hasher")]

MISMATCH = "ID（メールアドレス）またはパスワードが正しくありません。"
TOO_MANY = "ログインの試行回数が多すぎます。"


def page_of(response) -> str:
    """The page without what differs per request (CSRF token, nonce)."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'nonce="[^"]+"', "", html)
    return re.sub(r"hx-headers='[^']+'", "", html)


def test_the_login_page_has_the_guide_labels_in_japanese(client):
    response = client.get("/mypage/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ja">' in html
    for label in (
        "ID（メールアドレス）",
        "パスワード",
        ">ログイン</button>",
        "パスワードをお忘れの方",
    ):
        assert label in html
    assert "パスキーでログイン" in html
    for english in ("Sign In", "Password", "Email", "Remember"):
        assert english not in html


def test_a_member_logs_in_with_a_new_session_id_and_the_login_is_audited(client, member):
    client.get("/mypage/login/")
    client.session.save()
    before = client.cookies["sessionid"].value
    response = login(client)
    assert response.status_code == 302 and response["Location"] == "/mypage/"
    assert client.cookies["sessionid"].value != before
    assert client.get("/mypage/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", actor=member).exists()


def test_a_wrong_password_gives_the_japanese_message_and_is_audited_without_the_password(
    client, member, caplog
):
    caplog.set_level(logging.DEBUG)
    response = login(client, password="wrong-Pass1")
    html = response.content.decode()
    assert response.status_code == 200
    assert MISMATCH in html and 'role="alert"' in html
    assert 'value="member@example.jp"' in html  # what was typed stays, the password does not
    assert "wrong-Pass1" not in html
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor == member and event.details == {"failures": 1}
    assert "wrong-Pass1" not in str(event.details) and "wrong-Pass1" not in caplog.text


def test_an_unknown_address_gets_the_same_status_page_and_hashing_work(client, member, fast_hasher):
    fast_hasher.calls = 0
    known = login(client, password="wrong-Pass1")
    known_hashes = fast_hasher.calls
    fast_hasher.calls = 0
    unknown = login(Client(), email="nobody@example.jp", password="wrong-Pass1")
    unknown_hashes = fast_hasher.calls
    assert known.status_code == unknown.status_code == 200
    assert page_of(known).replace("member@example.jp", "X") == page_of(unknown).replace(
        "nobody@example.jp", "X"
    )
    assert known_hashes == unknown_hashes > 0
    unknown_event = AuditEvent.objects.filter(action="auth.login_failed", actor=None).get()
    assert "nobody" not in str(unknown_event.details)  # only a hash of the login


def test_the_per_ip_limit_stops_guessing_across_accounts(make_member):
    make_member("victim@example.jp")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(10):
        response = login(attacker, email=f"guess{n}@example.jp", password="wrong-Pass1")
        assert MISMATCH in response.content.decode()
    blocked = login(attacker, email="victim@example.jp")
    assert TOO_MANY in blocked.content.decode()
    assert "_auth_user_id" not in attacker.session
    # Another address is not affected.
    assert login(Client(REMOTE_ADDR="198.51.100.7"), email="victim@example.jp").status_code == 302


def test_a_new_browser_gets_a_notice_once_and_a_known_browser_none(member):
    browser = Client()
    assert login(browser).status_code == 302
    assert browser.cookies[BROWSER_COOKIE]["httponly"]
    mail = OutboundMail.objects.get(kind="new_browser")
    assert mail.to == "member@example.jp"
    assert mail.subject == "【マイページ】新しいブラウザからのログインのお知らせ"
    assert "継続 太郎 様" in mail.body and "/mypage/sessions/" in mail.body
    assert AuditEvent.objects.filter(action="auth.new_browser", actor=member).exists()

    browser.post("/mypage/logout/")
    assert login(browser).status_code == 302  # the same browser again: no mail
    assert OutboundMail.objects.filter(kind="new_browser").count() == 1
    assert KnownBrowser.objects.filter(user=member).count() == 1

    assert login(Client()).status_code == 302  # another browser: a second notice
    assert OutboundMail.objects.filter(kind="new_browser").count() == 2


def test_a_forged_browser_cookie_counts_as_a_new_browser(member):
    browser = Client()
    login(browser)
    browser.post("/mypage/logout/")
    other = Client()
    other.cookies[BROWSER_COOKIE] = KnownBrowser.objects.get().browser_id  # unsigned
    login(other)
    assert OutboundMail.objects.filter(kind="new_browser").count() == 2


def test_the_first_login_of_a_new_account_records_the_browser_without_a_notice(make_member):
    user = make_member()  # never logged in: the end of registration
    assert login(Client()).status_code == 302
    assert not OutboundMail.objects.filter(kind="new_browser").exists()
    assert KnownBrowser.objects.filter(user=user).count() == 1


EVIL_NEXT = [
    "//evil.example/",
    "https://evil.example/",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/%09/evil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    " //evil.example",
    "https:/evil.example",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_never_redirects_away(client, member, target):
    response = client.post(
        "/mypage/login/", {"login": "member@example.jp", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302 and response["Location"] == "/mypage/"


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_logout_never_redirects_away(client, member, target):
    login(client)
    response = client.post("/mypage/logout/", {"next": target})
    assert response.status_code == 302 and response["Location"] == "/mypage/login/"


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_reauthentication_never_redirects_away(client, member, target):
    login(client)
    response = client.post("/mypage/reauthenticate/", {"password": PASSWORD, "next": target})
    assert response.status_code == 302 and response["Location"] == "/mypage/"


def test_next_to_our_own_path_is_followed(client, member):
    response = client.post(
        "/mypage/login/",
        {"login": "member@example.jp", "password": PASSWORD, "next": "/mypage/renewals/"},
    )
    assert response["Location"] == "/mypage/renewals/"


def test_the_reset_mail_link_is_built_from_base_url_in_japanese(client, member, settings):
    settings.BASE_URL = "https://mypage.example.jp"
    response = client.post(
        "/mypage/password/reset/", {"email": "member@example.jp"}, HTTP_HOST="localhost"
    )
    assert response.status_code == 302
    mail = OutboundMail.objects.get(kind="password_reset_key")
    assert mail.subject == "【マイページ】パスワード再設定のご案内"
    assert "https://mypage.example.jp/mypage/password/reset/key/" in mail.body
    assert "localhost" not in mail.body and "testserver" not in mail.body


def test_a_reset_for_an_unknown_address_looks_the_same_and_mails_nobody(client, member):
    """Issue 10 W13: the unknown address gets no mail (no unsolicited mail at scale), the known
    one exactly one, and the answers are the same."""
    known = client.post("/mypage/password/reset/", {"email": "member@example.jp"})
    unknown = Client().post("/mypage/password/reset/", {"email": "nobody@example.jp"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert not OutboundMail.objects.filter(to="nobody@example.jp").exists()
    assert OutboundMail.objects.get(to="member@example.jp").kind == "password_reset_key"
    assert OutboundMail.objects.count() == 1


def test_reset_mails_to_one_address_are_capped_whoever_asks(member):
    """5 an hour per address, from any number of IPs; the sixth ask gets the same 429 for a
    known and an unknown address."""
    for n in range(5):
        for email in ("member@example.jp", "nobody@example.jp"):
            response = Client(REMOTE_ADDR=f"198.51.100.{n}").post(
                "/mypage/password/reset/", {"email": email}
            )
            assert response.status_code == 302
    known = Client(REMOTE_ADDR="203.0.113.9").post(
        "/mypage/password/reset/", {"email": "member@example.jp"}
    )
    unknown = Client(REMOTE_ADDR="203.0.113.10").post(
        "/mypage/password/reset/", {"email": "nobody@example.jp"}
    )
    assert known.status_code == unknown.status_code == 429
    assert page_of(known) == page_of(unknown)
    assert OutboundMail.objects.filter(to="member@example.jp").count() == 5
    assert not OutboundMail.objects.filter(to="nobody@example.jp").exists()


def test_the_new_browser_notice_shows_the_browser_as_it_announced_itself(member):
    """W10: the User-Agent lands in a plain-text mail unescaped (a mail is not HTML)."""
    agent = """Mozilla/5.0 (O'Brien & "quote" <1>)"""
    assert login(Client(HTTP_USER_AGENT=agent)).status_code == 302
    body = OutboundMail.objects.get(kind="new_browser").body
    assert agent in body
    assert "&amp;" not in body and "&#x27;" not in body and "&quot;" not in body
