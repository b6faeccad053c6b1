"""manage.py export_applications FILE [--encoding utf-8-sig|cp932]: every application past draft,
for the insurer (nightly) or a payroll system.

Exit status: 0 when the file was written with every character as it is; 3 when it was written
but characters CP932 cannot hold were substituted (each reported on stderr: row, column,
character, substitute); 1 when nothing was written (an error).
"""

import io
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from keizoku.renewals.exports import (
    APPLICATION_COLUMNS,
    CP932,
    ENCODINGS,
    UTF8_BOM,
    application_rows,
    exportable_applications,
    write_csv,
)

SUBSTITUTED = 3  # the exit status of a file written with substitutions


class Command(BaseCommand):
    help = (
        "Write every application past draft to FILE (CSV, CRLF; UTF-8 with BOM, or CP932 with "
        "every character it cannot hold substituted and reported); '-' for stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file to write (replaced atomically), or -")
        parser.add_argument(
            "--encoding",
            choices=ENCODINGS,
            default=UTF8_BOM,
            help="utf-8-sig (default: UTF-8 with BOM, as Excel opens it) or cp932 (Shift_JIS "
            "for payroll systems; exit status 3 when characters were substituted)",
        )

    def handle(self, *args, file: str, encoding: str, **options):
        rows = application_rows(exportable_applications())
        if file == "-":
            written = self._to_stdout(rows, encoding)
        else:
            target = Path(file)
            # Written beside the target, then renamed: the insurer's job never reads half a file.
            fd, temp = tempfile.mkstemp(dir=target.parent or ".", suffix=".part")
            try:
                with os.fdopen(fd, "w", encoding=encoding, newline="") as out:
                    written = write_csv(out, APPLICATION_COLUMNS, rows, encoding=encoding)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        self.stderr.write(f"{written.rows} applications exported ({encoding})")
        if written.substitutions:
            for substitution in written.substitutions:
                self.stderr.write(str(substitution))
            raise CommandError(
                f"{len(written.substitutions)} character(s) that CP932 cannot hold were "
                "substituted (rule: docs/decisions.md, 'Exports in CP932'); the file was written",
                returncode=SUBSTITUTED,
            )

    def _to_stdout(self, rows, encoding: str):
        if encoding == UTF8_BOM:
            # A terminal or a pipe: UTF-8 text, without the BOM a file gets.
            return write_csv(self.stdout, APPLICATION_COLUMNS, rows, encoding=encoding)
        # CP932 bytes go to the binary stream under stdout, whatever the locale's encoding.
        stream = getattr(self.stdout, "_out", self.stdout)
        binary = getattr(stream, "buffer", None)
        if binary is None:
            raise CommandError("stdout cannot take bytes: give a FILE for --encoding cp932")
        stream.flush()
        out = io.TextIOWrapper(binary, encoding=CP932, newline="", write_through=True)
        try:
            return write_csv(out, APPLICATION_COLUMNS, rows, encoding=encoding)
        finally:
            out.detach()  # leave stdout's own buffer open
