"""Template context every page needs; nothing here touches the database (error pages use it)."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {"SITE_NAME": "継続（Keizoku）", "DEBUG": settings.DEBUG}
