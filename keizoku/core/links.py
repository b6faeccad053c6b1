"""Absolute links for mails: a view's ``reverse()`` on the configured BASE_URL, never the Host."""

from typing import Any

from django.conf import settings
from django.urls import reverse


def absolute_url(viewname: str, *args: Any, **kwargs: Any) -> str:
    """``absolute_url("accounts:top")`` → ``https://keizoku.example.jp/mypage/``.

    Mails are read outside the site, so their links must be absolute; they are built from
    ``BASE_URL`` (the address we publish), never from a request's Host header (SECURITY.md).
    """
    return settings.BASE_URL + reverse(viewname, args=args or None, kwargs=kwargs or None)
