"""manage.py import_contracts FILE: contracts.csv of IMPORT_FORMATS.md."""

from keizoku.contracts.services import contracts_import

from ._import import ImportCommand


class Command(ImportCommand):
    help = "Import expiring contracts from contracts.csv (all-or-nothing)."
    kind = "contracts"

    def run_import(self, **kwargs):
        # The insurer's operators: every group (the back office passes a clerk's groups).
        return contracts_import(allowed_groups=None, **kwargs)
