"""V1 (issue 10): a clerk's CSV import writes only the clerk's agency's contracts, however the
file is spelt — the scope is checked on the importer's own parsed rows, never on a second parse."""

import re
import unicodedata

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from keizoku.contracts.models import Contract, ContractChange, ImportBatch
from keizoku.contracts.tests.test_import_contracts import COLUMNS, row, to_csv
from tests.factories import make_contract

from .conftest import login_staff

pytestmark = pytest.mark.django_db


def upload(client, data: bytes):
    return client.post(
        "/backoffice/imports/",
        {"kind": "contracts", "file": SimpleUploadedFile("contracts.csv", data, "text/csv")},
    )


def token_of(response) -> str:
    match = re.search(r'name="token" value="([0-9a-f]+)"', response.content.decode())
    return match.group(1) if match else ""


def full_width(text: str) -> str:
    """ASCII letters, digits and '_' as their full-width forms (what NFKC folds back)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def hijack_file() -> str:
    """The clerk's own group, another agency's policy number: the row the attack rewrites."""
    return to_csv(
        [
            row(policy_number="DM-0601", group_code="DEMO-A"),
            row(policy_number="OT-0001", group_code="DEMO-A", holder_name="乗っ取り 太郎"),
        ]
    )


def spelt(variant: str) -> bytes:
    text = hijack_file()
    header, _, body = text.partition("\r\n")
    if variant == "leading space":
        header = header.replace("policy_number", " policy_number")
    elif variant == "full-width header":
        header = ",".join(full_width(name) for name in COLUMNS)
        assert unicodedata.normalize("NFKC", header) == ",".join(COLUMNS)
    elif variant == "full-width policy number column only":
        header = header.replace("policy_number", full_width("policy_number"))
    text = f"{header}\r\n{body}"
    if variant == "CR-only line ends":
        text = text.replace("\r\n", "\r")
    if variant == "LF-only line ends":
        text = text.replace("\r\n", "\n")
    data = text.encode("utf-8")
    if variant == "BOM":
        data = b"\xef\xbb\xbf" + data
    if variant == "BOM and leading space":
        data = b"\xef\xbb\xbf" + data.replace(b"policy_number", b" policy_number", 1)
    if variant == "CP932":
        data = text.encode("cp932")
    return data


VARIANTS = [
    "plain",
    "leading space",
    "full-width header",
    "full-width policy number column only",
    "CR-only line ends",
    "LF-only line ends",
    "BOM",
    "BOM and leading space",
    "CP932",
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_another_agencys_contract_is_refused_however_the_file_is_spelt(
    client, clerk, group, other_group, other_contract, variant
):
    login_staff(client, clerk)
    before = Contract.objects.get(pk=other_contract.pk)

    response = upload(client, spelt(variant))

    assert response.status_code == 400
    page = response.content.decode()
    assert "他の代理店の契約です" in page
    assert not token_of(response)  # nothing to confirm
    # Nothing written: not the clerk's own new row, not the other agency's contract.
    assert list(Contract.objects.values_list("policy_number", flat=True)) == ["OT-0001"]
    after = Contract.objects.get(pk=other_contract.pk)
    assert (after.group_id, after.holder_name, after.version) == (
        before.group_id,
        before.holder_name,
        before.version,
    )
    assert not ContractChange.objects.exists()
    assert not ImportBatch.objects.exists()
    # And the clerk still cannot read it.
    assert client.get(f"/backoffice/contracts/{other_contract.pk}/").status_code == 404


def test_one_foreign_row_in_an_otherwise_valid_file_refuses_the_whole_file(
    client, clerk, group, other_group, other_contract
):
    login_staff(client, clerk)
    own = [row(policy_number=f"DM-07{i:02d}", group_code="DEMO-A") for i in range(30)]
    own.insert(17, row(policy_number="ot-0001", group_code="DEMO-A"))  # matched ignoring case
    response = upload(client, to_csv(own).encode())
    assert response.status_code == 400
    page = response.content.decode()
    assert "取り込めない行が1件あります" in page
    assert re.findall(r"<tr><td>(\d+)</td><td>([a-z_]+)</td>", page) == [("19", "policy_number")]
    assert Contract.objects.count() == 1
    assert not ImportBatch.objects.exists()


def test_a_policy_taken_by_another_agency_after_the_preview_is_refused_at_confirmation(
    client, clerk, group, other_group
):
    login_staff(client, clerk)
    response = upload(client, to_csv([row(policy_number="DM-0801", group_code="DEMO-A")]).encode())
    assert response.status_code == 200
    # Between the preview and the confirmation, the other agency imports that policy number.
    taken = make_contract(group=other_group, policy_number="DM-0801", holder_name="他社 次郎")

    response = client.post(
        "/backoffice/imports/confirm/", {"token": token_of(response)}, follow=True
    )

    assert "他の代理店の契約です" in response.content.decode()
    taken.refresh_from_db()
    assert (taken.group, taken.holder_name, taken.version) == (other_group, "他社 次郎", 1)
    assert Contract.objects.count() == 1
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00\x81\xff" * 20, "文字コードを判別できません"),
        (b"\xef\xbb\xbf", "ファイルが空です"),
        (b'policy_number,group_code\r\n"DM-1,DEMO-A\r\n', "列がありません"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_japanese_reason(
    client, clerk, group, other_contract, data, message
):
    login_staff(client, clerk)
    response = upload(client, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not token_of(response)
    assert Contract.objects.count() == 1
