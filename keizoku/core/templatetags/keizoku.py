"""Template filters shared by every app: yen amounts and dates in the customer's language."""

from django import template
from django.utils.html import format_html

from keizoku.core import l10n
from keizoku.core.fragments import render_once
from keizoku.core.links import absolute_url as _absolute_url

register = template.Library()


@register.simple_tag
def absolute_url(viewname: str, *args) -> str:
    """``{% absolute_url "accounts:top" %}``: a link for a mail, on BASE_URL (core.links)."""
    return _absolute_url(viewname, *args)


@register.filter
def yen(amount) -> str:
    """71720 → 「71,720円」 / "¥71,720" (integers only: money is never a float here)."""
    return l10n.yen(amount)


@register.filter
def yen_large(amount) -> str:
    """30000000 → 「3,000万円」 / "¥30,000,000"."""
    return l10n.yen_large(int(amount))


@register.filter
def deadline(moment) -> str:
    """2026年12月25日（金）15時59分 / Friday, December 25, 2026, 15:59 (JST)."""
    return l10n.deadline(moment)


@register.filter
def tel_link(phone) -> str:
    """A phone number as a link that dials it."""
    if not phone:
        return ""
    return format_html('<a href="tel:{}">{}</a>', phone, phone)


@register.filter
def ja(value) -> str:
    """Japanese data in an English page (a name, an address, a car, an agency's hours): marked
    ``lang="ja"`` so that screen readers read it in Japanese. Unchanged on a Japanese page."""
    if value in (None, "") or l10n.is_japanese():
        return value
    return format_html('<span lang="ja">{}</span>', value)


@register.filter
def signed_yen(amount) -> str:
    """A difference: 620 → 「+620円」 / "+¥620", -1230 → 「-1,230円」, 0 → 「0円」."""
    if amount is None or amount == "":
        return ""
    return ("+" if int(amount) > 0 else "") + l10n.yen(amount)


@register.simple_tag(takes_context=True)
def include_once(context: template.Context, template_name: str, **values) -> str:
    """``{% include %}`` of a part that is the same on every page but for the CSRF token, the
    CSP nonce and ``values`` (per request, escaped as ``{{ value }}`` is), rendered once per
    language (``keizoku.core.fragments``)."""
    return render_once(template_name, context, **values)


@register.simple_tag(takes_context=True)
def include_for(context: template.Context, template_name: str, **constants) -> str:
    """``{% include %}`` of a part that depends only on the language and ``constants`` (few
    values, each rendered as the template renders it; a list counts as the tuple of its sorted
    items): rendered once per language and constants (``keizoku.core.fragments``)."""
    key = {
        name: tuple(sorted(value)) if isinstance(value, (list, set, frozenset)) else value
        for name, value in constants.items()
    }
    return render_once(template_name, context, key)
