"""manage.py import_contracts: contracts.csv of IMPORT_FORMATS.md, every rule and refusal."""

import csv
import io
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from keizoku.contracts.importing import CONTRACT_COLUMNS
from keizoku.contracts.models import Contract, ContractChange, ImportBatch
from keizoku.contracts.services import contracts_import
from keizoku.core import ja
from tests.factories import make_group

pytestmark = pytest.mark.django_db

COLUMNS = list(CONTRACT_COLUMNS)


def row(**overrides: str) -> dict[str, str]:
    """One valid contracts.csv row, as a clerk's Excel would hold it."""
    end = timezone.localdate() + timedelta(days=30)
    values = {
        "policy_number": "P-0001",
        "group_code": "GRP-1",
        "holder_name": "継続 太郎",
        "holder_kana": "ケイゾク タロウ",
        "birth_date": "1980-04-01",
        "postal_code": "100-0005",
        "address": "東京都千代田区丸の内一丁目2番3号",
        "phone": "03-1234-5678",
        "email": "taro@example.jp",
        "member_type": "employee",
        "period_start": end.replace(year=end.year - 1).isoformat(),
        "period_end": end.isoformat(),
        "grade": "13",
        "coef_period": "0",
        "claims_3down": "0",
        "claims_1down": "0",
        "claims_nocount": "0",
        "open_claim": "no",
        "age_condition": "35",
        "driver_scope": "self_spouse",
        "use": "commute",
        "gold_license": "yes",
        "vehicle_use_class": "futsu",
        "vehicle_model": "トヨタ プリウス ZVW60",
        "vehicle_plate": "品川 300 あ 1234",
        "first_registration": "2022-04",
        "model_launch": "2021-01",
        "asv": "yes",
        "class_bi": "5",
        "class_pd": "6",
        "class_pi": "4",
        "class_vh": "7",
        "vehicle_cover": "general",
        "vehicle_value": "2000000",
        "deductible": "5-10",
        "personal_injury": "50000000",
        "property_damage": "unlimited",
        "riders": "legal;liability",
        "paperless": "no",
        "annual_premium": "71720",
    }
    values.update(overrides)
    return values


def to_csv(rows: list[dict[str, str]], *, columns: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "contracts.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_contracts", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refuse(path: Path) -> list[str]:
    """Run the command expecting a refusal; the lines it printed."""
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_contracts", str(path), stdout=io.StringIO(), stderr=err)
    assert raised.value.returncode == 1
    assert "nothing was imported" in str(raised.value)
    return err.getvalue().splitlines()


@pytest.fixture
def group():
    return make_group(code="GRP-1")


# --- a valid file ----------------------------------------------------------------------------


def test_a_valid_row_is_stored_with_every_field(tmp_path, group):
    out, _ = run(write(tmp_path, to_csv([row()])))
    assert "imported contracts from contracts.csv: 1 created, 0 updated, 0 unchanged" in out
    contract = Contract.objects.get()
    assert contract.group == group
    assert contract.policy_number == "P-0001"
    assert contract.policy_key == "P0001"
    assert contract.holder_name == "継続 太郎"
    assert contract.birth_date == date(1980, 4, 1)
    assert contract.postal_code == "1000005"
    assert contract.address_key == ja.normalize_address("東京都千代田区丸の内1-2-3")
    assert contract.phone == "+81312345678"
    assert contract.grade == 13
    assert contract.gold_license is True
    assert contract.first_registration == date(2022, 4, 1)
    assert contract.vehicle_value == 2_000_000
    assert contract.riders == "legal;liability"
    assert contract.annual_premium == 71_720
    assert contract.version == 1
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.source, batch.created, batch.imported_by) == (
        "contracts",
        "contracts.csv",
        1,
        "cli",
    )


def test_columns_may_come_in_any_order(tmp_path, group):
    run(write(tmp_path, to_csv([row()], columns=list(reversed(COLUMNS)))))
    assert Contract.objects.get().grade == 13


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_utf8_with_or_without_bom_and_cp932_are_read_alike(tmp_path, group, encoding):
    text = to_csv(
        [
            row(
                holder_name="髙橋 一郎",
                holder_kana="タカハシ イチロウ",
                address="東京都千代田区丸の内１－２－３　髙橋ビル",
            )
        ]
    )
    run(write(tmp_path, text, encoding))
    contract = Contract.objects.get()
    assert contract.holder_name == "髙橋 一郎"
    assert contract.address == "東京都千代田区丸の内1-2-3 髙橋ビル"


def test_cp932_nec_special_characters_are_normalised(tmp_path, group):
    # ① and ㈱ are NEC special characters that only CP932 (not plain Shift_JIS) encodes.
    text = to_csv([row(address="東京都千代田区丸の内一丁目②番③号 ㈱デモビル")])
    run(write(tmp_path, text, "cp932"))
    contract = Contract.objects.get()
    assert contract.address == "東京都千代田区丸の内一丁目2番3号 (株)デモビル"
    assert contract.address_key == ja.normalize_address("東京都千代田区丸の内1-2-3 (株)デモビル")


def test_full_width_digits_hyphens_and_spaces_are_normalised(tmp_path, group):
    text = to_csv(
        [
            row(
                policy_number="Ｐ－０００１",
                holder_name="継続　　太郎 ",
                postal_code="〒１００－０００５",
                phone="（０３）１２３４ー５６７８",
                birth_date="１９８０－０４－０１",
                grade="１３",
                annual_premium="７１，７２０",
                vehicle_value="２，０００，０００円",
                first_registration="２０２２－０４",
                email="ＴＡＲＯ@ＥＸＡＭＰＬＥ.ＪＰ",
                member_type="Ｅｍｐｌｏｙｅｅ",
            )
        ]
    )
    run(write(tmp_path, text))
    contract = Contract.objects.get()
    assert contract.policy_number == "P-0001"
    assert contract.holder_name == "継続 太郎"
    assert contract.postal_code == "1000005"
    assert contract.phone == "+81312345678"
    assert contract.birth_date == date(1980, 4, 1)
    assert contract.grade == 13
    assert contract.annual_premium == 71_720
    assert contract.vehicle_value == 2_000_000
    assert contract.first_registration == date(2022, 4, 1)
    assert contract.email == "TARO@example.jp"
    assert contract.member_type == "employee"


@pytest.mark.parametrize(
    "typed", ["けいぞく たろう", "ｹｲｿﾞｸ ﾀﾛｳ", "ケイゾク　タロウ", "けいぞく タロウ"]
)
def test_hiragana_and_half_width_katakana_become_katakana(tmp_path, group, typed):
    run(write(tmp_path, to_csv([row(holder_kana=typed)])))
    assert Contract.objects.get().holder_kana == "ケイゾク タロウ"


@pytest.mark.parametrize(
    "typed",
    ["03-1234-5678", "0312345678", "03(1234)5678", "+81 3-1234-5678", "０３－１２３４－５６７８"],
)
def test_phone_is_stored_in_e164(tmp_path, group, typed):
    run(write(tmp_path, to_csv([row(phone=typed)])))
    assert Contract.objects.get().phone == "+81312345678"


def test_excel_dates_with_slashes_are_accepted(tmp_path, group):
    run(write(tmp_path, to_csv([row(birth_date="1980/4/1")])))
    assert Contract.objects.get().birth_date == date(1980, 4, 1)


def test_riders_are_stored_in_a_fixed_order_without_duplicates(tmp_path, group):
    run(write(tmp_path, to_csv([row(riders=" road ; LEGAL;legal; ")])))
    assert Contract.objects.get().riders == "legal;road"


def test_blank_lines_at_the_end_are_ignored(tmp_path, group):
    text = to_csv([row()]) + ",,,\r\n\r\n"
    out, _ = run(write(tmp_path, text))
    assert "1 created" in out


def test_a_kei_car_and_a_car_without_vehicle_cover(tmp_path, group):
    text = to_csv(
        [
            row(
                vehicle_use_class="kei",
                class_bi="7",
                class_pd="7",
                class_pi="7",
                class_vh="7",
                vehicle_cover="none",
                vehicle_value="0",
                deductible="",
                riders="",
                property_damage="100,000,000",
            )
        ]
    )
    run(write(tmp_path, text))
    contract = Contract.objects.get()
    assert (contract.vehicle_cover, contract.vehicle_value, contract.deductible) == ("none", 0, "")
    assert contract.riders == ""
    assert contract.property_damage == "100000000"


# --- refusals: one line per refused cell, nothing written, exit status 1 ---------------------

LONG = "あ" * 51

REFUSALS = [
    ("policy_number", "", "証券番号は半角英数字とハイフン20文字以内で入力してください。"),
    ("policy_number", "P_0001", "証券番号は半角英数字とハイフン20文字以内で入力してください。"),
    ("policy_number", "P" * 21, "証券番号は半角英数字とハイフン20文字以内で入力してください。"),
    ("policy_number", "---", "証券番号は半角英数字とハイフン20文字以内で入力してください。"),
    ("group_code", "GRP_1", "半角英数字とハイフン1〜16文字で入力してください"),
    ("group_code", "G" * 17, "半角英数字とハイフン1〜16文字で入力してください"),
    ("group_code", "NOPE", "登録されていない団体コードです"),
    ("holder_name", "", "1〜50文字で入力してください"),
    ("holder_name", LONG, "1〜50文字で入力してください"),
    ("holder_name", "継続\x07太郎", "使用できない文字（制御文字）が含まれています。"),
    ("holder_kana", "継続 太郎", "フリガナはカタカナで入力してください。"),
    ("holder_kana", "", "フリガナはカタカナで入力してください。"),
    ("holder_kana", "ア" * 51, "1〜50文字で入力してください"),
    ("birth_date", "1980-02-30", "存在しない日付です"),
    ("birth_date", "S55.4.1", "YYYY-MM-DD の形式で入力してください"),
    ("birth_date", "", "YYYY-MM-DD の形式で入力してください"),
    ("birth_date", "2999-01-01", "過去の日付を入力してください"),
    ("postal_code", "100-005", "郵便番号は7桁の数字で入力してください。"),
    ("postal_code", "", "郵便番号は7桁の数字で入力してください。"),
    ("address", "", "1〜200文字で入力してください"),
    ("address", "あ" * 201, "1〜200文字で入力してください"),
    ("phone", "12345", "電話番号の形式が正しくありません。"),
    ("phone", "+1 202-555-0100", "電話番号の形式が正しくありません。"),
    ("phone", "", "電話番号の形式が正しくありません。"),
    ("email", "taro@", "メールアドレスの形式が正しくありません"),
    ("email", "taro example.jp", "メールアドレスの形式が正しくありません"),
    ("member_type", "staff", "employee / retiree のいずれかを指定してください"),
    ("member_type", "", "employee / retiree のいずれかを指定してください"),
    ("period_start", "2026-13-01", "存在しない日付です"),
    ("period_end", "next year", "YYYY-MM-DD の形式で入力してください"),
    ("period_end", "2000-01-01", "period_start より後の日付を入力してください"),
    ("grade", "0", "1〜20の範囲で入力してください"),
    ("grade", "21", "1〜20の範囲で入力してください"),
    ("grade", "13.5", "半角数字（整数）で入力してください"),
    ("grade", "", "半角数字（整数）で入力してください"),
    ("coef_period", "7", "0〜6の範囲で入力してください"),
    ("claims_3down", "-1", "半角数字（整数）で入力してください"),
    ("claims_1down", "x", "半角数字（整数）で入力してください"),
    ("claims_nocount", "", "半角数字（整数）で入力してください"),
    ("open_claim", "maybe", "yes または no を指定してください"),
    ("open_claim", "", "yes または no を指定してください"),
    ("age_condition", "30", "21 / 26 / 35 / all のいずれかを指定してください"),
    ("driver_scope", "family", "any / self / self_spouse のいずれかを指定してください"),
    ("use", "racing", "business / commute / leisure のいずれかを指定してください"),
    ("gold_license", "1", "yes または no を指定してください"),
    ("vehicle_use_class", "truck", "futsu / kei / kogata のいずれかを指定してください"),
    ("vehicle_model", "", "1〜50文字で入力してください"),
    ("vehicle_model", LONG, "1〜50文字で入力してください"),
    ("vehicle_plate", "", "1〜30文字で入力してください"),
    ("vehicle_plate", "品" * 31, "1〜30文字で入力してください"),
    ("first_registration", "2022-13", "存在しない年月です"),
    ("first_registration", "2022", "YYYY-MM の形式で入力してください"),
    ("model_launch", "", "YYYY-MM の形式で入力してください"),
    ("asv", "true", "yes または no を指定してください"),
    ("class_bi", "0", "1〜17の範囲で入力してください"),
    ("class_pd", "18", "1〜17の範囲で入力してください"),
    ("class_pi", "x", "半角数字（整数）で入力してください"),
    ("class_vh", "", "半角数字（整数）で入力してください"),
    ("vehicle_cover", "full", "economy / general / none のいずれかを指定してください"),
    ("vehicle_value", "abc", "半角数字（整数）で入力してください"),
    ("vehicle_value", "0", "車両保険ありのときは保険金額を入力してください"),
    ("deductible", "1-10", "0-10 / 10-10 / 5-10 のいずれかを指定してください"),
    ("deductible", "", "車両保険ありのときは免責金額を指定してください"),
    (
        "personal_injury",
        "20000000",
        "100000000 / 30000000 / 50000000 / unlimited のいずれかを指定してください",
    ),
    ("property_damage", "0", "unlimited または金額（円、整数）を指定してください"),
    ("property_damage", "lots", "unlimited または金額（円、整数）を指定してください"),
    ("property_damage", "", "unlimited または金額（円、整数）を指定してください"),
    (
        "riders",
        "legal;towing",
        "不明な特約コード: towing（legal / liability / family_bike / road）",
    ),
    ("paperless", "", "yes または no を指定してください"),
    ("annual_premium", "-5", "半角数字（整数）で入力してください"),
    ("annual_premium", "71720.5", "半角数字（整数）で入力してください"),
]


@pytest.mark.parametrize(
    ("column", "value", "reason"), REFUSALS, ids=[f"{c}={v[:12]!r}" for c, v, _ in REFUSALS]
)
def test_each_refusal_names_row_column_and_reason_and_writes_nothing(
    tmp_path, group, column, value, reason
):
    # A valid row first: the refused one is row 3 (the header is row 1).
    rows = [row(policy_number="P-0001"), row(**{"policy_number": "P-0002", column: value})]
    lines = refuse(write(tmp_path, to_csv(rows)))
    assert f"row 3: {column}: {reason}" in lines
    assert len(lines) == 1, lines
    assert not Contract.objects.exists()
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("column", ["class_bi", "class_pd", "class_pi", "class_vh"])
def test_a_kei_car_refuses_rate_classes_above_7(tmp_path, group, column):
    lines = refuse(write(tmp_path, to_csv([row(vehicle_use_class="kei", **{column: "8"})])))
    # The default row has class_vh 7 and others below: only the changed column is refused.
    assert lines == [f"row 2: {column}: 軽自動車の料率クラスは1〜7です"]


def test_without_vehicle_cover_the_value_must_be_0_and_the_deductible_empty(tmp_path, group):
    lines = refuse(write(tmp_path, to_csv([row(vehicle_cover="none")])))
    assert lines == [
        "row 2: deductible: 車両保険なし（none）のときは空欄にしてください",
        "row 2: vehicle_value: 車両保険なし（none）のときは0にしてください",
    ]


def test_every_refused_row_is_reported_not_only_the_first(tmp_path, group):
    text = to_csv(
        [
            row(policy_number="P-1", grade="99", phone="1"),
            row(policy_number="P-2"),
            row(policy_number="P-3", holder_kana="漢字"),
        ]
    )
    lines = refuse(write(tmp_path, text))
    assert lines == [
        "row 2: grade: 1〜20の範囲で入力してください",
        "row 2: phone: 電話番号の形式が正しくありません。",
        "row 4: holder_kana: フリガナはカタカナで入力してください。",
    ]


def test_one_refused_row_leaves_existing_contracts_untouched(tmp_path, group):
    run(write(tmp_path, to_csv([row(policy_number="P-1", grade="13")]), name="first.csv"))
    text = to_csv([row(policy_number="P-1", grade="14"), row(policy_number="P-2", grade="0")])
    refuse(write(tmp_path, text))
    assert list(Contract.objects.values_list("policy_number", "grade")) == [("P-1", 13)]
    assert not ContractChange.objects.exists()
    assert ImportBatch.objects.count() == 1


def test_the_same_policy_twice_in_a_file_is_refused_ignoring_hyphens_and_case(tmp_path, group):
    lines = refuse(
        write(tmp_path, to_csv([row(policy_number="P-0001"), row(policy_number="p0001")]))
    )
    assert lines == ["row 3: policy_number: 2行目と重複しています"]


def test_a_row_with_more_cells_than_the_header_is_refused(tmp_path, group):
    text = to_csv([row()]) + to_csv([row(policy_number="P-2")]).splitlines()[1] + ",extra\r\n"
    lines = refuse(write(tmp_path, text))
    assert lines == ["row 3: -: 列の数がヘッダーより多いです"]


# --- the header ------------------------------------------------------------------------------


def test_a_missing_column_is_reported_on_row_1(tmp_path, group):
    columns = [name for name in COLUMNS if name not in ("grade", "asv")]
    lines = refuse(write(tmp_path, to_csv([{c: row()[c] for c in columns}], columns=columns)))
    assert lines == ["row 1: asv: 列がありません", "row 1: grade: 列がありません"]


def test_an_unknown_column_is_reported_on_row_1(tmp_path, group):
    columns = [*COLUMNS, "colour"]
    lines = refuse(write(tmp_path, to_csv([row(colour="red")], columns=columns)))
    assert lines == ["row 1: colour: 不明な列です"]


def test_a_repeated_column_is_reported_on_row_1(tmp_path, group):
    text = to_csv([row()]).replace("annual_premium", "annual_premium,grade", 1)
    lines = refuse(write(tmp_path, text))
    assert lines == ["row 1: grade: 列が重複しています"]


def test_full_width_header_names_are_accepted(tmp_path, group):
    text = to_csv([row()]).replace("grade", "ｇｒａｄｅ", 1)
    run(write(tmp_path, text))
    assert Contract.objects.get().grade == 13


def test_an_empty_file_is_refused(tmp_path, group):
    assert refuse(write(tmp_path, "")) == ["row 0: file: ファイルが空です。"]


def test_a_file_in_another_encoding_is_refused_with_the_encodings_to_use(tmp_path, group):
    path = write(tmp_path, to_csv([row()]), "utf-16")
    assert refuse(path) == [
        "row 0: file: 文字コードを判別できません。UTF-8 または Shift_JIS (CP932) で保存してください。"
    ]


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_contracts", str(tmp_path / "nope.csv"))


# --- re-import and updates -------------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(tmp_path, group):
    path = write(tmp_path, to_csv([row(policy_number=f"P-{i}") for i in range(3)]))
    run(path)
    before = list(Contract.objects.order_by("pk").values())
    out, _ = run(path)
    assert "0 created, 0 updated, 3 unchanged" in out
    assert list(Contract.objects.order_by("pk").values()) == before
    assert not ContractChange.objects.exists()
    second = ImportBatch.objects.latest("pk")
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)


def test_a_changed_row_updates_the_contract_and_keeps_the_change(tmp_path, group):
    run(write(tmp_path, to_csv([row(), row(policy_number="P-0002")]), name="first.csv"))
    changed = row(grade="14", address="東京都千代田区丸の内2-1-1", phone="090-1234-5678")
    out, _ = run(write(tmp_path, to_csv([changed, row(policy_number="P-0002")]), name="second.csv"))
    assert "0 created, 1 updated, 1 unchanged" in out
    contract = Contract.objects.get(policy_number="P-0001")
    assert contract.grade == 14
    assert contract.address_key == ja.normalize_address("東京都千代田区丸の内二丁目1番1号")
    assert contract.version == 2
    change = ContractChange.objects.get()
    assert change.contract == contract
    assert change.source == "second.csv"
    assert change.batch == ImportBatch.objects.latest("pk")
    assert change.changes == {
        "grade": [13, 14],
        "address": ["東京都千代田区丸の内一丁目2番3号", "東京都千代田区丸の内2-1-1"],
        "phone": ["+81312345678", "+819012345678"],
    }


def test_a_later_file_matches_the_policy_ignoring_hyphens_spaces_and_case(tmp_path, group):
    run(write(tmp_path, to_csv([row(policy_number="AB-0001")]), name="first.csv"))
    run(write(tmp_path, to_csv([row(policy_number="ab 00-01")]), name="second.csv"))
    contract = Contract.objects.get()
    assert contract.policy_number == "AB00-01"
    assert ContractChange.objects.get().changes == {"policy_number": ["AB-0001", "AB00-01"]}


def test_a_date_change_is_kept_in_the_history_as_iso_dates(tmp_path, group):
    run(write(tmp_path, to_csv([row()]), name="first.csv"))
    run(write(tmp_path, to_csv([row(birth_date="1980-04-02")]), name="second.csv"))
    assert ContractChange.objects.get().changes == {"birth_date": ["1980-04-01", "1980-04-02"]}


def test_a_contract_can_move_to_another_group(tmp_path, group):
    other = make_group(agency=group.agency, code="GRP-2")
    run(write(tmp_path, to_csv([row()]), name="first.csv"))
    run(write(tmp_path, to_csv([row(group_code="GRP-2")]), name="second.csv"))
    assert Contract.objects.get().group == other
    assert ContractChange.objects.get().changes == {"group_id": [group.pk, other.pk]}


def test_dry_run_reports_and_writes_nothing(tmp_path, group):
    out, _ = run(write(tmp_path, to_csv([row()])), "--dry-run")
    assert "would import contracts from contracts.csv: 1 created" in out
    assert not Contract.objects.exists()
    assert not ImportBatch.objects.exists()


def test_the_service_reports_counts_for_a_mixed_file(group):
    first = to_csv([row(policy_number="P-1"), row(policy_number="P-2")]).encode()
    assert contracts_import(data=first, source="a.csv").created == 2
    second = to_csv(
        [row(policy_number="P-1"), row(policy_number="P-2", grade="1"), row(policy_number="P-3")]
    ).encode()
    result = contracts_import(data=second, source="b.csv")
    assert (result.ok, result.created, result.updated, result.unchanged) == (True, 1, 1, 1)


# --- the exit status of the real command -----------------------------------------------------


def test_the_real_command_exits_0_on_success_and_1_on_refusal(tmp_path):
    """manage.py in its own process, on a fresh SQLite database."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "KEIZOKU_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]

    def manage_py(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*manage, *args, "--skip-checks"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    assert manage_py("migrate", "--noinput", "-v0").returncode == 0
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "agency_code,agency_name,group_code,group_name,group_discount_percent,"
        "collection_discount_percent,renewal_window_days,retiree_keeps_discount\n"
        "AG1,テスト代理店,GRP-1,株式会社テスト,20,,,\n"
    )
    assert manage_py("import_groups", str(groups)).returncode == 0
    good = write(tmp_path, to_csv([row()]), "cp932", name="good.csv")
    done = manage_py("import_contracts", str(good))
    assert done.returncode == 0, done.stderr
    assert "1 created" in done.stdout
    bad = write(tmp_path, to_csv([row(policy_number="P-2", grade="0")]), name="bad.csv")
    refused = manage_py("import_contracts", str(bad))
    assert refused.returncode == 1
    assert "row 2: grade: 1〜20の範囲で入力してください" in refused.stderr


def test_a_reimport_refreshes_a_stale_matching_key_without_history(tmp_path, group):
    """When address normalisation improves, the next import of the season fixes stored keys."""
    run(write(tmp_path, to_csv([row()]), name="first.csv"))
    Contract.objects.update(address_key="stale")
    out, _ = run(write(tmp_path, to_csv([row()]), name="second.csv"))
    assert "0 updated, 1 unchanged" in out
    contract = Contract.objects.get()
    assert contract.address_key == ja.normalize_address(contract.address)
    assert contract.version == 1
    assert not ContractChange.objects.exists()


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("holder@ＥＸＡＭＰＬＥ.jp", "holder@example.jp"),
        ("holder@例え.jp", "holder@xn--r8jz45g.jp"),
        ("Holder@Example.JP", "Holder@example.jp"),
    ],
)
def test_an_imported_email_gets_the_one_spelling_of_its_mailbox(cell, stored):
    # W5: the holder's address (reminders) is spelt like every address a member types.
    from keizoku.contracts import importing

    assert importing.email(cell) == stored


def test_an_imported_email_with_a_non_ascii_local_part_is_refused():
    from keizoku.contracts import importing

    with pytest.raises(importing.CellError, match="メールアドレスの形式が正しくありません"):
        importing.email("契約者@example.jp")
