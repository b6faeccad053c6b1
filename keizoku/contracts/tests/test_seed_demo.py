"""manage.py seed_demo: the demo agency, contracts a newcomer can register with, a ready member."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from keizoku.contracts.models import Agency, Contract

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_the_demo_data_is_printed_and_the_ready_member_can_renew_at_once(client, settings):
    settings.DEBUG = True
    output = seed()
    assert Agency.objects.get(code="DEMO").contact_phone == "0120-000-000"
    for contract in Contract.objects.all():
        assert contract.policy_number in output
    password = re.search(r"member@demo\.example\.jp  password: (\S+)", output).group(1)

    response = client.post(
        "/mypage/login/", {"login": "member@demo.example.jp", "password": password}
    )
    assert response.status_code == 302
    html = client.get("/mypage/renewals/").content.decode()
    assert "DM-0001" in html
    assert "契約の更改" in html


def test_an_existing_database_is_left_alone_with_if_empty(settings):
    settings.DEBUG = True
    seed()
    count = Contract.objects.count()
    assert "not loaded" in seed(if_empty=True)
    assert Contract.objects.count() == count


def test_demo_data_needs_debug_or_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        seed()
    assert not Agency.objects.exists()


def test_make_runs_mode_with_debug_off_skips_the_demo_data_in_one_line(settings):
    settings.DEBUG = False
    output = seed(if_empty=True)
    assert output == "DEBUG is off: demo data not loaded (seed_demo --force loads it).\n"
    assert not Agency.objects.exists()
