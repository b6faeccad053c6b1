"""``{% session_timeout %}``: the idle-logout warning with 【延長】 on every logged-in page."""

from django import template

from keizoku.accounts import authn
from keizoku.core.fragments import render_once

register = template.Library()

WARN_BEFORE = 120  # seconds of warning before the idle logout


@register.simple_tag(takes_context=True)
def session_timeout(context: template.Context) -> str:
    """The dialog (``accounts/_session_timeout.html``), rendered once per language: only the
    numbers, the CSRF token and the nonce change from page to page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return ""
    times = authn.session_times(request)
    limits = authn.session_limits(user)
    return render_once(
        "accounts/_session_timeout.html",
        context,
        constants={"active": True},
        idle=limits.idle,
        absolute=max(0, times.absolute_left),
        warn=min(WARN_BEFORE, limits.idle // 2),
    )
