"""Facts about the request that several apps need, computed one way."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The customer's address as the rate limits see it: through ``TRUSTED_PROXY_COUNT`` proxies
    (X-Forwarded-For), else the socket's. None when it cannot be determined."""
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return None
