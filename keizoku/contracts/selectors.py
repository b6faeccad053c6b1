"""Reads of agencies, groups and contracts."""

from django.shortcuts import get_object_or_404

from .models import Agency


def agency_get_public(*, code: str) -> Agency:
    """The agency whose site is /agency/<code>/, or 404."""
    return get_object_or_404(Agency, code=code)
