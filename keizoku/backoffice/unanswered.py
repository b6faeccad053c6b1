"""The back-office page of the questions the chat could not answer (/backoffice/chat/), for
agency staff and insurer admins (auditors read it): most asked first, with the FAQ entries the
chat offered instead, so that staff can see which entry is missing or badly worded."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from keizoku.chat import unanswered
from keizoku.chat.models import UnansweredQuestion
from keizoku.core import ja
from keizoku.core.audit import audit_record
from keizoku.help.content import faq_entries

from .auth import Role, staff_required

WRITERS = (Role.AGENCY_STAFF, Role.INSURER_ADMIN)


@require_GET
@staff_required
def unanswered_list(request: HttpRequest) -> HttpResponse:
    include_resolved = request.GET.get("show") == "all"
    questions = unanswered.unanswered_questions(include_resolved=include_resolved)
    page = Paginator(questions, 50).get_page(request.GET.get("page"))
    entries = {entry.id: entry for entry in faq_entries()}
    rows = [
        (question, [entries[i] for i in question.suggestions if i in entries]) for question in page
    ]
    return render(
        request,
        "backoffice/chat_unanswered.html",
        {
            "page": page,
            "rows": rows,
            "include_resolved": include_resolved,
            "query_string": "show=all" if include_resolved else "",
        },
    )


@require_POST
@staff_required(roles=WRITERS)
def unanswered_resolve(request: HttpRequest) -> HttpResponse:
    pk = ja.ascii_int(request.POST.get("id")) or 0
    question = get_object_or_404(UnansweredQuestion, pk=pk)
    with transaction.atomic():
        unanswered.resolve(question)
        audit_record(action="chat.unanswered_resolved", request=request, obj=question)
    messages.success(request, _("「%(text)s」を対応済みにしました。") % {"text": question.text})
    return redirect("backoffice:chat_unanswered")
