"""/dev/mailbox/: the developer's mailbox for EMAIL_URL=mailbox: (404 unless DEBUG is on)."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .models import MailboxMessage


def _require_debug() -> None:
    if not settings.DEBUG:
        raise Http404


@require_GET
def mailbox(request: HttpRequest) -> HttpResponse:
    _require_debug()
    messages = MailboxMessage.objects.all()[:200]
    return render(request, "notifications/mailbox.html", {"mails": messages})


@require_GET
def mailbox_message(request: HttpRequest, pk: int) -> HttpResponse:
    _require_debug()
    message = get_object_or_404(MailboxMessage, pk=pk)
    return render(request, "notifications/mailbox_message.html", {"mail": message})
