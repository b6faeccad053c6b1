"""URL path converters: ``<id:pk>`` is a database id, at most 18 ASCII digits; ``<code:…>`` an
agency's code (IMPORT_FORMATS.md: 1–16 ASCII letters and digits); ``<hex:…>`` a token we made
(``secrets.token_hex``).

Django's ``<int:…>`` takes any number of digits: 25 of them reach the database, where SQLite
answers OverflowError (a 500) for a foreign-key lookup; every id in our URLs uses ``<id:…>``, so
such a path is a plain 404 (found by ``tests/test_form_fuzz.py``). Likewise a NUL byte in a path
value reached PostgreSQL, which refuses it in a text parameter: values we look up by are matched
by their own format, so anything else is a 404 before a query.
"""

import re

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"  # always below 2**63 - 1, the largest BigAutoField

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class CodeConverter:
    regex = "[A-Za-z0-9]{1,16}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


HEX_PATTERN = "[0-9a-f]{1,64}"


def is_hex_token(value: str) -> bool:
    """A posted token that can be one of ours (checked before it is looked up)."""
    return re.fullmatch(HEX_PATTERN, value) is not None


class HexConverter(CodeConverter):
    regex = HEX_PATTERN


def register() -> None:
    register_converter(IdConverter, "id")
    register_converter(CodeConverter, "code")
    register_converter(HexConverter, "hex")
