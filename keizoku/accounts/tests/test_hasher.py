"""Passwords are stored with Argon2id at OWASP's parameters; older hashes move over at login."""

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, identify_hasher
from django.test import Client

from keizoku.accounts.passwords import Argon2Hasher
from keizoku.core.testing import make_member

pytestmark = pytest.mark.django_db
PASSWORD = "x9Lq2!zz"


@pytest.fixture(autouse=True)
def real_hashers(settings):
    settings.PASSWORD_HASHERS = [
        "keizoku.accounts.passwords.Argon2Hasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def test_a_new_password_is_argon2id_with_owasp_parameters():
    user = make_member("taro@example.jp", PASSWORD)
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(user.password), Argon2Hasher)
    assert check_password(PASSWORD, user.password)


def test_a_hash_with_djangos_default_parameters_is_upgraded_at_login():
    user = make_member("taro@example.jp", PASSWORD)
    user.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    assert "m=102400,t=2,p=8" in user.password

    response = Client().post("/mypage/login/", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password
    assert check_password(PASSWORD, user.password)
