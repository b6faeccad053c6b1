"""Every customer page, mail and the PDF, in English and in Japanese, read for words left in the
other language: the guardrail that makes a new customer string go through the catalogue.

One walk per language over the whole customer side (agency site, registration with its mails,
MyPage, the account and two-step pages, the Clickar wizard with its errors, the PDF, the agency's
decisions and the reminders, the help site, the error pages). English mode: no Japanese outside
``lang="ja"`` (names, addresses, the agency's data, the binding legal texts, 「日本語」). Japanese
mode: no English outside ``lang="en"`` and the product's own terms. Then every customer template
must have been rendered by the walk, so a new template cannot escape it.
"""

import re
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.test import Client, override_settings
from django.test.signals import template_rendered
from django.urls import path, resolve, reverse
from django.utils import timezone, translation

from config import urls as project_urls
from keizoku.accounts.models import PendingRegistration, PolicyLink
from keizoku.accounts.services import token_hash
from keizoku.backoffice.services import reminders_send
from keizoku.core import admission, fragments
from keizoku.help.content import help_pages
from keizoku.notifications.models import OutboundMail
from keizoku.renewals import services as renewal_services
from keizoku.renewals.choices import DECLARATIONS
from keizoku.renewals.models import Application
from tests.factories import make_agency, make_contract, make_group, make_member

from .i18n_scan import html_problems, text_problems

pytestmark = pytest.mark.django_db

JST = ZoneInfo("Asia/Tokyo")
PASSWORD = "x9Lq2!zz"
PASSKEY_NAME = {"en": "my phone", "ja": "自分のスマートフォン"}  # data the member typed
NEW_PASSWORD = "Qw7!rt5Ezz"
ACCEPT = {"en": "en-US,en;q=0.9", "ja": "ja-JP,ja;q=0.9"}
PERSONAL = {  # asks the chat for its four personal answers at once
    "en": "When is the deadline, what is my application status, why did my premium go up, "
    "and what will my next grade be?",
    "ja": "更改の手続きはいつまで？申し込んだ手続きの状況は？保険料が上がったのはなぜ？来年の等級は？",
}
CUSTOMER_APPS = ("core", "contracts", "accounts", "renewals", "notifications", "help", "chat")
# Templates the walk does not reach, each with the reason (keep this list short).
NOT_WALKED = {
    # The load balancer's own 503, rendered once at deploy (loadbalancer_errorfiles) in both
    # languages on one page: keizoku/core/tests/test_operations.py checks it.
    "core/loadbalancer_503.html",
    # The developer's mailbox (EMAIL_URL=mailbox:, DEBUG only): not a customer page.
    "notifications/mailbox.html",
    "notifications/mailbox_message.html",
    # allauth elements our templates do not use (allauth's own pages we override use none).
    "allauth/elements/badge.html",
    "allauth/elements/details.html",
    "allauth/elements/h1.html",
    "allauth/elements/h2.html",
    "allauth/elements/hr.html",
    "allauth/elements/img.html",
    "allauth/elements/p.html",
    "allauth/elements/panel.html",
    "allauth/elements/provider_list.html",
    "allauth/elements/table.html",
    "allauth/elements/tbody.html",
    "allauth/elements/td.html",
    "allauth/elements/th.html",
    "allauth/elements/thead.html",
    "allauth/elements/tr.html",
    "allauth/elements/alert.html",
    "allauth/elements/button_group.html",
    "allauth/elements/field.html",
    "allauth/elements/button.html",
    # Re-authentication with a passkey needs a real credential: the Chromium passkey test
    # (tests/e2e/test_account_pages.py) walks it.
    "mfa/webauthn/reauthenticate.html",
}


def forbidden(request):
    raise PermissionDenied


def broken(request):
    raise RuntimeError("a bug")


def database_down(request):
    raise OperationalError("connection refused")


def rate_limited(request):
    from allauth.core.ratelimit import respond_429

    return respond_429(request)


urlpatterns = [
    path("i18n-scan/403/", forbidden),
    path("i18n-scan/500/", broken),
    path("i18n-scan/503/", database_down),
    path("i18n-scan/429/", rate_limited),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


class Walk:
    """Visits pages in one language and keeps what each showed in the wrong language."""

    def __init__(self, language: str, allowed: list[str]) -> None:
        self.language = language
        self.allowed = allowed
        self.problems: dict[str, list[str]] = {}
        self.templates: set[str] = set()
        self.seen: list[str] = []

    def client(self, accept_language: str | None = None, **options) -> Client:
        return Client(
            headers={"accept-language": accept_language or ACCEPT[self.language]}, **options
        )

    def html(self, label: str, response, *, status: int | None = None) -> str:
        if status is not None:
            assert response.status_code == status, (label, response.status_code)
        assert response.status_code < 500 or status, (label, response.status_code)
        html = response.content.decode()
        assert f'<html lang="{self.language}">' in html or "<html" not in html, label
        self._keep(label, html_problems(html, self.language, self.allowed))
        return html

    def get(self, client: Client, label: str, url: str, *, status: int = 200, **extra) -> str:
        return self.html(label, client.get(url, **extra), status=status)

    def post(self, client, label, url, data, *, status=200, **extra) -> str:
        return self.html(label, client.post(url, data, **extra), status=status)

    def text(self, label: str, text: str, *, allowed: list[str] = ()) -> None:
        self._keep(label, text_problems(text, self.language, [*self.allowed, *allowed]))

    def _keep(self, label: str, problems: list[str]) -> None:
        self.seen.append(label)
        if problems:
            self.problems[label] = sorted(set(problems))

    def on_template(self, sender, template, context, **kwargs) -> None:
        if template.name:
            self.templates.add(template.name)


@pytest.fixture
def world():
    agency = make_agency(code="TEST")
    group = make_group(agency=agency)
    today = timezone.localdate()
    contracts = {
        # 人身傷害 3,000万円 and no 弁護士費用特約: 「おすすめの理由」 has something to say.
        "open": make_contract(
            group=group, policy_number="P-0001", personal_injury="30000000", riders="liability"
        ),
        "referred": make_contract(group=group, policy_number="P-0002", open_claim=True),
        "not_yet": make_contract(
            group=group,
            policy_number="P-0003",
            period_end=today + timedelta(days=100),
            period_start=today + timedelta(days=100 - 365),
        ),
        "closed": make_contract(
            group=group,
            policy_number="P-0004",
            period_end=today - timedelta(days=1),
            period_start=today - timedelta(days=366),
        ),
        "reminder": make_contract(
            group=group,
            policy_number="P-0005",
            period_end=today + timedelta(days=14),
            period_start=today + timedelta(days=14 - 365),
            phone="+81312340000",
        ),
        "holder": make_contract(
            group=group,
            policy_number="P-0006",
            email="holder@example.jp",
            period_end=today + timedelta(days=14),
            period_start=today + timedelta(days=14 - 365),
        ),
        "new_member": make_contract(
            group=group,
            policy_number="P-0007",
            holder_name="更新 花子",
            holder_kana="コウシン ハナコ",
            address="東京都新宿区西新宿2-8-1",
            postal_code="1630001",
            phone="+81353210000",
        ),
    }
    return {"agency": agency, "group": group, "contracts": contracts}


def allowed_data(world) -> list[str]:
    """Names, addresses, cars and the agency's data: shown as entered, in Japanese."""
    agency, group = world["agency"], world["group"]
    values = [agency.name, agency.contact_hours, group.name, "継続 太郎", "ケイゾク タロウ"]
    for contract in world["contracts"].values():
        values += [
            contract.holder_name,
            contract.holder_kana,
            contract.address,
            contract.vehicle_model,
            contract.vehicle_plate,
        ]
    return [value for value in values if value]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_customer_page_mail_and_pdf_is_in_one_language(language, world, settings):
    settings.ROOT_URLCONF = __name__
    settings.BASE_URL = "http://testserver"
    walk = Walk(language, allowed_data(world))
    # Parts rendered once per process (the chat widget, the session dialog) are rendered again
    # within this walk, so that it sees their templates.
    fragments.forget()
    template_rendered.connect(walk.on_template)
    try:
        _public(walk, world)
        _errors(walk)
        _registration(walk, world)
        member, client = _member(walk, world)
        _account(walk, member, client)
        _wizard(walk, world, member, client)
        _two_step(walk, member, client)
        _decisions_and_reminders(walk, world, member)
        _step_up(walk, member)
        _allauth_mails(walk, member)
        _mails(walk, world)
    finally:
        template_rendered.disconnect(walk.on_template)

    assert not walk.problems, "\n".join(
        f"{label}: {', '.join(words)}" for label, words in walk.problems.items()
    )
    customer = _customer_templates()
    missing = customer - walk.templates - NOT_WALKED
    assert not missing, f"customer templates the walk never rendered: {sorted(missing)}"


def _customer_templates() -> set[str]:
    root = Path(settings.BASE_DIR) / "keizoku"
    names = set()
    for app in CUSTOMER_APPS:
        templates = root / app / "templates"
        for file in templates.rglob("*"):
            if file.suffix in (".html", ".txt"):
                names.add(str(file.relative_to(templates)))
    return names


# --- anonymous pages ---------------------------------------------------------------------------


def _public(walk: Walk, world) -> None:
    client = walk.client()
    walk.get(client, "home", "/")
    for suffix in ("", "auto/", "auto/clickar/"):
        walk.get(client, f"agency {suffix}", f"/agency/TEST/{suffix}")
    walk.get(client, "login", reverse("account_login"))
    walk.post(
        client,
        "login (wrong password)",
        reverse("account_login"),
        {"login": "nobody@example.jp", "password": "wrong-one1"},
    )
    walk.get(client, "signup closed", reverse("account_signup"))
    walk.get(client, "help", "/help/")
    walk.get(client, "help faq", "/help/faq/")
    for page in help_pages():
        walk.get(client, f"help {page.slug}", page.url)
    walk.get(client, "chat", "/chat/")
    walk.post(client, "chat (empty question)", "/chat/", {"question": ""}, status=400)
    question = {"en": "I forgot my password", "ja": "パスワードを忘れました"}[walk.language]
    walk.post(client, "chat (a question)", "/chat/", {"question": question})
    nonsense = {"en": "zzzz qqqq", "ja": "ほげほげ ふがふが"}[walk.language]
    walk.post(client, "chat (no answer)", "/chat/", {"question": nonsense})

    walk.get(client, "password reset", reverse("account_reset_password"))
    response = client.post(reverse("account_reset_password"), {"email": "unknown@example.jp"})
    assert response.status_code == 302
    walk.get(client, "password reset done", response["Location"])
    walk.get(
        client,
        "password reset (bad key)",
        reverse("account_reset_password_from_key", kwargs={"uidb36": "zz", "key": "bad-key"}),
    )
    walk.get(client, "password reset complete", reverse("account_reset_password_from_key_done"))
    inactive = make_member("inactive@example.jp", PASSWORD, is_active=False)
    response = client.post(
        reverse("account_login"), {"login": inactive.email, "password": PASSWORD}
    )
    walk.get(client, "account inactive", response["Location"])


def _errors(walk: Walk) -> None:
    client = walk.client(raise_request_exception=False)
    walk.get(client, "404", "/no-such-page/", status=404)
    walk.get(client, "403", "/i18n-scan/403/", status=403)
    walk.get(client, "500", "/i18n-scan/500/", status=500)
    walk.get(client, "503", "/i18n-scan/503/", status=503)
    walk.get(client, "429", "/i18n-scan/429/", status=429)
    walk.get(client, "400", "/", status=400, HTTP_HOST="evil.example")
    strict = walk.client(enforce_csrf_checks=True)
    walk.post(strict, "403 csrf", reverse("account_login"), {}, status=403)
    # 「ただいま混雑しています」 (keizoku.core.admission): a page, a form and an htmx request
    # asked for while the process is full.
    with override_settings(
        ADMISSION_SLOTS=1, ADMISSION_MAX_WAIT_MS=0, ADMISSION_OVERLOAD_WAIT_MS=0
    ):
        admission.gate_reset()
        gate = admission.gate()
        assert gate.enter().admitted
        try:
            walk.get(client, "busy", "/help/", status=503)
            walk.post(client, "busy (a form)", "/chat/", {"question": "x"}, status=503)
            walk.get(client, "busy (htmx)", "/help/", status=503, headers={"HX-Request": "true"})
        finally:
            gate.leave(0.01)
            admission.gate_reset()


# --- registration ------------------------------------------------------------------------------


def _registration(walk: Walk, world) -> None:
    client = walk.client()
    walk.get(client, "register start", "/mypage/register/")
    walk.get(client, "register terms", "/mypage/register/terms/")
    walk.post(client, "register terms (not agreed)", "/mypage/register/terms/", {}, status=400)
    client.post("/mypage/register/terms/", {"agree": "1"})
    walk.get(client, "register form", "/mypage/register/form/")
    walk.post(
        client,
        "register form (errors)",
        "/mypage/register/form/",
        {"policy_count": "1"},
        status=400,
    )
    walk.post(
        client,
        "register form (unknown postal code)",
        "/mypage/register/form/",
        {"policy_count": "1", "postal_code": "0000000", "lookup_address": "1"},
    )
    walk.get(client, "register address (htmx)", "/mypage/register/address/?postal_code=1000005")
    contract = world["contracts"]["new_member"]
    form = {
        "policy_count": "1",
        "email": "hanako@example.jp",
        "email_confirm": "hanako@example.jp",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
        "name": "更新 花子",
        "kana": "コウシン ハナコ",
        "birth_date": "1985-05-05",
        "postal_code": "163-0001",
        "address": contract.address,
        "phone": "03-5321-0000",
        "policy_1": contract.policy_number,
        "survey_source": "agency",
        "survey_comment": "",
    }
    mismatch = {**form, "phone": "03-0000-0000"}
    walk.post(client, "register form (mismatch)", "/mypage/register/form/", mismatch, status=400)
    response = client.post("/mypage/register/form/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    walk.get(client, "register confirm", "/mypage/register/confirm/")
    response = client.post("/mypage/register/confirm/")
    walk.get(client, "register accepted", response["Location"])
    mail = OutboundMail.objects.get(kind="registration", to="hanako@example.jp")
    link = re.search(r"http://testserver(/mypage/register/complete/\S+/)", mail.body).group(1)
    response = client.get(link)
    walk.get(client, "register password", response["Location"])
    walk.post(
        client,
        "register password (wrong)",
        "/mypage/register/password/",
        {"password": "wrong-one1"},
        status=400,
    )
    response = client.post("/mypage/register/password/", {"password": NEW_PASSWORD})
    walk.get(client, "register done", response["Location"])
    walk.get(walk.client(), "register link used", link, status=410)
    walk.get(walk.client(), "register link invalid", "/mypage/register/complete/nope/", status=404)
    now = timezone.now()
    PendingRegistration.objects.create(
        email="late@example.jp",
        password_hash="x",
        name="遅刻 三郎",
        kana="チコク サブロウ",
        birth_date=date(1980, 1, 1),
        postal_code="1000005",
        address="東京都千代田区丸の内1-2-3",
        phone="+81312345678",
        token_hash=token_hash("expired-token"),
        created_at=now - timedelta(days=2),
        expires_at=now - timedelta(days=1),
    )
    walk.get(
        walk.client(),
        "register link expired",
        "/mypage/register/complete/expired-token/",
        status=410,
    )
    # The same address again: the "already registered" mail, behind the same screens.
    again = walk.client()
    again.post("/mypage/register/terms/", {"agree": "1"})
    other = world["contracts"]["holder"]  # another policy, not linked to anybody
    again_form = {
        **form,
        "postal_code": "100-0005",
        "address": other.address,
        "phone": "03-1234-5678",
        "policy_1": other.policy_number,
    }
    response = again.post("/mypage/register/form/", again_form)
    assert response.status_code == 302, response.content.decode()[:2000]
    again.post("/mypage/register/confirm/")
    assert OutboundMail.objects.filter(kind="registration_exists").exists()


# --- MyPage --------------------------------------------------------------------------------------


def _member(walk: Walk, world):
    contracts = world["contracts"]
    member = make_member("member@example.jp", PASSWORD, language=walk.language)
    for key in ("open", "referred", "not_yet", "closed"):
        PolicyLink.objects.create(member=member, contract=contracts[key])
    client = walk.client(accept_language=ACCEPT["ja" if walk.language == "en" else "en"])
    # The member's own language wins over the browser's, whatever it sends.
    response = client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert response.status_code == 302
    walk.get(client, "mypage top", "/mypage/")
    walk.get(client, "renewals", "/mypage/renewals/")
    # The chat's answers about the member's own policies (window, status, premium, grade).
    walk.post(client, "chat (personal answers)", "/chat/", {"question": PERSONAL[walk.language]})
    walk.get(client, "policy link", "/mypage/policies/link/")
    walk.post(
        client,
        "policy link (mismatch)",
        "/mypage/policies/link/",
        {"policy_number": "P-0005", "address": "東京都港区1-1-1", "phone": "03-1234-0000"},
        status=400,
    )
    response = client.post(
        "/mypage/policies/link/",
        {
            "policy_number": "P-0005",
            "address": contracts["reminder"].address,
            "phone": "03-1234-0000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    walk.get(client, "mypage top (linked)", "/mypage/")
    walk.post(
        client,
        "policy link (six)",
        "/mypage/policies/link/",
        {"policy_number": "P-0006", "address": "x", "phone": "03-1234-5678"},
        status=400,
    )
    return member, client


def _reauthenticate(client: Client) -> None:
    """allauth asks for the password again before account changes (a login alone is not enough)."""
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]


def _account(walk: Walk, member, client: Client) -> None:
    walk.get(client, "reauthenticate", reverse("account_reauthenticate"))
    _reauthenticate(client)
    walk.get(client, "email change", reverse("account_email"))
    response = client.post(
        reverse("account_email"), {"email": "member2@example.jp", "action_add": ""}
    )
    assert response.status_code == 302
    walk.get(client, "email change (pending)", reverse("account_email"))
    mail = OutboundMail.objects.filter(to="member2@example.jp").latest("pk")
    key = re.search(r"/mypage/confirm-email/([^/\s]+)/", mail.body).group(1)
    walk.get(client, "email confirm", reverse("account_confirm_email", args=[key]))
    walk.get(client, "email confirm (bad key)", reverse("account_confirm_email", args=["bad"]))
    walk.get(client, "password change", reverse("account_change_password"))
    walk.post(
        client,
        "password change (errors)",
        reverse("account_change_password"),
        {"oldpassword": "wrong-one1", "password1": "abc", "password2": "abd"},
    )
    walk.get(client, "logout", reverse("account_logout"))
    walk.get(client, "sessions", reverse("usersessions_list"))
    walk.get(client, "2fa", reverse("mfa_index"))
    walk.get(client, "2fa totp activate", reverse("mfa_activate_totp"))
    walk.post(client, "2fa totp activate (wrong)", reverse("mfa_activate_totp"), {"code": "000000"})
    walk.get(client, "passkey add", reverse("mfa_add_webauthn"))
    # A registered passkey as allauth stores it (what the list and its pages read of it).
    Authenticator.objects.create(
        user=member,
        type=Authenticator.Type.WEBAUTHN,
        data={
            "name": PASSKEY_NAME[walk.language],
            "credential": {"clientExtensionResults": {"credProps": {"rk": True}}},
        },
    )
    passkey = Authenticator.objects.get(user=member, type=Authenticator.Type.WEBAUTHN)
    walk.get(client, "passkeys", reverse("mfa_list_webauthn"))
    walk.get(client, "passkey edit", reverse("mfa_edit_webauthn", args=[passkey.pk]))
    walk.get(client, "passkey remove", reverse("mfa_remove_webauthn", args=[passkey.pk]))
    walk.get(client, "2fa with a passkey", reverse("mfa_index"))
    passkey.delete()  # a stored credential that is not a real one: allauth cannot sign in with it
    # A login from another browser: the member is told (in their language).
    other = walk.client()
    response = other.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert response.status_code == 302
    assert OutboundMail.objects.filter(kind="new_browser").exists()


def _two_step(walk: Walk, member, logged_in: Client) -> None:
    """A member with an authenticator app: the code at login, re-authentication, recovery codes."""
    from keizoku.accounts import allauth_bridge

    allauth_bridge.totp_activate(member, "JBSWY3DPEHPK3PXP")
    allauth_bridge.recovery_codes_activate(member)
    client = walk.client()
    response = client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    walk.get(client, "2fa authenticate", response["Location"])
    walk.post(client, "2fa authenticate (wrong)", reverse("mfa_authenticate"), {"code": "000000"})
    walk.get(logged_in, "2fa reauthenticate", reverse("mfa_reauthenticate"))
    walk.get(logged_in, "2fa (app on)", reverse("mfa_index"))
    walk.get(logged_in, "recovery codes (app on)", reverse("mfa_view_recovery_codes"))
    walk.get(logged_in, "recovery codes generate", reverse("mfa_generate_recovery_codes"))
    download = logged_in.get(reverse("mfa_download_recovery_codes"))
    walk.text("recovery codes download", download.content.decode())
    walk.get(logged_in, "totp deactivate", reverse("mfa_deactivate_totp"))


# --- the wizard ----------------------------------------------------------------------------------

STEPS = {
    "consent": {"agree": "on"},
    "notes": {},
    "disclosure": {"confirmed": "on"},
    "current": {},
    "conditions": {
        "age_condition": "35",
        "driver_scope": "self_spouse",
        "use": "commute",
        "gold_license": "yes",
        "same_vehicle": "yes",
    },
    "plan": {"plan": "same"},
    "premium": {},
    "declarations": {code: "no" for code, _question, _refers in DECLARATIONS},
    "payment": {"confirmed": "on"},
    "delivery": {"delivery": "web"},
}
EMPTY_IS_AN_ERROR = {
    "consent",
    "disclosure",
    "conditions",
    "plan",
    "declarations",
    "payment",
    "delivery",
}


def _wizard(walk: Walk, world, member, client: Client) -> None:
    contracts = world["contracts"]
    contract = contracts["open"]
    base = f"/clickar/{contract.pk}"
    response = client.get(f"{base}/")
    assert response.status_code == 302
    for slug, data in STEPS.items():
        walk.get(client, f"step {slug}", f"{base}/{slug}/")
        if slug in EMPTY_IS_AN_ERROR:
            walk.post(client, f"step {slug} (errors)", f"{base}/{slug}/", {}, status=400)
        if slug == "plan":
            walk.post(
                client,
                "step plan (custom, htmx)",
                f"{base}/plan/",
                {
                    "plan": "custom",
                    "custom-personal_injury": "50000000",
                    "custom-property_damage": "unlimited",
                    "custom-vehicle_cover": "none",
                },
                HTTP_HX_REQUEST="true",
            )
        response = client.post(f"{base}/{slug}/", data)
        assert response.status_code == 302, (slug, response.content.decode()[:3000])
    html = walk.get(client, "step confirm", f"{base}/confirm/")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    walk.post(
        client, "step confirm (errors)", f"{base}/confirm/", {"idempotency_key": key}, status=400
    )
    response = client.post(f"{base}/confirm/", {"intent": "on", "idempotency_key": key})
    assert response["Location"] == f"{base}/complete/", response.content.decode()[:2000]
    walk.get(client, "complete", response["Location"])
    walk.get(client, "renewals (applied)", "/mypage/renewals/")
    pdf = client.get(f"{base}/moushikomi.pdf")
    assert pdf.status_code == 200, pdf.status_code
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=b"".join(pdf.streaming_content),
        capture_output=True,
        check=True,
    ).stdout.decode()
    with translation.override("ja"):
        binding = [str(question) for _code, question, _refers in DECLARATIONS]
    walk.text("pdf", text, allowed=binding)

    referred = contracts["referred"]
    client.get(f"/clickar/{referred.pk}/")
    for slug in ("consent", "notes"):
        if slug == "consent":
            client.post(f"/clickar/{referred.pk}/consent/", STEPS["consent"])
        else:
            walk.get(client, "step notes (ineligible)", f"/clickar/{referred.pk}/notes/")
    walk.get(client, "referred", f"/clickar/{referred.pk}/referred/")
    walk.get(client, "mypage top (referred)", "/mypage/")

    # A cover that already meets the recommendation: one card says so.
    reminder = contracts["reminder"]
    client.get(f"/clickar/{reminder.pk}/")
    for slug, data in STEPS.items():
        if slug == "plan":
            break
        client.post(f"/clickar/{reminder.pk}/{slug}/", data)
    html = walk.get(client, "step plan (cover as recommended)", f"/clickar/{reminder.pk}/plan/")
    assert 'aria-describedby="plan-same-note"' in html

    closed = contracts["closed"]
    Application.objects.create(contract=closed, member=member, period_start=closed.period_end)
    walk.get(client, "window closed", f"/clickar/{closed.pk}/consent/", status=410)


def _decisions_and_reminders(walk: Walk, world, member) -> None:
    staff = make_member("clerk@example.jp", PASSWORD, kind="staff")
    submitted = Application.objects.get(contract=world["contracts"]["open"])
    renewal_services.application_accept(
        application=submitted, expected_version=submitted.version, actor=staff
    )
    referred = Application.objects.get(contract=world["contracts"]["referred"])
    renewal_services.application_refer_back(
        application=referred,
        expected_version=referred.version,
        actor=staff,
        message={"en": "Please call us.", "ja": "お電話ください。"}[walk.language],
    )
    noon = datetime.combine(timezone.localdate(), time(12, 0), tzinfo=JST)
    assert reminders_send(now=noon).queued


def _step_up(walk: Walk, member) -> None:
    """Guessing from many addresses (issue 10 W11): the member is told, and the right password is
    followed by a code by mail (its page, its message, a wrong code)."""
    for n in range(10):
        other = walk.client(REMOTE_ADDR=f"192.0.2.{n + 1}")
        walk.post(
            other,
            "login (guessed)",
            reverse("account_login"),
            {"login": member.email, "password": "wrong-Pass1"},
        )
    client = walk.client(REMOTE_ADDR="198.51.100.7")
    response = client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    assert response["Location"] == reverse("account_confirm_login_code")
    walk.get(client, "login code", reverse("account_confirm_login_code"))
    walk.post(
        client, "login code (wrong)", reverse("account_confirm_login_code"), {"code": "00000000"}
    )


def _allauth_mails(walk: Walk, member) -> None:
    """Every allauth mail template, rendered as the adapter sends it, in the member's language."""
    from allauth.account.adapter import get_adapter

    context = {
        "user": member,
        "BASE_URL": "http://testserver",
        "timestamp": timezone.now(),
        "ip": "192.0.2.1",
        "user_agent": "",
        "from_email": "old@example.jp",
        "to_email": "new@example.jp",
        "email": member.email,
        "deleted_email": "old@example.jp",
        "activate_url": "http://testserver/mypage/confirm-email/key/",
        "password_reset_url": "http://testserver/mypage/password/reset/key/x-y/",
    }
    prefixes = [
        f"{folder}/email/{file.name.removesuffix('_message.txt')}"
        for folder, base in (("account", "accounts"), ("mfa", "accounts"))
        for file in (
            Path(settings.BASE_DIR) / "keizoku" / base / "templates" / folder / "email"
        ).glob("*_message.txt")
        if file.name not in ("base_message.txt",)
    ]
    adapter = get_adapter()
    for prefix in sorted(prefixes):
        if prefix.endswith(("base_notification", "base_message")):
            continue
        with translation.override(member.language):
            message = adapter.render_mail(prefix, member.email, context)
        walk.text(f"mail {prefix}", f"{message.subject}\n{message.body}")
        assert mail_links(message.body) == ALLAUTH_MAIL_LINKS.get(prefix, _NOTICE), prefix


# The views each mail links to, every link on BASE_URL (built by reverse(), core.links).
MAIL_LINKS = {
    "registration": {"accounts:register_link"},
    "registration_complete": {"accounts:top"},
    "registration_exists": {"account_login"},
    "policy_linked": {"accounts:top"},
    "application_submitted": {"accounts:top"},
    "application_accepted": {"accounts:top"},
    "application_referred": {"accounts:top"},
    "reminder_member": {"accounts:top"},
    "reminder_holder": {"account_login"},
    "new_browser": {"usersessions_list", "account_change_password"},
    "login_locked": {"account_reset_password"},
    "test": {"home"},
}
_NOTICE = {"account_reset_password", "accounts:top"}  # base_notification: reset + footer
ALLAUTH_MAIL_LINKS = {
    "account/email/account_already_exists": {
        "account_login",
        "account_reset_password",
        "accounts:top",
    },
    "account/email/email_confirmation": {"account_confirm_email", "accounts:top"},
    "account/email/email_confirmation_signup": {"account_confirm_email", "accounts:top"},
    "account/email/password_reset_key": {"account_reset_password_from_key", "accounts:top"},
    "account/email/unknown_account": {"accounts:register", "accounts:top"},
}


def mail_links(body: str) -> set[str]:
    """The view behind every link of a mail body; each must be on BASE_URL and resolve."""
    views = set()
    for url in re.findall(r"https?://\S+", body):
        assert url.startswith(settings.BASE_URL + "/"), url
        views.add(resolve(url.removeprefix(settings.BASE_URL).split("?")[0]).view_name)
    return views


def _mails(walk: Walk, world) -> None:
    """Every mail queued by the walk, in its recipient's language (a holder who is not a member
    gets Japanese: checked only in the Japanese walk)."""
    from keizoku.notifications.services import mail_queue

    mail_queue(key="i18n-test", kind="test", to="dev@example.jp", language=walk.language)
    kinds = set()
    for mail in OutboundMail.objects.order_by("pk"):
        if mail.kind == "reminder_holder" and walk.language != "ja":
            continue
        if mail.to == "clerk@example.jp":
            continue
        kinds.add(mail.kind)
        walk.text(f"mail {mail.kind} to {mail.to}", f"{mail.subject}\n{mail.body}")
        links = MAIL_LINKS.get(mail.kind) or ALLAUTH_MAIL_LINKS.get(
            f"account/email/{mail.kind}", _NOTICE
        )
        assert mail_links(mail.body) == links, mail.kind
    expected = {
        "registration",
        "registration_complete",
        "policy_linked",
        "application_submitted",
        "application_accepted",
        "application_referred",
        "reminder_member",
        "registration_exists",
        "new_browser",
        "login_locked",
        "login_code",
        "test",
    }
    assert expected <= kinds, expected - kinds
