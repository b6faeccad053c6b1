"""One mailbox, one account (W5): every address that enters — registration, email change, login,
password reset, staff accounts — is stored and compared in one spelling (``ja.normalize_email``:
the domain NFKC- and IDNA-normalised and lower-cased, a non-ASCII local part refused)."""

import io

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from keizoku.accounts.models import PendingRegistration, User
from keizoku.core import ja
from keizoku.notifications.models import OutboundMail
from tests.factories import make_contract

from .conftest import login
from .test_account import reauthenticate
from .test_registration import submit_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hasher")]

# The same mailbox as member@example.jp / member@xn--r8jz45g.jp, written another way.
SAME_MAILBOX = [
    ("member@example.jp", "member@ｅｘａｍｐｌｅ.jp"),  # full-width domain
    ("member@example.jp", "member@ＥＸＡＭＰＬＥ．ＪＰ"),  # full-width capitals and dots
    ("member@example.jp", "member@EXAMPLE.JP"),  # upper-case domain
    ("member@example.jp", "member＠example.jp"),  # a full-width ＠ from the IME
    ("member@xn--r8jz45g.jp", "member@例え.jp"),  # unicode for a punycode domain
    ("member@xn--r8jz45g.jp", "member@例え．ｊｐ"),
]
NON_ASCII_LOCAL = ["ｍｅｍｂｅｒ@example.jp", "会員@example.jp", "mémber@example.jp"]


@pytest.fixture
def contract():
    return make_contract(policy_number="P-0001")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("member@ｄｅｍｏ.example.jp", "member@demo.example.jp"),
        ("Member@DEMO.Example.JP", "Member@demo.example.jp"),  # the local part stays as typed
        ("a@例え.jp", "a@xn--r8jz45g.jp"),
        ("a@xn--r8jz45g.jp", "a@xn--r8jz45g.jp"),
        ("a@ｘｎ－－ｒ８ｊｚ４５ｇ.ｊｐ", "a@xn--r8jz45g.jp"),
        (" a@example.jp ", "a@example.jp"),
    ],
)
def test_normalize_email_gives_one_spelling_per_mailbox(typed, stored):
    assert ja.normalize_email(typed) == stored
    assert ja.normalize_email(stored) == stored  # stable


@pytest.mark.parametrize("typed", NON_ASCII_LOCAL)
def test_normalize_email_refuses_a_non_ascii_local_part_in_japanese(typed):
    with pytest.raises(ja.JaInputError, match="「@」より前は、半角の英数字と記号"):
        ja.normalize_email(typed)


# --- registration -------------------------------------------------------------------------------


@pytest.mark.parametrize(("existing", "typed"), SAME_MAILBOX)
def test_registering_an_existing_mailbox_written_differently_is_the_existing_address(
    client, contract, make_member, existing, typed
):
    make_member(email=existing)
    response = submit_form(client, email=typed, email_confirm=typed)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert client.post("/mypage/register/confirm/").status_code == 302
    # The existing member is told (no enumeration on screen); no second account is started.
    assert not PendingRegistration.objects.exists()
    assert OutboundMail.objects.get(kind="registration_exists").to == existing
    assert User.objects.count() == 1


def test_a_new_address_is_stored_in_its_one_spelling(client, contract):
    typed = "New.Member@ＥＸＡＭＰＬＥ．ｊｐ"
    response = submit_form(client, email=typed, email_confirm="New.Member@example.JP")
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert client.post("/mypage/register/confirm/").status_code == 302
    assert PendingRegistration.objects.get().email == "New.Member@example.jp"
    assert OutboundMail.objects.get(kind="registration").to == "New.Member@example.jp"


@pytest.mark.parametrize("typed", NON_ASCII_LOCAL)
def test_registration_refuses_a_non_ascii_local_part_in_japanese(client, contract, typed):
    response = submit_form(client, email=typed, email_confirm=typed)
    assert response.status_code == 400
    assert "メールアドレスの「@」より前は、半角の英数字と記号で入力してください。" in (
        response.content.decode()
    )
    assert not PendingRegistration.objects.exists()
    assert not OutboundMail.objects.exists()


# --- email change (allauth, through AccountAdapter.clean_email) ---------------------------------


def _change_email(client: Client, email: str):
    assert login(client, email="other@example.jp").status_code == 302
    reauthenticate(client, "/mypage/email/")
    return client.post("/mypage/email/", {"email": email, "action_add": ""})


@pytest.mark.parametrize(("existing", "typed"), SAME_MAILBOX)
def test_an_email_change_to_another_members_mailbox_written_differently_is_refused_silently(
    client, make_member, existing, typed
):
    make_member(email=existing)
    other = make_member(email="other@example.jp")
    _change_email(client, typed)
    # No address of another spelling is ever stored, so no confirmation can create one.
    stored = set(EmailAddress.objects.values_list("email", flat=True))
    assert stored <= {existing, "other@example.jp"}
    assert not OutboundMail.objects.exclude(to__in=[existing, "other@example.jp"]).exists()
    other.refresh_from_db()
    assert other.email == "other@example.jp"


def test_an_email_change_stores_and_mails_the_one_spelling(client, make_member):
    make_member(email="other@example.jp")
    response = _change_email(client, "New@ＥＸＡＭＰＬＥ.jp")
    assert response.status_code == 302
    assert EmailAddress.objects.filter(email="new@example.jp", verified=False).exists()
    assert OutboundMail.objects.filter(to="new@example.jp").exists()


@pytest.mark.parametrize("typed", NON_ASCII_LOCAL)
def test_an_email_change_refuses_a_non_ascii_local_part_in_japanese(client, make_member, typed):
    make_member(email="other@example.jp")
    response = _change_email(client, typed)
    assert response.status_code == 200
    assert "半角の英数字と記号で入力してください" in response.content.decode()
    assert EmailAddress.objects.count() == 1
    assert not OutboundMail.objects.exists()


# --- login and password reset -------------------------------------------------------------------


@pytest.mark.parametrize(("existing", "typed"), SAME_MAILBOX)
def test_the_same_mailbox_written_differently_logs_in_to_the_one_account(
    client, make_member, existing, typed
):
    make_member(email=existing)
    assert login(client, email=typed).status_code == 302
    assert client.get("/mypage/").status_code == 200


def test_a_password_reset_for_a_full_width_domain_mails_the_account(client, make_member):
    make_member(email="member@example.jp")
    client.post("/mypage/password/reset/", {"email": "member@ｅｘａｍｐｌｅ.jp"})
    assert OutboundMail.objects.get().to == "member@example.jp"


# --- staff ---------------------------------------------------------------------------------------


def test_a_staff_address_is_stored_in_its_one_spelling_and_cannot_be_doubled():
    call_command(
        "create_staff", "Clerk@ＩＮＳＵＲＥＲ.jp", role="insurer_admin", stdout=io.StringIO()
    )
    assert User.objects.get().email == "Clerk@insurer.jp"
    with pytest.raises(CommandError, match="already has an account"):
        call_command("create_staff", "clerk@insurer.JP", role="insurer_admin", stdout=io.StringIO())
    with pytest.raises(CommandError, match="半角の英数字と記号"):
        call_command("create_staff", "事務@insurer.jp", role="insurer_admin", stdout=io.StringIO())
    assert User.objects.count() == 1
