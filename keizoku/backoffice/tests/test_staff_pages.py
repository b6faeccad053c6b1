"""Every staff page renders with real data (issue 10, W1): each back-office URL, as each role,
with applications in every state made by the wizard itself (real answers, real quotes with their
lines, real audit trails), and the 400 re-render of each decision. A template that reads a
missing variable as a filter argument raises, so any such slip anywhere fails here; every
template under ``keizoku/backoffice/templates`` must have been rendered by the walk."""

import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from keizoku.accounts.models import PolicyLink
from keizoku.backoffice import selectors
from keizoku.chat import unanswered
from keizoku.contracts.tests.test_import_contracts import row, to_csv
from keizoku.core import l10n
from keizoku.renewals.models import Application
from keizoku.renewals.services import (
    application_accept,
    application_refer_back,
    application_withdraw,
)
from keizoku.renewals.tests.conftest import login, step_url
from tests.factories import make_contract, make_member

from .conftest import login_staff, make_staff, totp_code, wizard_application

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _member_with(group, number: str, **contract_fields):
    contract = make_contract(group=group, policy_number=number, **contract_fields)
    member = make_member(f"{number.lower()}@example.jp", name=f"会員 {number}")
    PolicyLink.objects.create(member=member, contract=contract)
    return contract, member


@pytest.fixture
def season(group, clerk):
    """One application in every state the back office shows, each made the way it happens."""
    made = {}
    contract, member = _member_with(group, "DM-0101")
    made["draft (no quote)"] = wizard_application(contract, member, until="plan")
    contract, member = _member_with(group, "DM-0102")
    made["draft (quoted)"] = wizard_application(contract, member, until="confirm")
    contract, member = _member_with(group, "DM-0103")
    made["submitted"] = wizard_application(contract, member)
    contract, member = _member_with(group, "DM-0104")
    made["submitted, declared"] = wizard_application(
        contract, member, overrides={"declarations": {"other_insurance": "yes"}}
    )
    contract, member = _member_with(group, "DM-0105", open_claim=True)
    client = Client()
    login(client, member)
    client.get(f"/clickar/{contract.pk}/")
    client.post(step_url(contract, "consent"), {"agree": "on"})
    client.get(step_url(contract, "notes"))  # step 11 refers it
    made["referred at step 11"] = Application.objects.get(contract=contract)
    contract, member = _member_with(group, "DM-0106")
    application = wizard_application(contract, member)
    made["referred back"] = application_refer_back(
        application=application,
        expected_version=application.version,
        actor=clerk,
        message="運転者の範囲を\nお電話で確認させてください。",
    )
    contract, member = _member_with(group, "DM-0107")
    application = wizard_application(contract, member)
    made["accepted"] = application_accept(
        application=application, expected_version=application.version, actor=clerk
    )
    contract, member = _member_with(group, "DM-0108")
    application = wizard_application(contract, member)
    made["withdrawn"] = application_withdraw(
        application=application,
        expected_version=application.version,
        actor=clerk,
        reason="お客さまのご依頼により",
    )
    unanswered.record(
        "車検の予約をしたい", language="ja", suggestions=[], confidence=0.1, now=timezone.now()
    )
    for application in made.values():
        application.refresh_from_db()
    return made


def expected_detail(application: Application) -> list[str]:
    """What a clerk must read on the application's page."""
    contract = application.contract
    texts = [
        application.acceptance_number or "（受付番号なし）",
        application.get_status_display(),
        contract.policy_number,
        contract.holder_name,
        selectors.mask_email(application.member.email),
    ]
    texts += [reason["text"] for reason in application.referral_reasons]
    if application.agency_message:
        texts.append("運転者の範囲を<br>お電話で確認させてください。")
    if application.quote:
        texts += ["保険料の内訳", l10n.yen(application.quote["annual_premium"])]
        texts += [line["label"] for line in application.quote["lines"]]
        texts += [l10n.yen(line["premium"]) for line in application.quote["lines"]]
    else:
        texts.append("保険料はまだ計算されていません。")
    if application.accepted_premium:
        texts.append(l10n.yen(application.accepted_premium))
    if application.status == Application.Status.WITHDRAWN:
        texts.append("→ withdrawn")
    return texts


class Walk:
    """Requests of one staff member; every template rendered is remembered, every surprise kept."""

    rendered: set[str] = set()

    def __init__(self, client, role: str):
        self.client, self.role, self.problems = client, role, []

    def check(self, method, url, *, status=200, texts=(), data=None):
        if method == "GET":
            response = self.client.get(url)
        else:
            response = self.client.post(url, data or {})
        Walk.rendered.update(t.name for t in response.templates if t.name)
        if response.status_code != status:
            self.problems.append(f"{self.role} {method} {url}: {response.status_code} ≠ {status}")
            return response
        html = response.content.decode(errors="replace")
        missing = [text for text in texts if text not in html]
        if missing:
            self.problems.append(f"{self.role} {method} {url}: missing {missing}")
        return response


def walk_as(client, role: str, season, group) -> list[str]:
    walk = Walk(client, role)
    writer = role in ("agency_staff", "insurer_admin")
    walk.check("GET", "/backoffice/", texts=["更改状況", group.name])
    walk.check("GET", "/backoffice/contracts/", texts=["DM-0101", "DM-0108"])
    walk.check("GET", "/backoffice/contracts/?q=DM-0103", texts=["DM-0103"])
    walk.check("GET", f"/backoffice/contracts/?group={group.pk}", texts=["DM-0105"])
    for state in selectors.FILTER_LABELS:
        walk.check("GET", f"/backoffice/contracts/?state={state}")
    walk.check("GET", "/backoffice/applications/", texts=["DM-0103"])
    for status in Application.Status.values:
        shown = [a for a in season.values() if a.status == status and a.acceptance_number]
        walk.check(
            "GET",
            f"/backoffice/applications/?status={status}",
            texts=[a.acceptance_number for a in shown],
        )
    for application in season.values():
        detail = f"/backoffice/applications/{application.pk}/"
        texts = expected_detail(application)
        walk.check("GET", detail, texts=texts)
        walk.check(
            "GET",
            f"/backoffice/contracts/{application.contract_id}/",
            texts=[application.contract.holder_name],
        )
        # The refused decisions re-render the same page (400), with the form's message.
        refused = {
            "accept": ({"version": 0}, []),
            "refer": ({"version": application.version, "message": " "}, []),
            "withdraw": ({"version": application.version, "reason": "長" * 501}, []),
        }
        for action, (data, extra) in refused.items():
            walk.check(
                "POST",
                f"{detail}{action}/",
                data=data,
                status=400 if writer else 403,
                texts=[*texts, *extra] if writer else [],
            )
    walk.check("GET", "/backoffice/exports/", texts=[group.name])
    walk.check("GET", "/backoffice/exports/applications.csv")
    walk.check("GET", "/backoffice/exports/applications/cp932/")
    walk.check("GET", f"/backoffice/exports/payroll/{group.pk}.csv")
    walk.check("GET", f"/backoffice/exports/payroll/{group.pk}/cp932/")
    walk.check("GET", "/backoffice/chat/", texts=["車検の予約をしたい"])
    walk.check("GET", "/backoffice/chat/?show=all", texts=["車検の予約をしたい"])
    auditing = role in ("insurer_admin", "auditor")
    walk.check("GET", "/backoffice/audit/", status=200 if auditing else 403)
    walk.check(
        "GET",
        "/backoffice/audit/?action=application.status&date_from=2020-01-01",
        status=200 if auditing else 403,
        texts=["withdrawn"] if auditing else [],
    )
    walk.check("GET", "/backoffice/audit/?date_from=x", status=200 if auditing else 403)
    walk.check("GET", "/backoffice/imports/", status=200 if writer else 403)
    csv_rows = [row(policy_number="DM-0900", group_code=group.code)]
    upload = SimpleUploadedFile("contracts.csv", to_csv(csv_rows).encode(), "text/csv")
    preview = walk.check(
        "POST",
        "/backoffice/imports/",
        data={"kind": "contracts", "file": upload},
        status=200 if writer else 403,
        texts=["取込内容の確認"] if writer else [],
    )
    if writer:
        token = re.search(r'name="token" value="([0-9a-f]+)"', preview.content.decode())
        confirmed = walk.check(
            "POST", "/backoffice/imports/confirm/", data={"token": token.group(1)}, status=302
        )
        walk.check("GET", confirmed["Location"], texts=["取込の状況", "取込が完了しました"])
    bad = SimpleUploadedFile("contracts.csv", b"not,a,contracts,file\r\n1,2,3,4\r\n", "text/csv")
    walk.check(
        "POST",
        "/backoffice/imports/",
        data={"kind": "contracts", "file": bad},
        status=400 if writer else 403,
    )
    return walk.problems


def walk_admin(client) -> list[str]:
    walk = Walk(client, "insurer_admin (admin)")
    walk.check("GET", "/admin/")
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        walk.check("GET", reverse(f"{info}_changelist"))
        for obj in model._default_manager.all()[:3]:
            walk.check("GET", reverse(f"{info}_change", args=[obj.pk]))
    return walk.problems


def test_every_staff_page_renders_with_applications_in_every_state(
    season, group, agency, clerk, insurer_admin, auditor, other_clerk
):
    Walk.rendered = set()
    problems = []
    for role, staff in (
        ("agency_staff", clerk),
        ("insurer_admin", insurer_admin),
        ("auditor", auditor),
    ):
        client = Client()
        login_staff(client, staff)
        problems += walk_as(client, role, season, group)

    # The Django admin (insurer admins only): every registered model's list and an object's page.
    client = Client()
    login_staff(client, insurer_admin)
    problems += walk_admin(client)

    # Another agency's clerk: the same pages, empty; this agency's applications are 404.
    client = Client()
    login_staff(client, other_clerk)
    walk = Walk(client, "other clerk")
    for url in ("/backoffice/", "/backoffice/contracts/", "/backoffice/applications/"):
        response = walk.check("GET", url)
        assert "DM-0103" not in response.content.decode()
    for application in season.values():
        walk.check("GET", f"/backoffice/applications/{application.pk}/", status=404)

    # The staff login, and the two-step setup of a newcomer (refused code, then the right one).
    client = Client()
    walk.client = client
    walk.check("GET", "/backoffice/login/", texts=["スタッフログイン"])
    newcomer = make_staff("new@demo.example.jp", "agency_staff", agency, totp=False)
    login_staff(client, newcomer, mfa=False)
    page = walk.check("GET", "/backoffice/mfa/setup/", texts=["二段階認証の設定"])
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.content.decode())
    walk.check(
        "POST", "/backoffice/mfa/setup/", data={"code": "000000"}, texts=["二段階認証の設定"]
    )
    walk.check(
        "POST",
        "/backoffice/mfa/setup/",
        data={"code": totp_code(secret.group(1))},
        texts=["二段階認証を設定しました"],
    )
    problems += walk.problems

    assert problems == []
    # Every back-office template was rendered by this walk: a new one must be walked too.
    names = {
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*")
        if path.suffix in (".html", ".txt")
    }
    assert names - Walk.rendered == set()
