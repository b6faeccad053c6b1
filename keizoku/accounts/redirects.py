"""Where ``?next=`` may send a visitor: only to a path of this site (SECURITY.md, open redirects)."""

from urllib.parse import unquote, urlsplit

from django.utils.http import url_has_allowed_host_and_scheme


def is_own_path(url: str | None) -> bool:
    """``/mypage/…`` yes; ``//evil``, ``/\\evil``, ``https://…``, ``javascript:…`` never."""
    if not url or not isinstance(url, str) or len(url) > 2000:
        return False
    # Checked as sent and once decoded: ``/%2F/evil`` or ``/%09/evil`` are refused too.
    for form in (url, unquote(url)):
        if not form.startswith("/") or form.startswith("//") or "\\" in form:
            return False
        if any(ord(char) < 0x21 or ord(char) == 0x7F for char in form):
            return False
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return False
    return url_has_allowed_host_and_scheme(url, allowed_hosts=set(), require_https=False)
