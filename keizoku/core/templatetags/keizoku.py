"""Template filters shared by every app: yen amounts and JST dates as a Japanese customer reads them."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def yen(amount) -> str:
    """71720 → 「71,720円」 (integers only: money is never a float here)."""
    if amount is None or amount == "":
        return ""
    return _("%(amount)s円") % {"amount": f"{int(amount):,}"}


@register.filter
def signed_yen(amount) -> str:
    """A difference: 620 → 「+620円」, -1230 → 「-1,230円」, 0 → 「0円」."""
    if amount is None or amount == "":
        return ""
    amount = int(amount)
    return ("+" if amount > 0 else "") + yen(amount)
