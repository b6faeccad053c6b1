"""The agency site (代理店サイト): the three pages from which customers reach MyPage (guide ①②③)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .selectors import agency_get_public


@require_GET
def agency_home(request: HttpRequest, agency_code: str) -> HttpResponse:
    agency = agency_get_public(code=agency_code)
    return render(request, "contracts/agency_home.html", {"agency": agency})


@require_GET
def agency_auto(request: HttpRequest, agency_code: str) -> HttpResponse:
    agency = agency_get_public(code=agency_code)
    return render(request, "contracts/agency_auto.html", {"agency": agency})


@require_GET
def agency_clickar(request: HttpRequest, agency_code: str) -> HttpResponse:
    agency = agency_get_public(code=agency_code)
    return render(request, "contracts/agency_clickar.html", {"agency": agency})
