"""Per-account throttling: growing delays after 5 failures, a lock after 10 cleared by a reset."""

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
    pages = []
    for n in range(10):
        pages.append(fail(client, email))
        clock.shift(timedelta(seconds=30 * 2 ** max(n - 4, 0) + 1))
    return pages


def test_ten_failures_lock_the_login_until_a_password_reset(member):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        pages = lock(client, "member@example.jp", clock)
        assert LOCKED in pages[-1]
        clock.shift(timedelta(hours=3))
        refused = login(client)
        assert LOCKED in refused.content.decode() and not logged_in(client)
        assert AuditEvent.objects.filter(action="auth.account_locked", actor=member).count() == 1

        # 「パスワードをお忘れの方」: the mail's link, a new password, and the lock is gone.
        client.post("/mypage/password/reset/", {"email": "member@example.jp"})
        body = OutboundMail.objects.get(kind="password_reset_key").body
        link = re.search(r"https?://[^/\s]+(/mypage/password/reset/key/\S+)", body).group(1)
        form_url = client.get(link)["Location"]
        done = client.post(form_url, {"password1": "n3wPass!x", "password2": "n3wPass!x"})
        assert done.status_code == 302
        assert AuditEvent.objects.filter(action="auth.password_reset", actor=member).exists()
        assert login(client, password="n3wPass!x").status_code == 302


def test_the_lock_also_ends_after_a_day_without_failures(member):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        lock(client, "member@example.jp", clock)
        clock.shift(timedelta(hours=23))
        assert LOCKED in login(client).content.decode()
        clock.shift(timedelta(hours=1, seconds=1))
        assert login(client).status_code == 302


def test_an_unknown_address_is_throttled_and_locked_exactly_like_a_known_one(member):
    with time_machine.travel(START, tick=False) as clock:
        known = lock(Client(), "member@example.jp", clock)
        unknown = lock(Client(), "nobody@example.jp", clock)
        known.append(fail(Client(), "member@example.jp"))
        unknown.append(fail(Client(), "nobody@example.jp"))
    for known_page, unknown_page in zip(known, unknown, strict=True):
        assert page_of_text(known_page, "member") == page_of_text(unknown_page, "nobody")
    assert WAIT in unknown[4] and LOCKED in unknown[-1]


def page_of_text(html: str, name: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'nonce="[^"]+"', "", html)
    html = re.sub(r"hx-headers='[^']+'", "", html)
    return html.replace(f"{name}@example.jp", "X")


def test_a_successful_login_clears_the_failures(member):
    client = Client()
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            fail(client)
        assert login(client).status_code == 302
        client.post("/mypage/logout/")
        for _ in range(4):  # would be the 5th to 8th failures without the clearing
            assert MISMATCH in fail(client)


def test_guesses_sent_in_parallel_are_each_counted_with_redis(settings):
    """With Redis (production's cache) the count is an atomic increment: 20 guesses at once on
    one login are 20 failures, so parallel requests cannot slip past the lock."""
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
        threading.Thread(target=lockout.throttle_failure, args=("taro@example.jp",))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state = lockout.throttle_state("Taro@Example.jp ")
    assert state.failures == 20
    assert state.locked
    lockout.throttle_clear("taro@example.jp")
    assert lockout.throttle_state("taro@example.jp").failures == 0
