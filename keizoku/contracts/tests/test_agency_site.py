"""The agency site: three clicks from the agency home to the MyPage login page (guide ①②③)."""

import pytest

from tests.factories import make_agency

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency():
    return make_agency(code="DEMO", name="デモ保険サービス")


def test_the_agency_home_links_to_auto_insurance(client, agency):
    response = client.get("/agency/DEMO/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "デモ保険サービス" in html
    assert '<a href="/agency/DEMO/auto/">自動車保険</a>' in html


def test_the_auto_page_links_to_clickar(client, agency):
    html = client.get("/agency/DEMO/auto/").content.decode()
    assert '<a href="/agency/DEMO/auto/clickar/">インターネットで継続手続き（Clickar）</a>' in html


def test_the_clickar_page_has_the_mypage_button(client, agency):
    html = client.get("/agency/DEMO/auto/clickar/").content.decode()
    assert '<a class="button" href="/mypage/login/">マイページへ</a>' in html


def test_the_footer_shows_the_agency_contact(client, agency):
    html = client.get("/agency/DEMO/").content.decode()
    assert "0120-111-222" in html


@pytest.mark.parametrize(
    "path", ["/agency/NOPE/", "/agency/NOPE/auto/", "/agency/NOPE/auto/clickar/"]
)
def test_an_unknown_agency_answers_404_in_japanese(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()


def test_the_agency_pages_refuse_post(client, agency):
    assert client.post("/agency/DEMO/").status_code == 405


def test_the_mypage_login_page_shows_the_login_form(client):
    response = client.get("/mypage/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "ID（メールアドレス）" in html
    assert "パスワード" in html
    assert ">ログイン</button>" in html
