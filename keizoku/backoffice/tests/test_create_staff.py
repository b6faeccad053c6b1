"""manage.py create_staff: a back-office account with its role, two-step login set up at first use."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from keizoku.accounts.models import User
from keizoku.backoffice.models import StaffProfile
from keizoku.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_it_creates_agency_staff_with_a_one_time_password(agency):
    out = io.StringIO()
    call_command(
        "create_staff", "new@demo.example.jp", role="agency_staff", agency="DEMO", stdout=out
    )
    user = User.objects.get(email="new@demo.example.jp")
    assert user.kind == User.Kind.STAFF
    assert not user.is_staff and not user.is_superuser  # no Django admin for agency staff
    assert user.staff_profile.role == "agency_staff"
    assert user.staff_profile.agency == agency
    password = out.getvalue().split("One-time password: ")[1].split()[0]
    assert user.check_password(password)
    assert AuditEvent.objects.filter(action="staff.created", object_id=str(user.pk)).exists()


def test_an_insurer_admin_gets_the_django_admin_and_no_agency():
    call_command(
        "create_staff", "boss@insurer.example.jp", role="insurer_admin", stdout=io.StringIO()
    )
    user = User.objects.get(email="boss@insurer.example.jp")
    assert user.is_staff and user.is_superuser
    assert user.staff_profile.agency is None


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (["x@demo.example.jp"], {"role": "agency_staff"}, "agency staff need --agency"),
        (["x@demo.example.jp"], {"role": "auditor", "agency": "DEMO"}, "take none"),
        (["x@demo.example.jp"], {"role": "agency_staff", "agency": "NOPE"}, "no agency"),
    ],
)
def test_it_refuses_a_role_and_agency_that_do_not_match(agency, args, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_staff", *args, **options, stdout=io.StringIO())
    assert not StaffProfile.objects.exists()


def test_it_refuses_an_address_that_has_an_account(member):
    with pytest.raises(CommandError, match="already has an account"):
        call_command("create_staff", member.email, role="auditor", stdout=io.StringIO())
    member.refresh_from_db()
    assert member.kind != User.Kind.STAFF
