"""The Django admin: a read-only window for insurer admins on groups, contracts, applications,
the audit trail and the mail outbox; nothing can be added, changed or deleted there, and only
insurer admins (with their second factor) get in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keizoku.contracts.models import Contract
from keizoku.core.audit import audit_record
from keizoku.core.models import AuditEvent
from keizoku.notifications.models import OutboundMail
from keizoku.notifications.services import mail_queue
from tests.factories import make_agency, make_contract, make_group

from .conftest import login_staff, make_application

pytestmark = pytest.mark.django_db

MODELS = {
    "contracts/agency": "代理店",
    "contracts/group": "団体",
    "contracts/contract": "契約",
    "renewals/application": "更改申込",
    "core/auditevent": "監査ログ",
    "notifications/outboundmail": "送信メール",
}


@pytest.fixture
def objects(contract, member):
    application = make_application(contract, member)
    audit_record(action="application.accepted", obj=application, details={"by": "test"})
    mail = mail_queue(
        key="admin-test", kind="notice", to=member.email, subject="件名", body="本文", enqueue=False
    )
    return {
        "contracts/agency": contract.group.agency,
        "contracts/group": contract.group,
        "contracts/contract": contract,
        "renewals/application": application,
        "core/auditevent": AuditEvent.objects.latest("pk"),
        "notifications/outboundmail": mail,
    }


def test_the_admin_index_lists_the_read_only_models_in_japanese(client, insurer_admin, objects):
    login_staff(client, insurer_admin)
    html = client.get("/admin/").content.decode()
    assert "管理サイト（閲覧のみ）" in html
    for path in MODELS:
        assert f'href="/admin/{path}/"' in html
    # Nothing to add anywhere, and no model of a library that would bypass our services.
    assert "/add/" not in html
    for foreign in ("auth/group", "account/emailaddress", "mfa/authenticator", "usersessions"):
        assert f"/admin/{foreign}" not in html


@pytest.mark.parametrize("path", MODELS)
def test_an_insurer_admin_sees_each_list_and_detail_but_cannot_change(
    client, insurer_admin, objects, path
):
    login_staff(client, insurer_admin)
    changelist = client.get(f"/admin/{path}/")
    assert changelist.status_code == 200
    obj = objects[path]
    detail_url = f"/admin/{path}/{obj.pk}/change/"
    assert detail_url in changelist.content.decode()

    detail = client.get(detail_url)
    assert detail.status_code == 200
    html = detail.content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "<textarea" not in html and 'type="text"' not in html  # values shown, not editable
    before = type(obj).objects.filter(pk=obj.pk).values().get()
    # A change, a deletion, an addition, a bulk action: refused, nothing stored.
    assert client.post(detail_url, {"name": "変更", "status": "sent"}).status_code == 403
    assert client.post(f"/admin/{path}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"/admin/{path}/add/").status_code == 403
    assert client.post(f"/admin/{path}/add/", {}).status_code == 403
    client.post(
        f"/admin/{path}/",
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert type(obj).objects.filter(pk=obj.pk).values().get() == before


@pytest.mark.parametrize("path", MODELS)
def test_search_and_filters_work(client, insurer_admin, objects, path):
    login_staff(client, insurer_admin)
    assert client.get(f"/admin/{path}/", {"q": "DM-0001"}).status_code == 200


def test_the_contract_list_finds_by_policy_number_and_filters_by_agency(
    client, insurer_admin, contract, other_contract
):
    login_staff(client, insurer_admin)
    html = client.get("/admin/contracts/contract/", {"q": "OT-0001"}).content.decode()
    assert "OT-0001" in html and "DM-0001" not in html
    agency = contract.group.agency
    html = client.get(
        "/admin/contracts/contract/", {"group__agency__id__exact": agency.pk}
    ).content.decode()
    assert "DM-0001" in html and "OT-0001" not in html


def test_the_outbox_filters_by_status(client, insurer_admin, objects):
    OutboundMail.objects.filter(pk=objects["notifications/outboundmail"].pk).update(
        status="failed", last_error="550 mailbox unavailable"
    )
    login_staff(client, insurer_admin)
    html = client.get("/admin/notifications/outboundmail/", {"status__exact": "failed"})
    assert "taro@example.jp" in html.content.decode()
    html = client.get("/admin/notifications/outboundmail/", {"status__exact": "sent"})
    assert "taro@example.jp" not in html.content.decode()


def add_rows(member, start: int, count: int) -> None:
    """Rows each with its own agency, group and contract: related names a list could fetch
    one query per row."""
    for n in range(start, start + count):
        agency = make_agency(code=f"AG{n}", name=f"代理店{n}")
        group = make_group(agency=agency, code=f"G-{n}", name=f"団体{n}")
        contract = make_contract(group=group, policy_number=f"N-{n:04d}")
        make_application(contract, member, number=f"K-0000-0000-{n:03d}")


@pytest.mark.parametrize("path", ["contracts/group", "contracts/contract", "renewals/application"])
def test_a_list_costs_the_same_queries_for_two_rows_or_twelve(client, insurer_admin, member, path):
    """No query per row (list_select_related): the related names come with the rows."""
    login_staff(client, insurer_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/admin/{path}/").status_code == 200
        return len(captured)

    queries()  # the session's first request records the browser session: not counted
    add_rows(member, 0, 2)
    few = queries()
    add_rows(member, 2, 10)
    assert queries() == few


@pytest.mark.parametrize("who", ["clerk", "auditor", "member"])
def test_only_insurer_admins_get_in(client, clerk, auditor, member, objects, who):
    if who == "member":
        client.force_login(member)
    else:
        login_staff(client, {"clerk": clerk, "auditor": auditor}[who])
    for path in ("", *(f"{path}/" for path in MODELS)):
        response = client.get(f"/admin/{path}")
        assert response.status_code in (302, 403), (path, response.status_code)
        if response.status_code == 302:
            assert client.get(response["Location"]).status_code == 403, path
    detail = f"/admin/contracts/contract/{objects['contracts/contract'].pk}/change/"
    response = client.post(detail, {"holder_name": "変更"})
    assert response.status_code in (302, 403)
    assert Contract.objects.get(pk=objects["contracts/contract"].pk).holder_name == "継続 太郎"


def test_an_insurer_admin_without_the_second_factor_is_sent_to_log_in(client, insurer_admin):
    login_staff(client, insurer_admin, mfa=False)
    response = client.get("/admin/contracts/contract/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
