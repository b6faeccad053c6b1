"""CSV upload in the browser: the importer of the commands, a preview, nothing written until
the clerk confirms, and nothing at all when a row is refused."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from keizoku.contracts.importing import GROUP_COLUMNS
from keizoku.contracts.models import Contract, Group, ImportBatch
from keizoku.contracts.tests.test_import_contracts import row, to_csv
from keizoku.core.models import AuditEvent

from .conftest import login_staff

pytestmark = pytest.mark.django_db


def upload(client, text: str, kind: str = "contracts", encoding: str = "utf-8"):
    data = text.encode(encoding)
    return client.post(
        "/backoffice/imports/",
        {"kind": kind, "file": SimpleUploadedFile(f"{kind}.csv", data, "text/csv")},
    )


def token_of(response) -> str:
    return re.search(r'name="token" value="([0-9a-f]+)"', response.content.decode()).group(1)


def refused_rows(response) -> list[tuple[str, str]]:
    """(row, column) of each refused row in the preview table."""
    return re.findall(r"<tr><td>(\d+)</td><td>([a-z_]+)</td>", response.content.decode())


def test_the_preview_writes_nothing_then_confirming_imports(client, clerk, group):
    login_staff(client, clerk)
    text = to_csv(
        [
            row(policy_number="DM-0101", group_code="DEMO-A"),
            row(policy_number="DM-0102", group_code="DEMO-A"),
        ]
    )
    response = upload(client, text, encoding="cp932")
    assert response.status_code == 200
    page = response.content.decode()
    assert "すべての行を取り込めます" in page
    assert "新規：2件" in page
    assert Contract.objects.count() == 0
    assert not ImportBatch.objects.exists()

    response = client.post("/backoffice/imports/confirm/", {"token": token_of(response)})
    assert response.status_code == 302
    assert sorted(Contract.objects.values_list("policy_number", flat=True)) == [
        "DM-0101",
        "DM-0102",
    ]
    batch = ImportBatch.objects.get()
    assert batch.imported_by == str(clerk)
    assert (
        "取込が完了しました（新規 2件・更新 0件・変更なし 0件）。"
        in client.get(response["Location"]).content.decode()
    )
    event = AuditEvent.objects.get(action="backoffice.import")
    assert event.details["created"] == 2


def test_a_refused_row_is_shown_and_nothing_is_written(client, clerk, group):
    login_staff(client, clerk)
    text = to_csv(
        [
            row(policy_number="DM-0201", group_code="DEMO-A"),
            row(policy_number="DM-0202", group_code="DEMO-A", phone="12345"),
            row(policy_number="DM-0203", group_code="DEMO-A", birth_date="2999-01-01"),
        ]
    )
    response = upload(client, text)
    assert response.status_code == 400
    page = response.content.decode()
    assert "取り込めない行が2件あります" in page
    assert refused_rows(response) == [("3", "phone"), ("4", "birth_date")]
    assert 'name="token"' not in page  # nothing to confirm
    assert Contract.objects.count() == 0
    assert not ImportBatch.objects.exists()
    # Posting a made-up token writes nothing either.
    response = client.post("/backoffice/imports/confirm/", {"token": "0" * 32})
    assert response.status_code == 302
    assert Contract.objects.count() == 0


def test_a_second_import_of_the_same_file_changes_nothing(client, clerk, group):
    login_staff(client, clerk)
    text = to_csv([row(policy_number="DM-0301", group_code="DEMO-A")])
    client.post("/backoffice/imports/confirm/", {"token": token_of(upload(client, text))})
    response = upload(client, text)
    assert "変更なし：1件" in response.content.decode()
    client.post("/backoffice/imports/confirm/", {"token": token_of(response)})
    assert Contract.objects.get().version == 1


def test_a_token_is_good_for_one_confirmation_only(client, clerk, group):
    login_staff(client, clerk)
    token = token_of(upload(client, to_csv([row(policy_number="DM-0401", group_code="DEMO-A")])))
    client.post("/backoffice/imports/confirm/", {"token": token})
    response = client.post("/backoffice/imports/confirm/", {"token": token}, follow=True)
    assert "取込の確認期限が切れました" in response.content.decode()
    assert ImportBatch.objects.count() == 1


def test_a_clerk_cannot_import_into_another_agencys_group(
    client, clerk, group, other_group, other_contract
):
    login_staff(client, clerk)
    text = to_csv(
        [
            row(policy_number="DM-0501", group_code="DEMO-A"),
            row(policy_number="DM-0502", group_code="OTHER-A"),
            row(policy_number="OT-0001", group_code="DEMO-A"),  # another agency's policy
        ]
    )
    response = upload(client, text)
    assert response.status_code == 400
    assert refused_rows(response) == [("3", "group_code"), ("4", "policy_number")]
    assert "他の代理店の団体です" in response.content.decode()
    assert Contract.objects.count() == 1  # the other agency's own contract, untouched
    other_contract.refresh_from_db()
    assert other_contract.group == other_group


def test_groups_are_imported_by_the_insurer_only(client, clerk, insurer_admin, agency):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(GROUP_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(
        {
            "agency_code": "DEMO",
            "agency_name": "デモ保険サービス",
            "group_code": "DEMO-B",
            "group_name": "株式会社デモ商事",
            "group_discount_percent": "20",
            "collection_discount_percent": "5",
            "renewal_window_days": "60",
            "retiree_keeps_discount": "yes",
        }
    )
    login_staff(client, clerk)
    response = upload(client, out.getvalue(), kind="groups")
    assert response.status_code == 400
    assert "団体の取込は保険会社の管理者が行います。" in response.content.decode()
    assert not Group.objects.filter(code="DEMO-B").exists()

    login_staff(client, insurer_admin)
    response = upload(client, out.getvalue(), kind="groups")
    assert response.status_code == 200
    client.post("/backoffice/imports/confirm/", {"token": token_of(response)})
    assert Group.objects.get(code="DEMO-B").agency == agency


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"", 200, "入力されたファイルは空です。"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", 400, "列がありません"),
        (b"policy_number\r\nDM-1\r\n", 400, "列がありません"),
    ],
)
def test_a_file_that_is_not_the_format_is_refused_in_japanese(
    client, clerk, group, data, status, message
):
    login_staff(client, clerk)
    response = client.post(
        "/backoffice/imports/",
        {"kind": "contracts", "file": SimpleUploadedFile("x.csv", data, "text/csv")},
    )
    assert response.status_code == status
    page = response.content.decode()
    assert message in page
    assert 'name="token"' not in page
    assert Contract.objects.count() == 0


def test_an_oversized_file_is_refused_in_japanese_and_nothing_is_written(client, clerk, group):
    login_staff(client, clerk)
    header = to_csv([row(policy_number="DM-0901", group_code="DEMO-A")]).encode()
    data = header + b"x" * (20 * 1024 * 1024)
    response = client.post(
        "/backoffice/imports/",
        {"kind": "contracts", "file": SimpleUploadedFile("big.csv", data, "text/csv")},
    )
    assert response.status_code == 200  # the form again, with the reason beside the field
    assert "ファイルが大きすぎます（20MBまで）。" in response.content.decode()
    assert Contract.objects.count() == 0
