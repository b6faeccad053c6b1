"""manage.py export_applications FILE: every application past draft, for the insurer (nightly)."""

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from keizoku.renewals.exports import (
    APPLICATION_COLUMNS,
    BOM,
    application_rows,
    exportable_applications,
    write_csv,
)


class Command(BaseCommand):
    help = "Write every application past draft to FILE (CSV, UTF-8 with BOM, CRLF); '-' for stdout."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file to write (replaced atomically), or -")

    def handle(self, *args, file: str, **options):
        rows = application_rows(exportable_applications())
        if file == "-":
            count = write_csv(self.stdout, APPLICATION_COLUMNS, rows)
        else:
            target = Path(file)
            # Written beside the target, then renamed: the insurer's job never reads half a file.
            fd, temp = tempfile.mkstemp(dir=target.parent or ".", suffix=".part")
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                    out.write(BOM)
                    count = write_csv(out, APPLICATION_COLUMNS, rows)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        self.stderr.write(f"{count} applications exported")
