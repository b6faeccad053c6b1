"""The chat's one view: a full page without JavaScript, a fragment for the widget's htmx POST."""

from allauth.core import ratelimit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import unanswered
from .answers import MAX_LENGTH, QuestionError, answer, clean_question


@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    htmx = request.headers.get("HX-Request") == "true"
    context: dict[str, object] = {
        "max_length": MAX_LENGTH,
        "answer": None,
        "error": "",
        "question": "",
    }
    status = 200
    if request.method == "POST":
        raw = request.POST.get("question", "")
        context["question"] = raw[: MAX_LENGTH * 2]  # refilled on an error, never unbounded
        try:
            if not ratelimit.consume(request, action="chat"):
                raise QuestionError(
                    _("短時間に多くの質問をいただいたため、しばらくしてからお試しください。")
                )
            question = clean_question(raw)
        except QuestionError as error:
            context["error"] = str(error)
            # The widget swaps only 2xx answers into its log; the full page says 400.
            status = 200 if htmx else 400
        else:
            now = timezone.now()
            result = answer(
                question=question,
                member=request.user,
                now=now,
                page_language=translation.get_language() or "ja",
            )
            if not result.confident and not result.personal:
                # For the staff who write the FAQ: masked, and never who asked.
                unanswered.record(
                    question,
                    language=result.language,
                    suggestions=[entry.id for entry in result.suggestions],
                    confidence=result.confidence,
                    now=now,
                )
            context["answer"] = result
            context["question"] = ""
    template = "chat/_exchange.html" if htmx and request.method == "POST" else "chat/page.html"
    return render(request, template, context, status=status)
