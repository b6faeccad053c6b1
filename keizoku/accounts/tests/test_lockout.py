"""Login throttling per (login, source): growing delays after 5 failures and a lock at 10 for the
failing source, which expires; guessing from many sources asks for a code by mail (issue 10 W11)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from keizoku.core.models import AuditEvent
from keizoku.notifications.models import OutboundMail

from .conftest import login
from .test_login import MISMATCH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hasher")]

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
WAIT = "ログインを一時的に制限しています。"
LOCKED = "このIDでのログインを停止しています。"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
CODE_PAGE = "/mypage/login/code/confirm/"


def at(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def fail(client: Client, email: str = "member@example.jp") -> str:
    return login(client, email=email, password="wrong-Pass1").content.decode()


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_bring_a_delay_that_even_the_right_password_must_wait(member):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(4):
            assert MISMATCH in fail(client)
        fifth = fail(client)
        assert WAIT in fifth and "1分ほど" in fifth
        clock.shift(timedelta(seconds=20))
        refused = login(client)
        assert refused.status_code == 200 and WAIT in refused.content.decode()
        assert not logged_in(client)
        clock.shift(timedelta(seconds=11))
        assert login(client).status_code == 302
    assert AuditEvent.objects.filter(action="auth.login_refused_throttled").count() == 1


def test_the_delay_doubles_with_each_further_failure(member):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            fail(client)
        clock.shift(timedelta(seconds=31))
        assert "1分ほど" in fail(client)  # 6th failure: 60 s now
        clock.shift(timedelta(seconds=45))
        assert WAIT in login(client).content.decode()
        clock.shift(timedelta(seconds=16))
        assert "2分ほど" in fail(client)  # 7th: checked again, then 120 s
        clock.shift(timedelta(seconds=100))
        assert WAIT in login(client).content.decode()
        clock.shift(timedelta(seconds=21))
        assert login(client).status_code == 302


def lock(client: Client, email: str, clock) -> list[str]:
    """Ten failures from the client's address, each after the wait the previous one brought."""
    pages = []
    for n in range(10):
        pages.append(fail(client, email))
        if n < 9:
            clock.shift(timedelta(seconds=30 * 2 ** max(n - 4, 0) + 1))
    return pages


def test_an_attacker_at_one_address_cannot_lock_the_owner_at_another(member):
    with time_machine.travel(START, tick=False) as clock:
        pages = lock(at(ATTACKER), "member@example.jp", clock)
        assert LOCKED in pages[-1]
        assert LOCKED in login(at(ATTACKER)).content.decode()  # even the right password
        owner = at(OWNER)
        response = login(owner)
        assert response.status_code == 302 and response["Location"] == "/mypage/"
        assert logged_in(owner)
    locked = AuditEvent.objects.get(action="auth.account_locked", actor=member)
    assert locked.ip == ATTACKER


def test_the_lock_of_a_source_expires_after_15_minutes_then_doubles(member):
    attacker = at(ATTACKER)
    with time_machine.travel(START, tick=False) as clock:
        lock(attacker, "member@example.jp", clock)
        clock.shift(timedelta(minutes=15, seconds=-1))
        assert LOCKED in login(attacker).content.decode()
        clock.shift(timedelta(seconds=2))
        assert MISMATCH not in fail(attacker)  # checked again: the 11th failure
        clock.shift(timedelta(minutes=30, seconds=-1))  # locked twice as long now
        assert LOCKED in login(attacker).content.decode()
        clock.shift(timedelta(seconds=2))
        response = login(attacker)  # the owner, back home with the right password
        assert response.status_code == 302 and logged_in(attacker)
    assert AuditEvent.objects.filter(action="auth.account_locked", actor=member).count() == 2


def test_a_password_reset_lifts_the_lock_at_once(member):
    client = at(OWNER)
    with time_machine.travel(START, tick=False) as clock:
        lock(client, "member@example.jp", clock)
        assert LOCKED in login(client).content.decode()
        # 「パスワードをお忘れの方」: the mail's link, a new password, and the lock is gone.
        client.post("/mypage/password/reset/", {"email": "member@example.jp"})
        body = OutboundMail.objects.get(kind="password_reset_key").body
        link = re.search(r"https?://[^/\s]+(/mypage/password/reset/key/\S+)", body).group(1)
        form_url = client.get(link)["Location"]
        done = client.post(form_url, {"password1": "n3wPass!x", "password2": "n3wPass!x"})
        assert done.status_code == 302
        assert AuditEvent.objects.filter(action="auth.password_reset", actor=member).exists()
        assert login(client, password="n3wPass!x").status_code == 302


def test_the_owner_is_told_once_per_episode(member, settings):
    settings.BASE_URL = "https://mypage.example.jp"
    with time_machine.travel(START, tick=False) as clock:
        lock(at(ATTACKER), "member@example.jp", clock)
        lock(at("203.0.113.67"), "member@example.jp", clock)
        for n in range(3):
            fail(at(f"192.0.2.{n}"))  # and now from many sources: the step-up too
    mail = OutboundMail.objects.get(kind="login_locked")
    assert mail.to == "member@example.jp"
    assert mail.subject == "【マイページ】ログインの失敗が続いたことのお知らせ"
    assert "継続 太郎 様" in mail.body and ATTACKER in mail.body
    assert "ほかの場所からは、これまでどおりログインできます。" in mail.body
    assert "https://mypage.example.jp/mypage/password/reset/" in mail.body


def test_an_unknown_address_is_throttled_and_locked_exactly_like_a_known_one(member):
    with time_machine.travel(START, tick=False) as clock:
        known = lock(Client(), "member@example.jp", clock)
        unknown = lock(Client(), "nobody@example.jp", clock)
        known.append(fail(Client(), "member@example.jp"))
        unknown.append(fail(Client(), "nobody@example.jp"))
    for known_page, unknown_page in zip(known, unknown, strict=True):
        assert page_of_text(known_page, "member") == page_of_text(unknown_page, "nobody")
    assert WAIT in unknown[4] and LOCKED in unknown[-1]
    assert not OutboundMail.objects.filter(to="nobody@example.jp").exists()


def page_of_text(html: str, name: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'nonce="[^"]+"', "", html)
    html = re.sub(r"hx-headers='[^']+'", "", html)
    return html.replace(f"{name}@example.jp", "X")


def test_a_successful_login_clears_the_failures_of_its_source(member):
    client = Client()
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            fail(client)
        assert login(client).status_code == 302
        client.post("/mypage/logout/")
        for _ in range(4):  # would be the 5th to 8th failures without the clearing
            assert MISMATCH in fail(client)


# --- guessing from many sources: the step-up by mail ---------------------------------------------


def spread_failures(email: str = "member@example.jp", sources: int = 10) -> None:
    """One wrong password from each of ``sources`` addresses: none comes near its own lock."""
    for n in range(sources):
        assert MISMATCH in fail(at(f"192.0.2.{n + 1}"), email)


def mailed_code(to: str = "member@example.jp") -> str:
    mail = OutboundMail.objects.filter(kind="login_code", to=to).latest("id")
    return re.search(r"^\s*(\d{8})\s*$", mail.body, re.MULTILINE).group(1)


def test_distributed_guessing_asks_for_a_mailed_code_after_the_right_password(member):
    with time_machine.travel(START, tick=False):
        spread_failures()
        owner = at(OWNER)
        response = login(owner)
        assert response.status_code == 302 and response["Location"] == CODE_PAGE
        assert not logged_in(owner)
        page = owner.get(CODE_PAGE)
        assert (
            "確認コード" in page.content.decode() and "member@example.jp" in page.content.decode()
        )
        mail = OutboundMail.objects.get(kind="login_code")
        assert mail.subject == "【マイページ】ログインの確認コード"
        assert "正しいパスワードが入力されたとき" in mail.body
        wrong = owner.post(CODE_PAGE, {"code": "00000000"})
        assert wrong.status_code == 200 and "確認コードが正しくありません" in wrong.content.decode()
        assert not logged_in(owner)
        # Typed with a Japanese input method: full-width digits are the same code.
        code = mailed_code().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        response = owner.post(CODE_PAGE, {"code": code})
        assert response.status_code == 302 and response["Location"] == "/mypage/"
        assert logged_in(owner)
    assert AuditEvent.objects.filter(action="auth.login_step_up", actor=member).count() == 1
    assert AuditEvent.objects.filter(action="auth.login_code_failed", actor=member).count() == 1
    assert not AuditEvent.objects.filter(action="auth.account_locked").exists()  # nobody locked


def test_a_mailed_code_works_once(member):
    with time_machine.travel(START, tick=False):
        spread_failures()
        first = at(OWNER)
        login(first)
        code = mailed_code()
        assert first.post(CODE_PAGE, {"code": code}).status_code == 302
        first.post("/mypage/logout/")
        # The same code again, in the same browser after logging out, or in another one.
        assert first.post(CODE_PAGE, {"code": code})["Location"] == "/mypage/login/"
        assert not logged_in(first)
        other = at("198.51.100.8")
        login(other)
        assert other.post(CODE_PAGE, {"code": code}).status_code == 200  # a new code was mailed
        assert not logged_in(other)


def test_an_expired_code_fails(member):
    with time_machine.travel(START, tick=False) as clock:
        spread_failures()
        owner = at(OWNER)
        login(owner)
        code = mailed_code()
        clock.shift(timedelta(minutes=10, seconds=1))
        response = owner.post(CODE_PAGE, {"code": code})
        assert response.status_code == 302 and response["Location"] == "/mypage/login/"
        assert not logged_in(owner)


def test_three_wrong_codes_send_back_to_the_login_and_count_as_failures(member):
    with time_machine.travel(START, tick=False):
        spread_failures()
        owner = at(OWNER)
        login(owner)
        for _ in range(2):
            assert owner.post(CODE_PAGE, {"code": "12345678"}).status_code == 200
        response = owner.post(CODE_PAGE, {"code": "12345678"})
        assert response["Location"] == "/mypage/login/"
        assert owner.post(CODE_PAGE, {"code": mailed_code()})["Location"] == "/mypage/login/"
        assert not logged_in(owner)
        for _ in range(2):  # 3 wrong codes + 2 wrong passwords: the 5th brings the wait
            fail(owner)
        assert WAIT in login(owner).content.decode()


def test_a_passkey_or_a_single_attacker_does_not_bring_the_step_up(member):
    """One source's failures lock that source only; the step-up needs several sources."""
    with time_machine.travel(START, tick=False) as clock:
        lock(at(ATTACKER), "member@example.jp", clock)
        fail(at("203.0.113.67"))
        assert login(at(OWNER))["Location"] == "/mypage/"  # 11 failures, 2 sources
        fail(at("203.0.113.68"))
        assert login(at(OWNER))["Location"] == CODE_PAGE  # 12 failures, 3 sources


def test_a_password_reset_ends_the_step_up(member):
    with time_machine.travel(START, tick=False):
        spread_failures()
        owner = at(OWNER)
        owner.post("/mypage/password/reset/", {"email": "member@example.jp"})
        body = OutboundMail.objects.get(kind="password_reset_key").body
        link = re.search(r"https?://[^/\s]+(/mypage/password/reset/key/\S+)", body).group(1)
        form_url = owner.get(link)["Location"]
        owner.post(form_url, {"password1": "n3wPass!x", "password2": "n3wPass!x"})
        assert login(owner, password="n3wPass!x")["Location"] == "/mypage/"


def test_guesses_sent_in_parallel_are_each_counted_with_redis(settings):
    """With Redis (production's cache) the counts are atomic increments: 20 guesses at once on
    one login from one source are 20 failures there and 20 for the account, so parallel
    requests slip past neither the lock nor the step-up."""
    import os
    import threading

    from django.core.cache import caches

    from keizoku.accounts import lockout

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15"),
            "KEY_PREFIX": f"test-lockout-{os.getpid()}",
        }
    }
    assert type(caches["default"]).__name__ == "RedisCache"
    lockout.throttle_clear("taro@example.jp")
    threads = [
        threading.Thread(target=lockout.throttle_failure, args=("taro@example.jp", source))
        for source in ["192.0.2.1"] * 20 + [f"192.0.2.{n}" for n in range(2, 12)]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state = lockout.throttle_state("Taro@Example.jp ", "192.0.2.1")
    assert state.failures == 20 and state.locked
    assert state.account_failures == 30 and state.account_sources == 11
    assert lockout.throttle_state("taro@example.jp", "192.0.2.99").locked is False
    assert lockout.step_up_required("taro@example.jp")
    lockout.throttle_clear("taro@example.jp")
    assert lockout.throttle_state("taro@example.jp", "192.0.2.1").failures == 0
    assert not lockout.step_up_required("taro@example.jp")
