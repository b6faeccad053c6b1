"""「WEB更改サービスご説明サイト」: the procedure page by page, and the FAQ by category."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .content import faq_by_category, faq_entries, help_page, help_pages


def _neighbours(slug: str):
    pages = help_pages()
    index = next(i for i, page in enumerate(pages) if page.slug == slug)
    previous = pages[index - 1] if index > 0 else None
    following = pages[index + 1] if index + 1 < len(pages) else None
    return previous, following


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "help/index.html",
        {"pages": help_pages(), "categories": faq_by_category(), "faq_count": len(faq_entries())},
    )


@require_GET
def page(request: HttpRequest, slug: str) -> HttpResponse:
    help = help_page(slug)
    if help is None:
        raise Http404
    previous, following = _neighbours(slug)
    return render(
        request,
        "help/page.html",
        {
            "page": help,
            "pages": help_pages(),
            "entries": [entry for entry in faq_entries() if entry.page == slug],
            "previous": previous,
            "following": following,
            "crumb": help.shown_title,
            "current": help.slug,
        },
    )


@require_GET
def faq(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "help/faq.html",
        {
            "pages": help_pages(),
            "categories": faq_by_category(),
            "crumb": _("よくあるご質問"),
            "current": "faq",
        },
    )
