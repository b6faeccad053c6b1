"""Rate tables: the shipped files load, and every broken file is refused naming file and key."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from keizoku.rating.tables import (
    TABLE_DIR,
    FactorTable,
    GradeTable,
    TableError,
    all_tables,
    load_table,
    tables_by_version,
    tables_for,
)

GRADE_2023 = (TABLE_DIR / "giroj_grade_2023.toml").read_text(encoding="utf-8")
FACTORS = (TABLE_DIR / "illustrative_factors_2025.toml").read_text(encoding="utf-8")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path: Path, source: str, old: str, new: str, name: str) -> Path:
    assert old in source, old
    return write(tmp_path, name, source.replace(old, new, 1))


def test_the_shipped_tables_load_and_say_what_is_illustrative():
    by_name = {table.name: table for table in all_tables()}
    assert set(by_name) == {
        "giroj_grade_2013.toml",
        "giroj_grade_2023.toml",
        "illustrative_factors_2025.toml",
    }
    assert isinstance(by_name["giroj_grade_2023.toml"], GradeTable)
    assert by_name["giroj_grade_2023.toml"].illustrative is False
    factors = by_name["illustrative_factors_2025.toml"]
    assert isinstance(factors, FactorTable) and factors.illustrative is True
    assert factors.effective_from == date(2025, 1, 1)
    grades = by_name["giroj_grade_2023.toml"]
    assert grades.new_contract == {"6S": Decimal("0.03"), "7S": Decimal("-0.38")}
    assert by_name["giroj_grade_2013.toml"].new_contract == {}


def test_the_version_in_effect_is_chosen_by_the_start_date():
    assert tables_for(date(2026, 12, 25)).version == "giroj-grade-2023+illustrative-factors-2025"
    again = tables_by_version("giroj-grade-2013+illustrative-factors-2025")
    assert again.grades.version == "giroj-grade-2013"
    with pytest.raises(TableError, match="no table set"):
        tables_by_version("giroj-grade-1999+illustrative-factors-2025")
    with pytest.raises(TableError, match="no factor table in effect on 2024-12-31"):
        tables_for(date(2024, 12, 31))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("20 = [-63, -51]\n", "", "giroj_grade_2023.toml: rates.20: missing"),
        ("3 = [38, 38]", "3 = [38, 30]", "rates.3: grades 1–6 have one rate in both columns"),
        ("9 = [-44, -18]", "9 = [-44]", "rates.9: expected [無事故 %, 事故有 %]"),
        ("9 = [-44, -18]", '9 = [-44, "x"]', "rates.9: expected an integer"),
        ("20 = [-63, -51]", "20 = [-63, -51]\n21 = [-70, -60]", "rates.21: unknown key"),
        ("effective_from = 2023-01-01", 'effective_from = "2023"', "effective_from: expected"),
        ("illustrative = false", 'illustrative = "no"', "illustrative: expected true or false"),
        ('kind = "grade"', 'kind = "grades"', "kind: expected 'grade' or 'factors'"),
        ('version = "giroj-grade-2023"\n', "", "version: missing"),
        ("[rates]", "[rates", "giroj_grade_2023.toml: (syntax)"),
        ("[rates]", "[rate]", "giroj_grade_2023.toml: rate: unknown key"),
        ("illustrative = false", "illustrative = false\nnote = 1", "note: unknown key"),
        ("7S = -38", "7F = -38", "new_contract.7F: unknown key"),
        ("6S = 3", '6S = "3%"', "new_contract.6S: expected an integer"),
    ],
)
def test_a_broken_grade_table_is_refused_naming_the_key(tmp_path, old, new, message):
    path = broken(tmp_path, GRADE_2023, old, new, "giroj_grade_2023.toml")
    with pytest.raises(TableError) as error:
        load_table(path)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "kei = [14100, 15200, 16500, 17800, 19200, 20700, 22400]",
            "kei = [14100, 15200, 16500, 17800, 19200, 20700]",
            "base.BI.kei: expected 7 classes (1–7), got 6",
        ),
        ("futsu = [19100,", "futsu = [0,", "base.PD.futsu[1]: must be at least 1"),
        ('"5-10" = "0.85"\n', "", "factors.vehicle_cover.general.5-10: missing"),
        ('commute = "1.10"', "commute = 1.10", "factors.use.commute: expected a decimal string"),
        ('commute = "1.10"', 'commute = "1,10"', "factors.use.commute: not a decimal number"),
        ('self = "0.90"', 'self = "-0.90"', "factors.driver_scope.self: must be a positive"),
        ("family_bike = 7200\n", "", "riders.family_bike: missing"),
        (
            '30000000 = "0.95"',
            '30000000 = "0.95"\n20000000 = "0.93"',
            "limits.PD.20000000: unknown key",
        ),
        ('100000000 = "1.12"\n', "", "limits.PI.100000000: missing"),
        ('35 = "0.95"\n', "", "factors.age_condition.35: missing"),
        ('mode = "floor"', 'mode = "down"', "rounding.mode: expected one of floor"),
        ("max_months = 49", "", "factors.new_car.max_months: missing"),
        ("[base.VH]", "[base.VX]", "base.VH: missing"),
        ("[riders]", "[rider]", "illustrative_factors_2025.toml: rider: unknown key"),
        ("[base.VH]", "[base.TPL]\nfutsu = []\n[base.VH]", "base.TPL: unknown key"),
        ('factor = "0.88"', 'factor = "0.88"\nrate = "0.9"', "factors.gold_license.rate: unknown"),
        ("[factors.asv]", "[factors.asb]", "factors.asv: missing"),
        ('beyond = "0.17"', 'beyond = "-0.17"', "vehicle_value.beyond: must not be negative"),
    ],
)
def test_a_broken_factor_table_is_refused_naming_the_key(tmp_path, old, new, message):
    path = broken(tmp_path, FACTORS, old, new, "illustrative_factors_2025.toml")
    with pytest.raises(TableError) as error:
        load_table(path)
    assert str(error.value).startswith("illustrative_factors_2025.toml: ")
    assert message in str(error.value)


def test_two_files_with_one_version_are_refused(tmp_path):
    write(tmp_path, "a.toml", GRADE_2023)
    write(tmp_path, "b.toml", GRADE_2023)
    with pytest.raises(TableError, match="'giroj-grade-2023' is used by two files"):
        all_tables(tmp_path)


def test_a_later_table_takes_over_from_its_effective_date(tmp_path):
    write(tmp_path, "grade.toml", GRADE_2023)
    write(tmp_path, "factors_2025.toml", FACTORS)
    revised = (
        FACTORS.replace("2025-01-01", "2027-04-01")
        .replace('version = "illustrative-factors-2025"', 'version = "illustrative-factors-2027"')
        .replace('commute = "1.10"', 'commute = "1.12"')
    )
    write(tmp_path, "factors_2027.toml", revised)
    assert tables_for(date(2027, 3, 31), directory=tmp_path).factors.use["commute"] == Decimal(
        "1.10"
    )
    later = tables_for(date(2027, 4, 1), directory=tmp_path)
    assert later.version == "giroj-grade-2023+illustrative-factors-2027"
    assert later.factors.use["commute"] == Decimal("1.12")
