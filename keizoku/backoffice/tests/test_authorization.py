"""Who reaches which back-office URL: the list of URLs comes from the urlconf itself."""

from urllib.parse import unquote

import pytest
from django.urls import URLPattern, reverse

from keizoku.backoffice import urls as backoffice_urls
from keizoku.backoffice.models import ImportJob
from keizoku.core.models import AuditEvent

from .conftest import login_staff, make_application, make_staff, totp_code

pytestmark = pytest.mark.django_db

POST_ONLY = {
    "application_accept",
    "application_refer",
    "application_withdraw",
    "import_confirm",
    "chat_unanswered_resolve",
}


def _patterns() -> list[URLPattern]:
    return [p for p in backoffice_urls.urlpatterns if isinstance(p, URLPattern)]


def _protected() -> list[str]:
    return [p.name for p in _patterns() if p.name not in backoffice_urls.PUBLIC]


def _object_kwargs(name: str, *, contract, application, group, import_job) -> dict:
    """The object each URL is about (a new URL with an argument must be added here)."""
    pattern = next(p for p in _patterns() if p.name == name)
    if not pattern.pattern.converters:
        return {}
    objects = {
        "contract_detail": contract,
        "application_detail": application,
        "application_accept": application,
        "application_refer": application,
        "application_withdraw": application,
        "export_payroll": group,
        "export_payroll_cp932": group,
    }
    if name == "import_status":
        return {"token": import_job.token}  # the clerk's own import, by its unguessable token
    assert name in objects, f"add the object of the new URL {name!r} to this test"
    return {"pk": objects[name].pk}


def _request(client, name: str, kwargs: dict):
    url = reverse(f"backoffice:{name}", kwargs=kwargs)
    data = {"version": 1, "message": "確認してください", "token": "x"}
    if name in POST_ONLY:
        return client.post(url, data)
    return client.get(url)


@pytest.fixture
def objects(contract, application, group, clerk):
    import_job = ImportJob.objects.create(
        token="0" * 48, requested_by=clerk, kind="contracts", source="c.csv", status="done"
    )
    return {
        "contract": contract,
        "application": application,
        "group": group,
        "import_job": import_job,
    }


def test_every_view_but_login_and_logout_is_behind_staff_required():
    for pattern in _patterns():
        if pattern.name in backoffice_urls.PUBLIC:
            continue
        assert getattr(pattern.callback, "staff_required", False), pattern.name


@pytest.mark.parametrize("name", _protected())
def test_anonymous_visitors_are_sent_to_the_staff_login_and_it_is_logged(
    client, objects, name, caplog
):
    response = _request(client, name, _object_kwargs(name, **objects))
    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/login/?next=")
    assert "backoffice login required" in caplog.text
    objects["application"].refresh_from_db()
    assert objects["application"].status == "submitted"


@pytest.mark.parametrize("name", _protected())
def test_a_customer_is_refused_and_it_is_logged(client, objects, member, name, caplog):
    client.force_login(member)
    response = _request(client, name, _object_kwargs(name, **objects))
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="backoffice.denied")
    assert event.actor == member
    assert event.details["reason"] == "not_staff"
    assert "backoffice access refused" in caplog.text


@pytest.mark.parametrize("name", sorted(set(_protected()) - {"mfa_setup"}))
def test_staff_without_two_step_login_are_sent_to_set_it_up(client, objects, agency, name):
    clerk = make_staff("new@demo.example.jp", "agency_staff", agency, totp=False)
    login_staff(client, clerk, mfa=False)
    response = _request(client, name, _object_kwargs(name, **objects))
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/mfa/setup/"


def test_staff_who_skipped_the_second_factor_log_in_again(client, clerk):
    login_staff(client, clerk, mfa=False)
    response = client.get("/backoffice/")
    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/login/")
    assert "_auth_user_id" not in client.session


OBJECT_URLS = [
    name
    for name in _protected()
    if next(p for p in _patterns() if p.name == name).pattern.converters
]


@pytest.mark.parametrize("name", OBJECT_URLS)
def test_another_agencys_clerk_gets_404_on_objects_and_it_is_logged(
    client, objects, other_clerk, name
):
    login_staff(client, other_clerk)
    response = _request(client, name, _object_kwargs(name, **objects))
    assert response.status_code == 404
    event = AuditEvent.objects.get(action="backoffice.not_found")
    assert event.actor == other_clerk


def test_another_agencys_group_filter_answers_404(client, group, other_clerk):
    login_staff(client, other_clerk)
    assert client.get(f"/backoffice/contracts/?group={group.pk}").status_code == 404
    assert client.get(f"/backoffice/contracts/?agency={group.agency_id}").status_code == 404


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_an_auditor_can_read_but_every_post_is_refused(client, objects, auditor, name):
    login_staff(client, auditor)
    response = _request(client, name, _object_kwargs(name, **objects))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="backoffice.denied", actor=auditor).exists()
    objects["application"].refresh_from_db()
    assert objects["application"].status == "submitted"


@pytest.mark.parametrize(
    "name",
    sorted(set(_protected()) - POST_ONLY - {"import_upload", "import_status", "mfa_setup"}),
)
def test_an_auditor_reads_every_page(client, objects, auditor, name):
    login_staff(client, auditor)
    assert _request(client, name, _object_kwargs(name, **objects)).status_code == 200


@pytest.mark.parametrize("name", sorted(set(_protected()) - POST_ONLY - {"audit", "mfa_setup"}))
def test_the_agencys_clerk_reads_every_page_of_their_agency(client, objects, clerk, name):
    login_staff(client, clerk)
    response = _request(client, name, _object_kwargs(name, **objects))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_the_audit_trail_is_for_the_insurer_only(client, clerk, insurer_admin):
    login_staff(client, clerk)
    assert client.get("/backoffice/audit/").status_code == 403
    login_staff(client, insurer_admin)
    assert client.get("/backoffice/audit/").status_code == 200


def test_the_staff_login_refuses_a_customers_right_password(client, member):
    response = client.post("/backoffice/login/", {"login": member.email, "password": "x9Lq2!zz"})
    assert response.status_code == 200
    assert "メールアドレスまたはパスワードが正しくありません。" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_staff_login_then_the_totp_code_opens_the_dashboard(client, clerk):
    response = client.post(
        "/backoffice/login/?next=/backoffice/contracts/",
        {"login": clerk.email, "password": "Staff-pass-2026", "next": "/backoffice/contracts/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get("/backoffice/").status_code == 302  # not logged in yet
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(clerk.totp_secret)})
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/contracts/"
    assert client.get("/backoffice/contracts/").status_code == 200


def test_a_new_clerk_sets_up_totp_at_first_login(client, agency):
    clerk = make_staff("first@demo.example.jp", "agency_staff", agency, totp=False)
    response = client.post(
        "/backoffice/login/", {"login": clerk.email, "password": "Staff-pass-2026"}
    )
    assert response["Location"] == "/backoffice/"
    assert client.get("/backoffice/")["Location"] == "/backoffice/mfa/setup/"
    page = client.get("/backoffice/mfa/setup/")
    secret = page.context["secret"]
    response = client.post("/backoffice/mfa/setup/", {"code": totp_code(secret)})
    assert response.status_code == 200
    assert "二段階認証を設定しました" in response.content.decode()
    assert client.get("/backoffice/").status_code == 200
    assert AuditEvent.objects.filter(action="staff.mfa_activated", actor=clerk).exists()


def test_django_admin_is_for_insurer_admins_behind_the_staff_login(client, clerk, insurer_admin):
    response = client.get("/admin/", follow=True)
    assert unquote(response.redirect_chain[-1][0]).startswith("/backoffice/login/?next=/admin/")
    login_staff(client, clerk)
    assert client.get("/admin/", follow=True).status_code == 403
    login_staff(client, insurer_admin)
    assert client.get("/admin/").status_code == 200


def test_an_insurer_admin_sees_every_agency(client, objects, other_contract, insurer_admin):
    login_staff(client, insurer_admin)
    assert client.get(f"/backoffice/contracts/{other_contract.pk}/").status_code == 200
    other_app = make_application(
        other_contract, objects["application"].member, number="K-0000-0000-002"
    )
    assert client.get(f"/backoffice/applications/{other_app.pk}/").status_code == 200
