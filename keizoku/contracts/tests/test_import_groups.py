"""manage.py import_groups: groups.csv of IMPORT_FORMATS.md, every rule and refusal."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from keizoku.contracts.importing import GROUP_COLUMNS
from keizoku.contracts.models import Agency, Group, ImportBatch
from tests.factories import make_agency, make_group

pytestmark = pytest.mark.django_db

COLUMNS = list(GROUP_COLUMNS)


def row(**overrides: str) -> dict[str, str]:
    values = {
        "agency_code": "AG01",
        "agency_name": "テスト保険サービス",
        "group_code": "GRP-1",
        "group_name": "株式会社テスト",
        "group_discount_percent": "20",
        "collection_discount_percent": "5",
        "renewal_window_days": "60",
        "retiree_keeps_discount": "yes",
    }
    values.update(overrides)
    return values


def write(
    tmp_path: Path,
    rows: list[dict[str, str]],
    *,
    encoding: str = "utf-8",
    columns: list[str] | None = None,
    name: str = "groups.csv",
) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / name
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def run(path: Path) -> str:
    out = io.StringIO()
    call_command("import_groups", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refuse(path: Path) -> list[str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_groups", str(path), stdout=io.StringIO(), stderr=err)
    assert raised.value.returncode == 1
    return err.getvalue().splitlines()


def test_a_new_agency_and_group_are_created(tmp_path):
    out = run(write(tmp_path, [row()]))
    assert "imported groups from groups.csv: 1 created, 0 updated, 0 unchanged" in out
    group = Group.objects.select_related("agency").get()
    assert (group.agency.code, group.agency.name) == ("AG01", "テスト保険サービス")
    assert (group.code, group.name) == ("GRP-1", "株式会社テスト")
    assert group.group_discount_percent == Decimal("20")
    assert group.collection_discount_percent == Decimal("5")
    assert group.renewal_window_days == 60
    assert group.retiree_keeps_discount is True
    assert ImportBatch.objects.get().kind == "groups"


def test_empty_optional_cells_take_their_defaults(tmp_path):
    run(
        write(
            tmp_path,
            [
                row(
                    collection_discount_percent="",
                    renewal_window_days="",
                    retiree_keeps_discount="",
                )
            ],
        )
    )
    group = Group.objects.get()
    assert group.collection_discount_percent == Decimal("0")
    assert group.renewal_window_days == 60
    assert group.retiree_keeps_discount is True


def test_percentages_take_one_decimal_and_full_width_input(tmp_path):
    run(
        write(
            tmp_path,
            [
                row(
                    group_discount_percent="２２．５％",
                    collection_discount_percent="0.5",
                    renewal_window_days="１２０",
                    retiree_keeps_discount="ＮＯ",
                )
            ],
        )
    )
    group = Group.objects.get()
    assert group.group_discount_percent == Decimal("22.5")
    assert group.collection_discount_percent == Decimal("0.5")
    assert group.renewal_window_days == 120
    assert group.retiree_keeps_discount is False


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_every_encoding_of_the_format_is_read(tmp_path, encoding):
    run(write(tmp_path, [row(group_name="髙島屋健康保険組合")], encoding=encoding))
    assert Group.objects.get().name == "髙島屋健康保険組合"


def test_several_groups_share_one_agency(tmp_path):
    run(write(tmp_path, [row(), row(group_code="GRP-2", group_name="テスト電機")]))
    assert Agency.objects.count() == 1
    assert Group.objects.count() == 2


def test_importing_the_same_file_again_changes_nothing(tmp_path):
    path = write(tmp_path, [row(), row(group_code="GRP-2")])
    run(path)
    before = list(Group.objects.values())
    out = run(path)
    assert "0 created, 0 updated, 2 unchanged" in out
    assert list(Group.objects.values()) == before
    batch = ImportBatch.objects.latest("pk")
    assert (batch.created, batch.updated, batch.unchanged) == (0, 0, 2)


def test_a_later_file_updates_the_group_and_renames_the_agency(tmp_path):
    run(write(tmp_path, [row()], name="first.csv"))
    out = run(
        write(
            tmp_path,
            [
                row(
                    agency_name="新テスト保険",
                    group_discount_percent="25",
                    renewal_window_days="45",
                )
            ],
            name="second.csv",
        )
    )
    assert "0 created, 1 updated, 0 unchanged" in out
    group = Group.objects.select_related("agency").get()
    assert group.agency.name == "新テスト保険"
    assert group.group_discount_percent == Decimal("25")
    assert group.renewal_window_days == 45


def test_a_group_can_move_to_another_agency(tmp_path):
    make_group(agency=make_agency(code="OLD"), code="GRP-1")
    run(write(tmp_path, [row(agency_code="NEW")]))
    assert Group.objects.get(code="GRP-1").agency.code == "NEW"


REFUSALS = [
    ("agency_code", "", "半角英数字1〜16文字で入力してください"),
    ("agency_code", "AG-01", "半角英数字1〜16文字で入力してください"),
    ("agency_code", "A" * 17, "半角英数字1〜16文字で入力してください"),
    ("agency_name", "", "1〜100文字で入力してください"),
    ("agency_name", "あ" * 101, "1〜100文字で入力してください"),
    ("agency_name", "テスト\x00保険", "使用できない文字（制御文字）が含まれています。"),
    ("group_code", "", "半角英数字とハイフン1〜16文字で入力してください"),
    ("group_code", "GRP_1", "半角英数字とハイフン1〜16文字で入力してください"),
    ("group_code", "G" * 17, "半角英数字とハイフン1〜16文字で入力してください"),
    ("group_name", "", "1〜100文字で入力してください"),
    ("group_name", "あ" * 101, "1〜100文字で入力してください"),
    ("group_discount_percent", "", "小数点以下1桁までの数値で入力してください"),
    ("group_discount_percent", "10.55", "小数点以下1桁までの数値で入力してください"),
    ("group_discount_percent", "-1", "小数点以下1桁までの数値で入力してください"),
    ("group_discount_percent", "50.1", "0〜50の範囲で入力してください"),
    ("collection_discount_percent", "10.5", "0〜10の範囲で入力してください"),
    ("collection_discount_percent", "abc", "小数点以下1桁までの数値で入力してください"),
    ("renewal_window_days", "0", "1〜120の範囲で入力してください"),
    ("renewal_window_days", "121", "1〜120の範囲で入力してください"),
    ("renewal_window_days", "6O", "半角数字（整数）で入力してください"),
    ("retiree_keeps_discount", "maybe", "yes または no を指定してください"),
]


@pytest.mark.parametrize(
    ("column", "value", "reason"), REFUSALS, ids=[f"{c}={v[:10]!r}" for c, v, _ in REFUSALS]
)
def test_each_refusal_names_row_column_and_reason_and_writes_nothing(
    tmp_path, column, value, reason
):
    path = write(tmp_path, [row(), row(**{"group_code": "GRP-2", column: value})])
    assert refuse(path) == [f"row 3: {column}: {reason}"]
    assert not Agency.objects.exists()
    assert not Group.objects.exists()
    assert not ImportBatch.objects.exists()


def test_a_group_code_twice_in_one_file_is_refused(tmp_path):
    assert refuse(write(tmp_path, [row(), row()])) == ["row 3: group_code: 2行目と重複しています"]


def test_missing_and_unknown_columns_are_reported_on_row_1(tmp_path):
    columns = [name for name in COLUMNS if name != "group_name"] + ["memo"]
    values = {**{name: row()[name] for name in columns if name in COLUMNS}, "memo": "x"}
    assert refuse(write(tmp_path, [values], columns=columns)) == [
        "row 1: group_name: 列がありません",
        "row 1: memo: 不明な列です",
    ]
