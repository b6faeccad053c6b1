"""Helpers for the authentication tests: members with a verified address, a counting hasher."""

import threading

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import MD5PasswordHasher

from keizoku.accounts.models import User

PASSWORD = "x9Lq2!zz"


class CountingHasher(MD5PasswordHasher):
    """A fast hasher that counts every hash computed (the cost an attacker can time)."""

    algorithm = "counting_md5"
    calls = 0
    lock = threading.Lock()

    def encode(self, password, salt):
        with CountingHasher.lock:
            CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["keizoku.accounts.tests.conftest.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


@pytest.fixture
def make_member(fast_hasher):
    def make(
        email: str = "member@example.jp", password: str = PASSWORD, *, kind: str = "member", **kw
    ) -> User:
        kw.setdefault("name", "継続 太郎")
        user = User.objects.create_user(email=email, password=password, kind=kind, **kw)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    return make


@pytest.fixture
def member(make_member):
    from django.utils import timezone

    # A member who has logged in before (registration logs in once).
    return make_member(last_login=timezone.now())


def login(client, email: str = "member@example.jp", password: str = PASSWORD, **extra):
    return client.post("/mypage/login/", {"login": email, "password": password}, **extra)
