"""manage.py import_groups FILE: groups.csv of IMPORT_FORMATS.md."""

from keizoku.contracts.services import groups_import

from ._import import ImportCommand


class Command(ImportCommand):
    help = "Import agencies and groups from groups.csv (all-or-nothing)."
    kind = "groups"

    def run_import(self, **kwargs):
        return groups_import(**kwargs)
