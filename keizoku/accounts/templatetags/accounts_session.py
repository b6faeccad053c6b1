"""``{% session_timeout %}``: the idle-logout warning with 【延長】 on every logged-in page."""

from django import template

from keizoku.accounts import authn

register = template.Library()

WARN_BEFORE = 120  # seconds of warning before the idle logout


@register.inclusion_tag("accounts/_session_timeout.html", takes_context=True)
def session_timeout(context: template.Context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return {"active": False}
    times = authn.session_times(request)
    limits = authn.session_limits(user)
    return {
        "active": True,
        "idle": limits.idle,
        "absolute": max(0, times.absolute_left),
        "warn": min(WARN_BEFORE, limits.idle // 2),
        "csrf_token": context.get("csrf_token"),
        "csp_nonce": context.get("csp_nonce"),
    }
