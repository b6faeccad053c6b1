"""Hostile and unusual input on the MyPage forms (SECURITY.md, "Must hold everywhere"): each gets
a defined result — accepted as typed, or refused with a Japanese message — never a 500, and
nothing is saved half-way."""

import pytest
from django.test import Client

from keizoku.accounts.models import PendingRegistration, User
from keizoku.notifications.models import OutboundMail
from tests.factories import make_contract

from .conftest import PASSWORD, login
from .test_registration import form_data, submit_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hasher")]


@pytest.fixture
def contract():
    return make_contract(policy_number="P-0001")


def confirm(client: Client):
    return client.post("/mypage/register/confirm/")


@pytest.mark.parametrize(
    ("name", "kana", "stored"),
    [
        ("𠮷田 髙志", "ヨシダ タカシ", "𠮷田 髙志"),  # non-BMP kanji and 髙, kept as typed
        ("継続\u3000太郎", "ケイゾク\u3000タロウ", "継続 太郎"),  # U+3000 space
        ("ケ\u3099イソ\u3099ク 太郎", "ケイゾク タロウ", "ゲイゾク 太郎"),  # NFD → NFC
    ],
)
def test_unusual_but_valid_names_are_stored_normalised(client, contract, name, kana, stored):
    response = submit_form(client, name=name, kana=kana)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert confirm(client).status_code == 302
    assert PendingRegistration.objects.get().name == stored


@pytest.mark.parametrize(
    "field",
    ["name", "kana", "address", "phone", "email", "policy_1", "postal_code"],
)
@pytest.mark.parametrize(
    "bad",
    # NUL, BEL, and Trojan Source's bidi override, isolates and the Arabic letter mark (W7)
    ["継続\x00太郎", "継続\x07太郎", "継続\u202e太郎", "継続\u2067太郎\u2069", "継続\u061c太郎"],
)
def test_nul_and_control_characters_are_refused_in_japanese_and_nothing_is_saved(
    client, contract, field, bad
):
    overrides = {field: bad}
    if field == "email":
        overrides["email_confirm"] = bad
    response = submit_form(client, **overrides)
    assert response.status_code == 400
    html = response.content.decode()
    assert "入力内容をご確認ください" in html or "できませんでした" in html
    assert 'value="x9Lq2!zz"' not in html  # the password is never redisplayed
    assert not PendingRegistration.objects.exists()
    assert not OutboundMail.objects.filter(kind="registration").exists()


@pytest.mark.parametrize("count", ["²", "٣", "9" * 5000, "-1", "0", " 2", "1e3", ""])
@pytest.mark.parametrize("button", [None, "add_policy", "lookup_address"])
def test_a_strange_policy_count_is_never_a_500(client, contract, count, button):
    # W8: "²".isdigit() is true but int("²") raises; int() refuses 5,000 digits.
    extra = {button: "1"} if button else {}
    response = submit_form(client, policy_count=count, **extra)
    assert response.status_code in (200, 302)
    if button is None:
        assert response.status_code == 302  # the count is only a display hint
    else:
        assert 'name="policy_1"' in response.content.decode()


def test_an_emoji_in_a_name_is_kept_as_typed(client, contract):
    assert submit_form(client, name="継続 太郎😀").status_code == 302
    assert confirm(client).status_code == 302
    assert PendingRegistration.objects.get().name == "継続 太郎😀"


def test_a_very_long_value_is_refused_in_japanese(client, contract):
    response = submit_form(client, name="継" * 5000, address="東" * 5000)
    assert response.status_code == 400
    assert "文字以内" in response.content.decode()
    assert not PendingRegistration.objects.exists()


def test_login_with_nul_control_and_full_width_characters_is_a_plain_refusal(client, member):
    for login_id, password in [
        ("member@example.jp\x00", PASSWORD),
        ("member@example.jp", PASSWORD + "\x00"),
        ("ｍｅｍｂｅｒ＠ｅｘａｍｐｌｅ．ｊｐ", PASSWORD),
        ("member@example.jp", "ｘ９Ｌｑ２！ｚｚ"),
        ("𠮷@example.jp", "😀😀😀😀😀😀"),
    ]:
        response = login(Client(), email=login_id, password=password)
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session


def test_a_body_over_the_limit_gets_the_japanese_400_page(client):
    response = client.post(
        "/mypage/login/",
        {"login": "member@example.jp", "password": "x" * (10 * 1024 * 1024)},
    )
    assert response.status_code == 400
    assert 'lang="ja"' in response.content.decode()


def test_more_than_a_thousand_fields_get_the_japanese_400_page(client):
    agree_response = client.post("/mypage/register/terms/", {"agree": "1"})
    assert agree_response.status_code == 302
    data = {**form_data(), **{f"extra_{index}": "x" for index in range(1001)}}
    response = client.post("/mypage/register/form/", data)
    assert response.status_code == 400
    assert 'lang="ja"' in response.content.decode()
    assert not User.objects.exists() and not PendingRegistration.objects.exists()


def test_a_forged_policy_count_cannot_open_more_than_five_fields(client, contract):
    response = submit_form(client, policy_count="99999999999999999999", add_policy="1")
    assert response.status_code == 200
    html = response.content.decode()
    assert "旧証券番号5" in html and "旧証券番号6" not in html


def test_a_foreign_host_header_is_refused(client):
    assert client.get("/mypage/login/", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/mypage/login/").status_code == 200


@pytest.mark.parametrize(
    "credential",
    [
        '{"id": "x", "type": "public-key"}',
        '{"id": "x", "rawId": "x"}',
        "[]",
        '"x"',
        "{}",
        "9" * 5000,  # json.loads raises ValueError (int()'s limit), not JSONDecodeError
    ],
)
def test_a_malformed_passkey_payload_is_a_refused_passkey_not_a_500(client, credential):
    # Found by tests/test_form_fuzz.py: fido2 raises KeyError for a payload without rawId, and
    # allauth let it through as an anonymous 500.
    client.get("/mypage/login/")
    response = client.post("/mypage/2fa/webauthn/login/", {"credential": credential})
    assert response.status_code in (200, 302, 400)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("credential", ["0", "false", "9" * 5000, '{"id": "x"}'])
def test_a_malformed_passkey_is_never_saved(client, member, credential):
    # Found by tests/test_form_fuzz.py: allauth checked only a truthy credential, so "0" was
    # saved as a passkey and every two-step page of the member answered 500 from then on.
    from allauth.mfa.models import Authenticator

    login(client)
    client.post("/mypage/reauthenticate/?next=/mypage/", {"password": PASSWORD})
    response = client.post(
        "/mypage/2fa/webauthn/add/", {"name": "鍵", "credential": credential, "passwordless": ""}
    )
    assert response.status_code == 200
    assert not Authenticator.objects.filter(type="webauthn").exists()
    assert client.get("/mypage/2fa/webauthn/add/").status_code == 200


@pytest.mark.parametrize("digits", ["9" * 19, "9" * 25, "9" * 5000])
def test_an_id_too_large_for_the_database_is_a_404(client, member, digits):
    # Found by tests/test_form_fuzz.py: <int:…> took 25 digits to SQLite (OverflowError, a 500);
    # every id in our URLs is <id:…>, at most 18 digits.
    login(client)
    for path in (f"/clickar/{digits}/", f"/clickar/{digits}/consent/"):
        assert client.get(path).status_code == 404
    assert client.post(f"/mypage/policies/{digits}/unlink/").status_code == 404
