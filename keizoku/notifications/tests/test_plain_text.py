"""Plain-text mails carry what people typed as they typed it: no HTML escaping (W10).

Every mail template of ours (``notifications/mail/*.txt`` in any app) and every allauth mail
template is rendered the way it is sent, with ``O'Brien & "quote" <1>`` in every value a
person or an agency can type; the text must arrive unchanged, never as ``O&#x27;Brien &amp; …``.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from keizoku.notifications.services import mail_queue
from keizoku.renewals.models import Application
from tests.factories import make_agency, make_contract, make_group, make_member

pytestmark = pytest.mark.django_db

HOSTILE = """O'Brien & "quote" <1>"""
ENTITIES = ("&amp;", "&#x27;", "&#39;", "&quot;", "&lt;", "&gt;")
APPS = Path(settings.BASE_DIR) / "keizoku"
OUR_MAILS = sorted(
    path.stem for path in APPS.glob("*/templates/notifications/mail/*.txt") if path.is_file()
)
# Mails that show nothing typed by a person: only checked for stray entities.
NOTHING_TYPED = {"registration_exists", "test"}
ALLAUTH_MAILS = sorted(
    f"{folder}/email/{path.name.removesuffix('_message.txt')}"
    for folder in ("account", "mfa")
    for path in (APPS / "accounts" / "templates" / folder / "email").glob("*_message.txt")
    if path.name not in ("base_message.txt", "base_notification.txt")
)


def assert_plain(text: str) -> None:
    escaped = [entity for entity in ENTITIES if entity in text]
    assert not escaped, f"HTML entities {escaped} in a plain-text mail:\n{text}"


@pytest.fixture
def world():
    agency = make_agency(name=HOSTILE, contact_hours=HOSTILE)
    contract = make_contract(group=make_group(agency=agency), holder_name=HOSTILE)
    member = make_member(name=HOSTILE)
    application = Application(
        contract=contract, member=member, period_start=contract.period_end, acceptance_number="R1"
    )
    return {"agency": agency, "contract": contract, "member": member, "application": application}


def test_every_one_of_our_mail_templates_is_found():
    assert {"application_referred", "new_browser", "reminder_member"} <= set(OUR_MAILS)


@pytest.mark.parametrize("kind", OUR_MAILS)
def test_our_mail_shows_typed_text_unescaped(kind, world):
    now = timezone.now()
    mail = mail_queue(
        key=f"w10:{kind}",
        kind=kind,
        to="obrien@example.jp",
        enqueue=False,
        context={
            **world,
            "name": HOSTILE,
            "message": HOSTILE,
            "user_agent": HOSTILE,
            "ip": "192.0.2.1",
            "at": now,
            "contracts": [world["contract"]],
            "premium": 70_800,
            "threshold": 14,
            "deadline": now + timedelta(days=10),
            "expires_at": now + timedelta(hours=24),
            "url": "https://keizoku.example.jp/mypage/register/complete/x/",
            "mypage_url": "https://keizoku.example.jp/mypage/",
            "login_url": "https://keizoku.example.jp/mypage/login/",
            "sessions_url": "https://keizoku.example.jp/mypage/sessions/",
            "password_url": "https://keizoku.example.jp/mypage/password/change/",
        },
    )
    assert_plain(mail.subject)
    assert_plain(mail.body)
    if kind not in NOTHING_TYPED:
        assert HOSTILE in mail.body


@pytest.mark.parametrize("prefix", ALLAUTH_MAILS)
def test_allauth_mail_shows_typed_text_unescaped(prefix, world):
    context = {
        "user": world["member"],
        "email": "o'brien@example.jp",
        "from_email": "o'brien@example.jp",
        "to_email": "o'brien&co@example.jp",
        "deleted_email": "o'brien@example.jp",
        "user_agent": HOSTILE,
        "ip": "192.0.2.1",
        "timestamp": timezone.now(),
        "activate_url": "https://keizoku.example.jp/mypage/confirm-email/k/?a=1&b=2",
        "password_reset_url": "https://keizoku.example.jp/mypage/password/reset/key/x/?a=1&b=2",
        "code": "ABC&123",
    }
    message = get_adapter().render_mail(prefix, "o'brien@example.jp", context)
    assert_plain(message.subject)
    assert_plain(message.body)


def test_pages_keep_autoescape_on(world):
    """Only ``mail_render`` turns escaping off: the engine that renders the pages still escapes."""
    page = render_to_string("notifications/mail/application_referred.txt", {"message": HOSTILE})
    assert "O&#x27;Brien &amp; &quot;quote&quot; &lt;1&gt;" in page
