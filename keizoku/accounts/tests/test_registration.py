"""Registration, guide steps 1–7, through the HTTP interface."""

import re
import threading
from datetime import date, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.test import Client
from django.utils import timezone

from keizoku.accounts.models import PendingRegistration, PolicyLink, User
from keizoku.accounts.services import (
    LINK_SALT,
    RegistrationData,
    registration_link_value,
    registration_purge_expired,
    registration_submit,
    token_hash,
)
from keizoku.core.models import AuditEvent
from keizoku.notifications.models import OutboundMail
from tests.factories import make_contract, make_group

pytestmark = pytest.mark.django_db

PASSWORD = "x9Lq2!zz"
MISMATCH = "ご入力の旧証券番号・住所・電話番号では、ご契約を確認できませんでした。"


@pytest.fixture
def contract():
    return make_contract(policy_number="P-0001")


def form_data(**overrides):
    data = {
        "email": "new@example.jp",
        "email_confirm": "new@example.jp",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "name": "継続 太郎",
        "kana": "ケイゾク タロウ",
        "birth_date": "1980-04-01",
        "postal_code": "100-0005",
        "address": "東京都千代田区丸の内一丁目2番3号",
        "phone": "03-1234-5678",
        "policy_1": "P-0001",
        "policy_count": "1",
    }
    data.update(overrides)
    return data


def agree(client: Client) -> None:
    assert client.post("/mypage/register/terms/", {"agree": "1"}).status_code == 302


def submit_form(client: Client, **overrides):
    agree(client)
    return client.post("/mypage/register/form/", form_data(**overrides))


def register_until_mail(client: Client, **overrides) -> str:
    """Steps 1–4; returns the link of the 本登録 mail."""
    response = submit_form(client, **overrides)
    assert response.status_code == 302, response.content.decode()
    assert client.post("/mypage/register/confirm/").status_code == 302
    mail = OutboundMail.objects.filter(kind="registration").latest("pk")
    return re.search(r"https?://\S+", mail.body).group()


def registration_data(**overrides) -> RegistrationData:
    """What step 2 collects, as registration_submit takes it (for tests that skip the forms)."""
    values = {
        "email": "new@example.jp",
        "password_hash": make_password(PASSWORD),
        "name": "継続 太郎",
        "kana": "ケイゾク タロウ",
        "birth_date": date(1980, 4, 1),
        "postal_code": "1000005",
        "address": "東京都千代田区丸の内一丁目2番3号",
        "phone": "0312345678",
        "contract_ids": [],
        "survey": {},
    }
    return RegistrationData(**{**values, **overrides})


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def complete(client: Client, link: str, password: str = PASSWORD):
    client.get(path_of(link))
    return client.post("/mypage/register/password/", {"password": password})


# --- steps 1–3 -------------------------------------------------------------------------------


def test_the_start_page_has_the_new_registration_button(client):
    html = client.get("/mypage/register/").content.decode()
    assert "マイページの会員登録" in html
    assert ">新規登録</a>" in html


def test_next_is_refused_until_the_terms_are_agreed(client):
    response = client.post("/mypage/register/terms/", {})
    assert response.status_code == 400
    assert "「同意する」にチェックを入れてください" in response.content.decode()
    assert client.get("/mypage/register/form/")["Location"] == "/mypage/register/terms/"


def test_the_terms_page_has_the_checkbox_and_next(client):
    html = client.get("/mypage/register/terms/").content.decode()
    assert '<label for="id_agree">同意する</label>' in html
    assert ">次へ</button>" in html


def test_the_form_has_every_label_of_the_guide(client, contract):
    agree(client)
    html = client.get("/mypage/register/form/").content.decode()
    for label in [
        "メールアドレス",
        "メールアドレス（確認用）",
        "パスワード",
        "パスワード（確認用）",
        "氏名",
        "フリガナ",
        "生年月日",
        "郵便番号",
        "住所",
        "電話番号",
        "旧証券番号1",
        "旧証券番号5",
    ]:
        assert re.search(rf'<label for="id_\w+">{re.escape(label)}</label>', html), label
    assert 'type="date"' in html
    assert "★重要★" in html and "ご契約時の住所と電話番号" in html
    assert ">追加</button>" in html
    assert "アンケート（任意）" in html


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("a9!bc", False),  # 5
        ("a9!bcd", True),  # 6
        ("a9!" + "Zq7" * 9 + "x", True),  # 31
        ("a9!" + "Zq7" * 9 + "xy", True),  # 32
        ("a9!" + "Zq7" * 10, False),  # 33
    ],
)
def test_the_password_length_rule_is_6_to_32(client, contract, password, accepted):
    response = submit_form(client, password=password, password_confirm=password)
    assert (response.status_code == 302) is accepted, response.content.decode()[:200]


def test_a_full_width_password_is_refused_with_a_message_that_says_so(client, contract):
    response = submit_form(client, password="ｘ９Ｌｑ２！ｚｚ", password_confirm="ｘ９Ｌｑ２！ｚｚ")
    assert response.status_code == 400
    assert "全角文字は使用できません" in response.content.decode()


def test_a_password_with_a_space_is_refused(client, contract):
    response = submit_form(client, password="x9Lq 2!z", password_confirm="x9Lq 2!z")
    assert "スペースや制御文字は使用できません" in response.content.decode()


def test_a_common_password_is_refused_with_the_reason(client, contract):
    response = submit_form(client, password="password1", password_confirm="password1")
    assert "よく使われているパスワード" in response.content.decode()


def test_a_password_built_from_the_email_is_refused(client, contract):
    response = submit_form(
        client,
        email="hanako@example.jp",
        email_confirm="hanako@example.jp",
        password="hanako77",
        password_confirm="hanako77",
    )
    assert "メールアドレスの一部を含む" in response.content.decode()


def test_the_password_is_case_sensitive_and_never_trimmed(client, contract):
    link = register_until_mail(client, password=" x9Lq2!zz"[1:], password_confirm="x9Lq2!zz")
    other = Client()
    assert complete(other, link, password="X9LQ2!ZZ").status_code == 400
    assert complete(other, link, password="x9Lq2!zz ").status_code == 400
    assert complete(other, link, password="x9Lq2!zz").status_code == 302


def test_a_refused_form_keeps_what_was_typed_but_not_the_passwords(client, contract):
    response = submit_form(client, email_confirm="other@example.jp")
    html = response.content.decode()
    assert response.status_code == 400
    assert "メールアドレスが一致しません" in html
    assert 'value="継続 太郎"' in html
    assert PASSWORD not in html


def test_address_and_phone_written_differently_still_match(client, contract):
    response = submit_form(
        client,
        postal_code="１００－０００５",
        address="東京都 千代田区丸の内１－２－３",
        phone="０３（１２３４）５６７８",
        policy_1="p 0001",
        kana="けいぞく たろう",
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "overrides",
    [
        {"policy_1": "P-9999"},
        {"address": "東京都千代田区丸の内一丁目2番4号"},
        {"phone": "03-1234-5679"},
    ],
)
def test_every_policy_mismatch_gives_the_same_single_message(client, contract, overrides):
    response = submit_form(client, **overrides)
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count(MISMATCH) == 1
    for telltale in ("住所が違", "電話番号が違", "証券番号が見つかりません"):
        assert telltale not in html


def test_a_policy_already_linked_to_another_member_gives_the_same_message(client, contract):
    other = User.objects.create_user(email="other@example.jp", password=PASSWORD)
    PolicyLink.objects.create(member=other, contract=contract)
    response = submit_form(client)
    assert MISMATCH in response.content.decode()


def test_add_shows_the_next_policy_field_without_javascript(client, contract):
    agree(client)
    response = client.post("/mypage/register/form/", {**form_data(), "add_policy": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="policy_count" value="2"' in html
    assert 'data-policy-index="2">' in html and 'data-policy-index="3" hidden' in html
    assert 'value="継続 太郎"' in html


def test_the_postal_code_fills_the_address_without_javascript(client, contract):
    agree(client)
    response = client.post(
        "/mypage/register/form/",
        {**form_data(address=""), "postal_code": "1000005", "lookup_address": "1"},
    )
    assert 'value="東京都千代田区丸の内"' in response.content.decode()


def test_the_postal_code_fills_the_address_through_htmx(client):
    response = client.get(
        "/mypage/register/address/",
        {"postal_code": "１００-０００５"},
        headers={"HX-Request": "true"},
    )
    assert 'value="東京都千代田区丸の内"' in response.content.decode()
    unknown = client.get("/mypage/register/address/", {"postal_code": "0000000"})
    assert "住所が見つかりませんでした" in unknown.content.decode()


def test_the_confirmation_shows_everything_but_the_password(client, contract):
    submit_form(client)
    html = client.get("/mypage/register/confirm/").content.decode()
    assert "登録内容確認" in html and ">確定</button>" in html and ">戻る</a>" in html
    for value in (
        "new@example.jp",
        "継続 太郎",
        "ケイゾク タロウ",
        "1980年4月1日",
        "〒100-0005",
        "03-1234-5678",
        "P-0001",
    ):
        assert value in html
    assert PASSWORD not in html


# --- steps 4–7 -------------------------------------------------------------------------------


def test_confirming_sends_the_mail_and_shows_the_provisional_page(client, contract):
    link = register_until_mail(client)
    page = client.get("/mypage/register/accepted/").content.decode()
    assert "仮登録受付" in page and "★ご注意★" in page and "24時間以内" in page
    mail = OutboundMail.objects.get(kind="registration")
    assert mail.to == "new@example.jp"
    assert mail.subject == "【マイページ】本登録のご案内"
    assert link.startswith("http://localhost:8000/mypage/register/complete/")
    assert not User.objects.filter(email="new@example.jp").exists()


def test_the_link_is_built_from_base_url_not_from_the_request(client, contract, settings):
    settings.BASE_URL = "https://keizoku.example.jp"
    link = register_until_mail(client)  # the request's host is "testserver"
    assert link.startswith("https://keizoku.example.jp/mypage/register/complete/")


def test_the_token_is_long_random_and_stored_only_as_a_hash(client, contract):
    link = register_until_mail(client)
    token, stamp, signature = link.rstrip("/").rsplit("/", 1)[-1].split(".")
    assert len(token) >= 43  # 256 bits, base64url
    pending = PendingRegistration.objects.get()
    assert pending.token_hash == token_hash(token) and len(pending.token_hash) == 64
    assert token not in pending.token_hash
    # Beside the token: the second the link was made and an HMAC of both with SECRET_KEY.
    assert signing.b62_decode(stamp) == int(pending.created_at.timestamp())
    assert len(signature) == 43  # SHA-256, base64url


def test_the_link_works_in_another_browser_and_completes_the_registration(client, contract):
    link = register_until_mail(client)
    other = Client()
    landing = other.get(path_of(link))
    assert landing.status_code == 302 and landing["Location"] == "/mypage/register/password/"
    page = other.get("/mypage/register/password/").content.decode()
    assert "パスワード設定" in page and ">登録</button>" in page
    response = other.post("/mypage/register/password/", {"password": PASSWORD})
    assert response["Location"] == "/mypage/register/done/"
    done = other.get("/mypage/register/done/").content.decode()
    assert "マイページ会員登録が完了しました" in done
    user = User.objects.get(email="new@example.jp")
    assert user.check_password(PASSWORD) and user.name == "継続 太郎"
    assert EmailAddress.objects.get(user=user).verified
    assert list(user.policy_links.values_list("contract", flat=True)) == [contract.pk]
    assert OutboundMail.objects.filter(kind="registration_complete", to="new@example.jp").exists()
    assert AuditEvent.objects.filter(action="registration.completed").exists()


def test_a_get_of_the_link_never_consumes_it(client, contract):
    link = register_until_mail(client)
    for _ in range(3):
        Client().get(path_of(link))  # a mail scanner's prefetch
    assert complete(Client(), link).status_code == 302


def test_a_wrong_password_keeps_the_link_usable(client, contract):
    link = register_until_mail(client)
    other = Client()
    response = complete(other, link, password="wrong-pass1")
    assert response.status_code == 400
    assert "パスワードが正しくありません" in response.content.decode()
    assert other.post("/mypage/register/password/", {"password": PASSWORD}).status_code == 302


def test_a_used_link_has_its_own_page(client, contract):
    link = register_until_mail(client)
    complete(Client(), link)
    response = Client().get(path_of(link))
    assert response.status_code == 410
    assert "このURLはすでに使用されています" in response.content.decode()


def test_the_link_is_valid_until_24_hours_minus_one_second(client, contract):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link = register_until_mail(client)
    with time_machine.travel(start + timedelta(hours=24) - timedelta(seconds=1), tick=False):
        assert complete(Client(), link).status_code == 302


def test_the_link_is_expired_at_24_hours_plus_one_second(client, contract):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link = register_until_mail(client)
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        response = Client().get(path_of(link))
        assert response.status_code == 410
        assert "有効期限が切れています" in response.content.decode()
        other = Client()
        other.session  # noqa: B018 - a session exists
        assert not User.objects.exists()


def test_the_link_expiring_between_landing_and_posting_is_refused(client, contract):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link = register_until_mail(client)
    other = Client()
    with time_machine.travel(start + timedelta(hours=24) - timedelta(seconds=10), tick=False):
        assert other.get(path_of(link)).status_code == 302
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        response = other.post("/mypage/register/password/", {"password": PASSWORD})
    assert response.status_code == 410
    assert not User.objects.exists()


def test_a_link_stamped_in_the_future_is_refused(client, contract):
    link = register_until_mail(client)
    PendingRegistration.objects.update(created_at=timezone.now() + timedelta(hours=1))
    assert Client().get(path_of(link)).status_code == 404


# --- an expired link says so, even after the pending registration was purged ------------------


def test_after_the_purge_the_link_is_still_valid_at_24_hours_minus_one_second(client, contract):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link = register_until_mail(client)
    with time_machine.travel(start + timedelta(hours=24) - timedelta(seconds=1), tick=False):
        assert registration_purge_expired() == 0
        assert complete(Client(), link).status_code == 302
    assert User.objects.filter(email="new@example.jp").exists()


def test_after_the_purge_the_link_says_it_expired_at_24_hours_plus_one_second(client, contract):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link = register_until_mail(client)
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        assert registration_purge_expired() == 1
        assert not PendingRegistration.objects.exists()
        response = Client().get(path_of(link))
        page = response.content.decode()
        assert response.status_code == 410
        assert "URLの有効期限が切れています" in page and "期限切れ" in page
        # What to do: register again (or log in when it was completed), and when it expired.
        assert 'href="/mypage/register/"' in page and "会員登録をやり直す" in page
        assert 'href="/mypage/login/"' in page
        expired = timezone.localtime(start + timedelta(hours=24))
        assert f"{expired:%Y}年{expired.month}月{expired.day}日 {expired:%H:%M}" in page
        other = Client()
        assert other.get(path_of(link)).status_code == 410
        assert other.post("/mypage/register/password/", {"password": PASSWORD}).status_code == 404
    assert not User.objects.exists()


def test_a_link_that_expired_between_landing_and_posting_after_the_purge_says_so(client, contract):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link = register_until_mail(client)
    other = Client()
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        assert other.get(path_of(link)).status_code == 302
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        registration_purge_expired()
        response = other.post("/mypage/register/password/", {"password": PASSWORD})
    assert response.status_code == 410 and "期限切れ" in response.content.decode()
    assert not User.objects.exists()


def _retimed(link: str, moment) -> str:
    """The link with its time part replaced (its signature left as it was)."""
    token, _stamp, signature = path_of(link).rstrip("/").rsplit("/", 1)[-1].split(".")
    new = signing.b62_encode(int(moment.timestamp()))
    return f"/mypage/register/complete/{token}.{new}.{signature}/"


def test_a_changed_time_never_makes_an_expired_link_valid_or_an_invalid_one_expired(
    client, contract
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        link = register_until_mail(client)
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        registration_purge_expired()
        # An expired link made to look recent: invalid, not valid.
        assert Client().get(_retimed(link, timezone.now())).status_code == 404
        # The genuine link says expired; the bare token (its time dropped) is just unknown now.
        assert Client().get(path_of(link)).status_code == 410
        token = path_of(link).rstrip("/").rsplit("/", 1)[-1].split(".")[0]
        assert Client().get(f"/mypage/register/complete/{token}/").status_code == 404
    # A link still valid, its time changed: invalid (the signature no longer matches).
    with time_machine.travel(start, tick=False):
        fresh = register_until_mail(
            Client(), email="fresh@example.jp", email_confirm="fresh@example.jp"
        )
        assert Client().get(_retimed(fresh, start - timedelta(hours=30))).status_code == 404
        assert Client().get(path_of(fresh)).status_code == 302


def test_a_forged_old_link_is_invalid_not_expired(client, settings):
    """Unknown tokens with a time long past: unsigned, signed with another key, or signed right
    but for a token never issued — none says "expired"."""
    old = timezone.now() - timedelta(days=3)
    stamp = signing.b62_encode(int(old.timestamp()))
    fake = "A" * 43
    other_key = signing.Signer(key="not-our-key", salt=LINK_SALT, sep=".")
    for value in (
        f"{fake}.{stamp}",
        f"{fake}.{stamp}.{'B' * 43}",
        other_key.sign(f"{fake}.{stamp}"),
        f"{fake}.{stamp}.",
        "..",
    ):
        response = client.get(f"/mypage/register/complete/{value}/")
        assert response.status_code == 404, value
        assert "このURLは無効です" in response.content.decode()
    # A token we signed ourselves but never stored, still within 24 hours: unknown, so invalid.
    recent = registration_link_value("C" * 43, timezone.now() - timedelta(hours=1))
    assert client.get(f"/mypage/register/complete/{recent}/").status_code == 404


def test_a_link_signed_with_a_time_in_the_future_is_refused_even_without_its_record(client):
    future = timezone.now() + timedelta(hours=1)
    registration_submit(data=registration_data(), now=future)
    link = re.search(r"https?://\S+", OutboundMail.objects.get(kind="registration").body).group()
    assert client.get(path_of(link)).status_code == 404
    PendingRegistration.objects.all().delete()
    assert client.get(path_of(link)).status_code == 404


def test_a_link_mailed_before_links_were_signed_still_works(client, contract):
    """Links sent in the 24 hours before this change carry the bare token."""
    now = timezone.now()
    PendingRegistration.objects.create(
        email="legacy@example.jp",
        password_hash=make_password(PASSWORD),
        name="継続 太郎",
        kana="ケイゾク タロウ",
        birth_date=date(1980, 4, 1),
        postal_code="1000005",
        address="東京都千代田区丸の内一丁目2番3号",
        phone="0312345678",
        contract_ids=[contract.pk],
        token_hash=token_hash("L" * 43),
        created_at=now,
        expires_at=now + timedelta(hours=24),
    )
    assert complete(Client(), f"/mypage/register/complete/{'L' * 43}/").status_code == 302
    assert User.objects.filter(email="legacy@example.jp").exists()


def test_a_link_survives_a_secret_key_rotation_with_the_old_key_as_fallback(
    client, contract, settings
):
    link = register_until_mail(client)
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-brand-new-key-" * 4, [old]
    assert complete(Client(), link).status_code == 302


def test_an_unknown_token_gets_the_invalid_page(client):
    response = client.get("/mypage/register/complete/not-a-real-token/")
    assert response.status_code == 404
    assert "このURLは無効です" in response.content.decode()


def test_the_password_page_without_a_landing_is_invalid(client):
    assert client.post("/mypage/register/password/", {"password": PASSWORD}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_completions_create_one_member(contract):
    link = register_until_mail(Client())
    clients = [Client(), Client()]
    for browser in clients:
        browser.get(path_of(link))
    results = []
    barrier = threading.Barrier(2)

    def post(browser):
        barrier.wait()
        results.append(
            browser.post("/mypage/register/password/", {"password": PASSWORD}).status_code
        )

    threads = [threading.Thread(target=post, args=(browser,)) for browser in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [302, 410]
    assert User.objects.filter(email="new@example.jp").count() == 1
    assert PolicyLink.objects.count() == 1


# --- no enumeration --------------------------------------------------------------------------


def test_an_existing_address_gets_the_same_screens_and_a_mail_instead(contract):
    User.objects.create_user(email="known@example.jp", password=PASSWORD)
    contract_2 = make_contract(group=contract.group, policy_number="P-0002")
    pages = {}
    for email, policy in (("known@example.jp", "P-0001"), ("fresh@example.jp", "P-0002")):
        browser = Client()
        first = submit_form(browser, email=email, email_confirm=email, policy_1=policy)
        second = browser.post("/mypage/register/confirm/")
        third = browser.get("/mypage/register/accepted/")
        pages[email] = (
            first.status_code,
            second.status_code,
            second["Location"],
            third.status_code,
            third.content.decode().replace(email, "EMAIL"),
        )
    assert pages["known@example.jp"][:4] == pages["fresh@example.jp"][:4]
    strip = re.compile(r'value="[^"]+"|nonce="[^"]+"|"X-CSRFToken": "[^"]+"')
    assert strip.sub("", pages["known@example.jp"][4]) == strip.sub(
        "", pages["fresh@example.jp"][4]
    )
    assert OutboundMail.objects.get(to="known@example.jp").kind == "registration_exists"
    assert OutboundMail.objects.get(to="fresh@example.jp").kind == "registration"
    assert PendingRegistration.objects.filter(email="known@example.jp").count() == 0
    assert contract_2.pk


# --- nothing left behind ---------------------------------------------------------------------


def test_a_registration_never_confirmed_creates_nothing_and_is_purged(client, contract):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        register_until_mail(client)
    assert PendingRegistration.objects.count() == 1
    assert registration_purge_expired(now=start + timedelta(hours=23)) == 0
    assert registration_purge_expired(now=start + timedelta(hours=24, seconds=1)) == 1
    assert not PendingRegistration.objects.exists() and not User.objects.exists()
    assert not PolicyLink.objects.exists()


def test_a_form_abandoned_before_confirming_creates_nothing(client, contract):
    submit_form(client)
    assert not PendingRegistration.objects.exists()
    assert not OutboundMail.objects.exists()


def test_up_to_five_policies_are_registered_at_once(client):
    group = make_group()
    numbers = [f"P-000{n}" for n in range(1, 6)]
    for number in numbers:
        make_contract(group=group, policy_number=number)
    fields = {f"policy_{n}": number for n, number in enumerate(numbers, start=1)}
    link = register_until_mail(client, policy_count="5", **fields)
    complete(Client(), link)
    assert PolicyLink.objects.count() == 5
