"""Template filters shared by every app: yen amounts and JST dates as a Japanese customer reads them."""

from django import template
from django.utils.translation import gettext as _

from keizoku.core.fragments import render_once

register = template.Library()


@register.filter
def yen(amount) -> str:
    """71720 → 「71,720円」 (integers only: money is never a float here)."""
    if amount is None or amount == "":
        return ""
    return _("%(amount)s円") % {"amount": f"{int(amount):,}"}


@register.simple_tag(takes_context=True)
def include_once(context: template.Context, template_name: str) -> str:
    """``{% include %}`` of a part that is the same on every page but for the CSRF token and the
    CSP nonce, rendered once per language (``keizoku.core.fragments``)."""
    return render_once(template_name, context)
