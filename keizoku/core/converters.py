"""URL path converters: ``<id:pk>`` is a database id, at most 18 ASCII digits.

Django's ``<int:…>`` takes any number of digits: 25 of them reach the database, where SQLite
answers OverflowError (a 500) for a foreign-key lookup; every id in our URLs uses ``<id:…>``, so
such a path is a plain 404 (found by ``tests/test_form_fuzz.py``).
"""

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"  # always below 2**63 - 1, the largest BigAutoField

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def register() -> None:
    register_converter(IdConverter, "id")
