"""The help site over HTTP, and its link on the login page, every MyPage page and the wizard."""

import html

import pytest
from django.urls import reverse

from keizoku.accounts.models import PolicyLink
from keizoku.help.content import CATEGORIES, faq_entries, help_pages
from tests.factories import make_contract, make_group, make_member

PASSWORD = "x9Lq2!zz"
HELP_LINK = '<a href="/help/">WEB更改サービスご説明サイト</a>'


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_index_lists_the_procedure_and_the_faq(client):
    response = client.get(reverse("help:index"))
    assert response.status_code == 200
    body = text(response)
    assert "<h1>WEB更改サービスご説明サイト</h1>" in body
    for page in help_pages():
        assert f'href="{page.url}"' in body and page.title in body
    assert 'href="/help/faq/"' in body
    for label in CATEGORIES.values():
        assert label in body
    assert 'href="/mypage/login/"' in body


@pytest.mark.parametrize("slug", [page.slug for page in help_pages()])
def test_each_page_shows_its_steps_screens_and_faq(client, slug):
    page = next(p for p in help_pages() if p.slug == slug)
    response = client.get(f"/help/{slug}/")
    assert response.status_code == 200
    body = text(response)
    assert f"<h1>{page.title}</h1>" in body
    assert f'aria-current="page">{page.title}</a>' in body  # the table of contents
    for step in page.steps:
        assert step.heading in body
        if step.image:
            assert f'src="/static/help/screens/{step.image}" alt="{step.alt}"' in body
    entries = [entry for entry in faq_entries() if entry.page == slug]
    assert entries
    for entry in entries:
        assert f'id="faq-{entry.id}"' in body
        assert entry.question in body
        assert entry.answer.splitlines()[0] in body


def test_every_faq_url_the_chat_cites_lands_on_its_answer(client):
    bodies: dict[str, str] = {}
    for entry in faq_entries():
        path, anchor = entry.url.split("#")
        if path not in bodies:
            response = client.get(path)
            assert response.status_code == 200, path
            bodies[path] = text(response)
        assert f'id="{anchor}"' in bodies[path]


def test_the_faq_page_groups_every_entry_by_category(client):
    response = client.get(reverse("help:faq"))
    assert response.status_code == 200
    body = text(response)
    for key, label in CATEGORIES.items():
        assert f'<h2 id="category-{key}-title">{label}</h2>' in body
    for entry in faq_entries():
        assert f'id="faq-{entry.id}"' in body
    # Entries appear under their own category heading.
    for entry in faq_entries():
        heading = body.index(f'id="category-{entry.category}-title"')
        following = [
            body.index(f'id="category-{key}-title"')
            for key in CATEGORIES
            if body.index(f'id="category-{key}-title"') > heading
        ]
        position = body.index(f'id="faq-{entry.id}"')
        assert heading < position < min(following, default=len(body)), entry.id


def test_an_unknown_page_is_a_japanese_404_and_the_site_is_read_only(client):
    response = client.get("/help/no-such-page/")
    assert response.status_code == 404
    assert "ページが見つかりません" in text(response)
    assert client.post("/help/").status_code == 405
    assert client.post("/help/start/").status_code == 405


def test_the_screenshots_are_served(client):
    image = next(step.image for page in help_pages() for step in page.steps if step.image)
    response = client.get(f"/static/help/screens/{image}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_the_login_page_links_to_the_help_site(client):
    response = client.get("/mypage/login/")
    assert response.status_code == 200
    assert HELP_LINK in text(response)


@pytest.mark.django_db
def test_every_mypage_page_and_the_wizard_link_to_the_help_site(client):
    contract = make_contract(group=make_group(renewal_window_days=60), policy_number="P-0001")
    member = make_member("member@example.jp", PASSWORD)
    PolicyLink.objects.create(member=member, contract=contract)
    response = client.post("/mypage/login/", {"login": member.email, "password": PASSWORD})
    assert response.status_code == 302

    pages = [
        "/mypage/",
        "/mypage/renewals/",
        "/mypage/policies/link/",
        reverse("account_email"),
        reverse("account_change_password"),
        reverse("mfa_index"),
        reverse("usersessions_list"),
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert HELP_LINK in text(response), path

    # The wizard: its start redirects to the first step; every step page extends base.html.
    response = client.get(f"/clickar/{contract.pk}/", follow=True)
    assert response.status_code == 200
    body = text(response)
    assert "個人情報の取扱いについて" in body
    assert HELP_LINK in body


@pytest.mark.django_db
def test_the_registration_pages_link_to_the_help_site(client):
    for path in ("/mypage/register/", "/mypage/register/terms/", reverse("account_reset_password")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert HELP_LINK in text(response), path
