"""Page parts that are the same on every page: rendered once per language and process.

The AI chat widget and the session-timeout dialog sit at the bottom of every page; rendered
through the template engine each time they were a third of a wizard page's template work. Their
HTML depends only on the language, the request's CSRF token and CSP nonce, and a few numbers
(``values``): ``render_once`` renders the template once with markers in their place and, for
each request, puts the real ones in. A fragment must use nothing else from the page's context;
``keizoku/core/tests/test_fragments.py`` renders each one both ways and requires the same HTML.
"""

import secrets
import threading

from django.template.loader import get_template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

_MARK = f"kzmark{secrets.token_hex(8)}"  # letters and digits only: unchanged by escaping
_cache: dict[tuple, str] = {}
_lock = threading.Lock()


def _marker(name: str) -> str:
    return f"{_MARK}{name}{_MARK}"


def render_once(template_name: str, context, constants: dict | None = None, **values) -> SafeString:
    """``template_name`` rendered with ``values`` (escaped as ``{{ value }}`` would be), the
    CSRF token and the CSP nonce of ``context`` (the page's template context). ``constants``
    (few, hashable) are rendered as they are and are part of the cache key."""
    constants = constants or {}
    key = (template_name, get_language(), tuple(sorted(values)), tuple(sorted(constants.items())))
    html = _cache.get(key)
    if html is None:
        markers = {name: _marker(name) for name in values}
        html = get_template(template_name).render(
            {
                **constants,
                **markers,
                "csrf_token": _marker("csrf_token"),
                "csp_nonce": _marker("csp_nonce"),
            }
        )
        with _lock:
            _cache[key] = html
    real = {
        **{name: conditional_escape(value) for name, value in values.items()},
        "csrf_token": conditional_escape(context.get("csrf_token") or ""),
        "csp_nonce": conditional_escape(context.get("csp_nonce") or ""),
    }
    for name, value in real.items():
        html = html.replace(_marker(name), str(value))
    return mark_safe(html)  # noqa: S308 - our own template's output, every value escaped above


def forget() -> None:
    """Drop the rendered fragments (tests that change templates or settings)."""
    with _lock:
        _cache.clear()
