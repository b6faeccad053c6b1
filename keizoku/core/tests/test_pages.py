"""Every page's security headers (SECURITY.md) and the Japanese error pages."""

import re

import pytest
from django.db import OperationalError
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from config import urls as project_urls

pytestmark = pytest.mark.django_db


def database_down(request):
    raise OperationalError("connection refused")


def broken(request):
    raise RuntimeError("a bug")


def forbidden(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


def ok(request):
    return HttpResponse("ok")


urlpatterns = [
    path("boom/db/", database_down),
    path("boom/bug/", broken),
    path("boom/forbidden/", forbidden),
    path("form/", ok),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.fixture
def broken_site(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def test_every_page_gets_a_strict_csp_whose_nonce_matches_its_scripts(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "base-uri 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script[^>]*>", response.content.decode())
    assert scripts
    assert all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert client.get("/")["Content-Security-Policy"] != csp  # a new nonce per response


def test_every_page_gets_the_other_security_headers(client):
    response = client.get("/agency/NOPE/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "no-store" in response["Cache-Control"]
    assert "Strict-Transport-Security" not in response  # plain http on a laptop


def test_production_settings_send_hsts_and_redirect_to_https(settings):
    settings.SECURE_HSTS_SECONDS = 63072000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/")["Location"].startswith("https://")
    response = client.get("/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == ("max-age=63072000; includeSubDomains; preload")


def test_a_missing_page_is_a_japanese_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "ページが見つかりません" in html
    assert "no-store" in response["Cache-Control"]


def test_a_refusal_is_a_japanese_403(broken_site):
    response = broken_site.get("/boom/forbidden/")
    assert response.status_code == 403
    assert "アクセスできません" in response.content.decode()


def test_a_bug_is_a_japanese_500_without_details(broken_site):
    response = broken_site.get("/boom/bug/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "システムエラーが発生しました" in html
    assert "a bug" not in html
    assert "Traceback" not in html


def test_a_database_outage_is_a_japanese_503_with_retry_after(broken_site):
    response = broken_site.get("/boom/db/")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    html = response.content.decode()
    assert "ただいまサービスを利用できません" in html
    assert "connection refused" not in html


def test_a_post_without_the_csrf_token_is_refused_in_japanese():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/mypage/login/", {"login": "a@example.jp", "password": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "ページを再読み込みし、もう一度送信してください" in html


def test_behind_a_proxy_limits_and_the_audit_trail_see_each_customers_address(settings):
    from keizoku.core.models import AuditEvent
    from tests.factories import make_member

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    make_member("taro@example.jp", "x9Lq2!zz")

    def login(ip):
        return Client(HTTP_X_FORWARDED_FOR=ip).post(
            "/mypage/login/", {"login": "taro@example.jp", "password": "x9Lq2!zz"}
        )

    assert login("203.0.113.1").status_code == 302
    assert login("203.0.113.1").status_code == 302
    assert login("203.0.113.1").status_code == 429  # this customer's limit
    assert login("203.0.113.2").status_code == 302  # another customer behind the same proxy
    ips = set(AuditEvent.objects.exclude(ip=None).values_list("ip", flat=True))
    assert ips <= {"203.0.113.1", "203.0.113.2"}
    assert "203.0.113.2" in ips
