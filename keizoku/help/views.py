from django.http import Http404
from django.shortcuts import render

from .content import faq_entries


def index(request):
    return render(request, "help/index.html", {"entries": faq_entries()})


def page(request, slug):
    entries = [entry for entry in faq_entries() if entry.page == slug]
    if not entries:
        raise Http404
    return render(request, "help/page.html", {"slug": slug, "entries": entries})
