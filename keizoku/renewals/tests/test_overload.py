"""Overload: a full web process answers 「ただいま混雑しています」 (503, Retry-After) in place, having
done nothing, and the customer's reload resumes the wizard where they were (issue 11)."""

import html as html_lib
import re

import pytest

from keizoku.core import admission
from keizoku.renewals.models import Application

from .conftest import STEP_DATA, step_url, walk

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def full(settings):
    """One slot and no wait allowed: ``hold()`` occupies the slot as a long request would,
    ``release()`` frees it."""
    settings.ADMISSION_SLOTS = 1
    settings.ADMISSION_MAX_WAIT_MS = 0
    settings.ADMISSION_OVERLOAD_WAIT_MS = 0
    admission.gate_reset()
    gate = admission.gate()

    class Full:
        held = False

        def hold(self):
            assert gate.enter().admitted
            self.held = True

        def release(self):
            if self.held:
                gate.leave(0.01)
                self.held = False

    holder = Full()
    yield holder
    holder.release()
    admission.gate_reset()


def assert_busy_page(response, path: str) -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response
    page = response.content.decode()
    assert '<h1 id="busy-title">ただいま混雑しています</h1>' in page
    assert "5秒ほどお待ちいただいてから" in page
    assert "失敗" not in page
    assert "sessionid" not in response.cookies  # the session was not even read
    return page


@pytest.mark.django_db
def test_a_step_shown_while_full_gets_the_busy_page_in_place_and_a_reload_resumes(
    client, member, contract, full
):
    walk(client, contract, until="conditions")
    url = step_url(contract, "conditions")
    full.hold()
    page = assert_busy_page(client.get(url), url)
    assert f'href="{url}"' in page  # 【もう一度表示する】: the same page
    assert "これまでのお手続きの内容は保存されています" in page
    full.release()
    response = client.get(url)  # the reload
    assert response.status_code == 200
    assert "ご契約条件の確認" in response.content.decode()


@pytest.mark.django_db
def test_a_step_posted_while_full_is_not_processed_and_its_fields_are_sent_again(
    client, member, contract, full
):
    walk(client, contract, until="conditions")
    url = step_url(contract, "conditions")
    data = {**STEP_DATA["conditions"], "age_condition": "26"}
    full.hold()
    page = assert_busy_page(client.post(url, data), url)
    application = Application.objects.get()
    assert application.answers.conditions is None  # nothing was saved
    assert "conditions" not in application.completed_steps
    assert "まだ受け付けていません" in page and "入力した内容は失われていません" in page
    assert f'<form method="post" action="{url}">' in page
    fields = {name: html_lib.unescape(value) for name, value in HIDDEN.findall(page)}
    assert fields == data  # what the customer entered, to send again
    full.release()
    response = client.post(url, fields)  # 【もう一度送信する】 (a reload sends the same)
    assert response.status_code == 302
    assert response["Location"] == step_url(contract, "plan")
    application.refresh_from_db()
    assert application.answers.conditions.age_condition == "26"


@pytest.mark.django_db
def test_a_submit_while_full_is_not_taken_and_its_resend_is_taken_once(
    client, member, contract, full
):
    walk(client, contract)
    html = client.get(step_url(contract, "confirm")).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    data = {"intent": "on", "idempotency_key": key}
    full.hold()
    page = assert_busy_page(client.post(step_url(contract, "confirm"), data), "confirm")
    assert Application.objects.get().acceptance_number is None
    fields = {name: html_lib.unescape(value) for name, value in HIDDEN.findall(page)}
    full.release()
    response = client.post(step_url(contract, "confirm"), fields)
    assert response["Location"] == f"/clickar/{contract.pk}/complete/"
    again = client.post(step_url(contract, "confirm"), fields)  # a second reload
    assert again["Location"] == f"/clickar/{contract.pk}/complete/"
    assert Application.objects.filter(acceptance_number__isnull=False).count() == 1


@pytest.mark.django_db
def test_an_accepted_submit_whose_completion_page_is_shed_is_never_shown_as_failed(
    client, member, contract, full
):
    walk(client, contract)
    html = client.get(step_url(contract, "confirm")).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    response = client.post(step_url(contract, "confirm"), {"intent": "on", "idempotency_key": key})
    complete = response["Location"]
    full.hold()
    page = assert_busy_page(client.get(complete), complete)
    assert "エラー" not in page.split("error-page__code")[0]  # no failure wording before the code
    full.release()
    number = Application.objects.get().acceptance_number
    assert number in client.get(complete).content.decode()


@pytest.mark.django_db
def test_a_login_posted_while_full_never_echoes_the_password(client, full):
    full.hold()
    response = client.post(
        "/mypage/login/", {"login": "someone@example.jp", "password": "s3cret-Pass"}
    )
    page = assert_busy_page(response, "/mypage/login/")
    assert "s3cret-Pass" not in page
    assert "<form" not in page  # the reload sends it again; the page never holds it
    assert "再読み込みすると、同じ内容をもう一度お送りします" in page


@pytest.mark.django_db
def test_a_one_time_code_posted_while_full_is_never_echoed(client, full):
    full.hold()
    response = client.post("/mypage/2fa/authenticate/", {"code": "493027"})
    page = assert_busy_page(response, "/mypage/2fa/authenticate/")
    assert "493027" not in page and "<form" not in page


@pytest.mark.django_db
def test_probes_pass_a_full_gate_and_htmx_gets_a_fragment(client, member, contract, full):
    full.hold()
    assert client.get("/livez").status_code == 200
    assert client.get("/healthz").status_code == 200
    walk_url = step_url(contract, "plan")
    response = client.post(walk_url, {"plan": "custom"}, headers={"HX-Request": "true"})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.content.decode().strip().startswith('<p class="message message--warning"')
    assert "ただいま混雑しています" in response.content.decode()


@pytest.mark.django_db
def test_the_busy_page_follows_the_browsers_language(client, full):
    """Before the session is read, the language is the switch's cookie or Accept-Language."""
    full.hold()
    response = client.get("/mypage/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 503
    page = response.content.decode()
    assert '<html lang="en">' in page and "We are very busy right now" in page
    response = client.get("/mypage/", headers={"Accept-Language": "ja"})
    assert '<html lang="ja">' in response.content.decode()
