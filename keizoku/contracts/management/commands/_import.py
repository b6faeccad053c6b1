"""What import_groups and import_contracts share: read the file, report, exit non-zero on refusal."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError


class ImportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser):
        parser.add_argument(
            "file", type=Path, help="CSV file (UTF-8 with or without BOM, or CP932)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report without writing anything"
        )

    def run_import(self, **kwargs):
        raise NotImplementedError

    def handle(self, *args, file: Path, dry_run: bool, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        try:
            result = self.run_import(
                data=data, source=file.name, imported_by="cli", dry_run=dry_run
            )
        except OperationalError as error:
            # A lock not had within IMPORT_LOCK_TIMEOUT seconds: nothing was written.
            raise CommandError(
                f"the database stayed locked ({error}): nothing was imported, try again later",
                returncode=1,
            ) from None
        if not result.ok:
            for problem in result.errors:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(result.errors)} error(s): nothing was imported from {file.name}",
                returncode=1,
            )
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            f"{verb} {self.kind} from {file.name}: {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged"
        )
