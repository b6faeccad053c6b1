"""manage.py create_staff EMAIL --role ROLE [--agency CODE]: a back-office account."""

from django.core.management.base import BaseCommand, CommandError

from keizoku.backoffice.models import StaffProfile
from keizoku.backoffice.services import StaffError, staff_create
from keizoku.contracts.models import Agency


class Command(BaseCommand):
    help = "Create a staff account and print its one-time password (two-step login at first use)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=StaffProfile.Role.values)
        parser.add_argument("--agency", help="agency code (required for agency_staff)")

    def handle(self, *args, email: str, role: str, agency: str | None, **options):
        agency_obj = None
        if agency:
            agency_obj = Agency.objects.filter(code=agency).first()
            if agency_obj is None:
                raise CommandError(f"no agency with code {agency}")
        try:
            user, password = staff_create(email=email, role=role, agency=agency_obj)
        except StaffError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Staff account created: {user.email} ({role})"))
        self.stdout.write(f"  One-time password: {password}")
        self.stdout.write(
            "  Log in at /backoffice/login/; two-step login (an authenticator app) is set up at "
            "the first login. Change the password afterwards."
        )
