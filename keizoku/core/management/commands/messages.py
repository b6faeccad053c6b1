"""manage.py messages: the English catalogue brought up to date with the code (``make messages``).

Django's makemessages with the project's options, in one place (the catalogue test uses them
too): English only, file-only locations (line numbers would churn every diff), stale entries
dropped, and the staff-only back office left out (staff screens stay Japanese).
"""

import contextlib
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

MAKEMESSAGES_OPTIONS = {
    "locale": ["en"],
    "domain": "django",
    "ignore_patterns": [
        "keizoku/backoffice/*",
        "*/tests/*",
        "tests/*",
        "bench/*",
        "docs/*",
        "var/*",
        "staticfiles/*",
        "node_modules/*",
    ],
    "add_location": "file",
}


def makemessages(*, root: Path | None = None, **options) -> None:
    """Run makemessages over the sources under ``root`` (the repository by default): it walks
    the current directory and writes the catalogue of LOCALE_PATHS there."""
    with contextlib.chdir(root or settings.BASE_DIR):
        call_command("makemessages", **{**MAKEMESSAGES_OPTIONS, **options})


class Command(BaseCommand):
    help = (
        "Add new customer-visible strings to locale/en/LC_MESSAGES/django.po (then translate them)."
    )

    def handle(self, *args, **options):
        makemessages(no_obsolete=True, verbosity=options["verbosity"])
        self.stdout.write("Updated locale/en/LC_MESSAGES/django.po: translate every empty msgstr.")
