"""Reading and validating the groups.csv and contracts.csv files of IMPORT_FORMATS.md.

This module only parses: it turns bytes into cleaned rows or a list of ``RowError``. Writing is
in ``services.py``. Row numbers count the header as row 1, as Excel shows them.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from keizoku.core import ja
from keizoku.core.ja import JaInputError

from .models import (
    AgeCondition,
    Deductible,
    DriverScope,
    MemberType,
    PersonalInjury,
    Rider,
    VehicleCover,
    VehicleUsage,
    VehicleUseClass,
)

MAX_ROWS = 200_000


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.column}: {self.reason}"


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP932 as Excel in Japan saves it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError:
        raise ImportFileError(
            "文字コードを判別できません。UTF-8 または Shift_JIS (CP932) で保存してください。"
        ) from None


# --- cleaners: each takes the raw cell and returns the value to store or raises ------------


class CellError(Exception):
    pass


def _nfkc(raw: str) -> str:
    return ja.nfkc(raw).strip()


def text(min_length: int, max_length: int) -> Callable[[str], str]:
    def clean(raw: str) -> str:
        try:
            value = ja.clean_text(raw)
        except JaInputError as error:
            raise CellError(str(error)) from None
        if not min_length <= len(value) <= max_length:
            raise CellError(f"{min_length}〜{max_length}文字で入力してください")
        return value

    return clean


def pattern(regex: str, message: str) -> Callable[[str], str]:
    compiled = re.compile(regex)

    def clean(raw: str) -> str:
        value = ja.unify_dashes(_nfkc(raw))
        if not compiled.fullmatch(value):
            raise CellError(message)
        return value

    return clean


def choice(options: type[models.Choices], *, empty: str | None = None) -> Callable[[str], str]:
    allowed = {str(option) for option in options}

    def clean(raw: str) -> str:
        if raw in allowed:
            return raw
        value = _nfkc(raw).lower()
        if value == "" and empty is not None:
            return empty
        if value not in allowed:
            raise CellError(f"{' / '.join(sorted(allowed))} のいずれかを指定してください")
        return value

    return clean


def yes_no(*, empty: bool | None = None) -> Callable[[str], bool]:
    def clean(raw: str) -> bool:
        if raw == "yes" or raw == "no":
            return raw == "yes"
        value = _nfkc(raw).lower()
        if value == "" and empty is not None:
            return empty
        if value not in ("yes", "no"):
            raise CellError("yes または no を指定してください")
        return value == "yes"

    return clean


_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII, and never too long for int() or a column


def integer(low: int, high: int | None = None, *, empty: int | None = None) -> Callable[[str], int]:
    def clean(raw: str) -> int:
        if len(raw) <= 18 and raw.isascii() and raw.isdigit():  # the usual cell, quickly
            number = int(raw)
            if low <= number and (high is None or number <= high):
                return number
        value = _nfkc(raw).replace(",", "").removesuffix("円")
        if value == "" and empty is not None:
            return empty
        if not _DIGITS.fullmatch(value):
            raise CellError("半角数字（整数）で入力してください")
        number = int(value)
        if number < low or (high is not None and number > high):
            raise CellError(
                f"{low}〜{high}の範囲で入力してください"
                if high is not None
                else f"{low}以上で入力してください"
            )
        return number

    return clean


def percent(high: int, *, empty: Decimal | None = None) -> Callable[[str], Decimal]:
    def clean(raw: str) -> Decimal:
        value = _nfkc(raw).removesuffix("%")
        if value == "" and empty is not None:
            return empty
        if not re.fullmatch(r"\d{1,2}(\.\d)?", value):
            raise CellError("小数点以下1桁までの数値で入力してください")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise CellError("数値で入力してください") from None
        if not 0 <= number <= high:
            raise CellError(f"0〜{high}の範囲で入力してください")
        return number

    return clean


_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_MONTH = re.compile(r"(\d{4})[-/](\d{1,2})")


def a_date(raw: str) -> date:
    """YYYY-MM-DD; Excel's YYYY/M/D is accepted too, since Excel rewrites dates on save."""
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-" and raw.isascii():
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass  # the general path below gives the message
    match = _DATE.fullmatch(ja.unify_dashes(_nfkc(raw)))
    if not match:
        raise CellError("YYYY-MM-DD の形式で入力してください")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise CellError("存在しない日付です") from None


def a_month(raw: str) -> date:
    if (
        len(raw) == 7
        and raw[4] == "-"
        and raw.isascii()
        and raw[:4].isdigit()
        and raw[5:].isdigit()
    ):
        month = int(raw[5:])
        if 1 <= month <= 12:
            return date(int(raw[:4]), month, 1)
    match = _MONTH.fullmatch(ja.unify_dashes(_nfkc(raw)))
    if not match:
        raise CellError("YYYY-MM の形式で入力してください")
    year, month = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise CellError("存在しない年月です")
    return date(year, month, 1)


def phone(raw: str) -> str:
    try:
        return ja.normalize_phone(raw)
    except JaInputError as error:
        raise CellError(str(error)) from None


def postal_code(raw: str) -> str:
    try:
        return ja.normalize_postal_code(raw)
    except JaInputError as error:
        raise CellError(str(error)) from None


def kana(raw: str) -> str:
    try:
        value = ja.to_katakana(raw)
    except JaInputError as error:
        raise CellError(str(error)) from None
    if len(value) > 50:
        raise CellError("1〜50文字で入力してください")
    return value


# The everyday address, accepted without the general validator (a subset of what it accepts).
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def email(raw: str) -> str:
    value = _nfkc(raw)
    if value == "":
        return ""
    if len(value) <= 254 and _PLAIN_EMAIL.fullmatch(value):
        local, _, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"
    try:
        value = ja.normalize_email(value)  # the spelling every address gets (W5)
        validate_email(value)
    except (ja.JaInputError, ValidationError):
        raise CellError("メールアドレスの形式が正しくありません") from None
    return value


def policy_number(raw: str) -> str:
    try:
        return ja.clean_policy_number(raw)
    except JaInputError as error:
        raise CellError(str(error)) from None


def property_damage(raw: str) -> str:
    value = _nfkc(raw).replace(",", "").lower()
    if value == "unlimited":
        return value
    if re.fullmatch(r"[1-9]\d{0,10}", value):
        return value
    raise CellError("unlimited または金額（円、整数）を指定してください")


def riders(raw: str) -> str:
    allowed = [str(rider) for rider in Rider]
    codes = {code.strip().lower() for code in _nfkc(raw).split(";") if code.strip()}
    unknown = codes - set(allowed)
    if unknown:
        raise CellError(f"不明な特約コード: {', '.join(sorted(unknown))}（{' / '.join(allowed)}）")
    return ";".join(code for code in allowed if code in codes)


# --- the two formats -------------------------------------------------------------------------

GROUP_COLUMNS: dict[str, Callable[[str], Any]] = {
    "agency_code": pattern(r"[A-Za-z0-9]{1,16}", "半角英数字1〜16文字で入力してください"),
    "agency_name": text(1, 100),
    "group_code": pattern(r"[A-Za-z0-9-]{1,16}", "半角英数字とハイフン1〜16文字で入力してください"),
    "group_name": text(1, 100),
    "group_discount_percent": percent(50),
    "collection_discount_percent": percent(10, empty=Decimal(0)),
    "renewal_window_days": integer(1, 120, empty=60),
    "retiree_keeps_discount": yes_no(empty=True),
}

CONTRACT_COLUMNS: dict[str, Callable[[str], Any]] = {
    "policy_number": policy_number,
    "group_code": pattern(r"[A-Za-z0-9-]{1,16}", "半角英数字とハイフン1〜16文字で入力してください"),
    "holder_name": text(1, 50),
    "holder_kana": kana,
    "birth_date": a_date,
    "postal_code": postal_code,
    "address": text(1, 200),
    "phone": phone,
    "email": email,
    "member_type": choice(MemberType),
    "period_start": a_date,
    "period_end": a_date,
    "grade": integer(1, 20),
    "coef_period": integer(0, 6),
    "claims_3down": integer(0),
    "claims_1down": integer(0),
    "claims_nocount": integer(0),
    "open_claim": yes_no(),
    "age_condition": choice(AgeCondition),
    "driver_scope": choice(DriverScope),
    "use": choice(VehicleUsage),
    "gold_license": yes_no(),
    "vehicle_use_class": choice(VehicleUseClass),
    "vehicle_model": text(1, 50),
    "vehicle_plate": text(1, 30),
    "first_registration": a_month,
    "model_launch": a_month,
    "asv": yes_no(),
    "class_bi": integer(1, 17),
    "class_pd": integer(1, 17),
    "class_pi": integer(1, 17),
    "class_vh": integer(1, 17),
    "vehicle_cover": choice(VehicleCover),
    "vehicle_value": integer(0),
    "deductible": choice(Deductible, empty=""),
    "personal_injury": choice(PersonalInjury),
    "property_damage": property_damage,
    "riders": riders,
    "paperless": yes_no(),
    "annual_premium": integer(0),
}


def _contract_row_rules(row: dict[str, Any], today: date) -> Iterator[tuple[str, str]]:
    """Rules across columns, checked once each column is valid on its own."""
    if "birth_date" in row and row["birth_date"] >= today:
        yield "birth_date", "過去の日付を入力してください"
    if "period_start" in row and "period_end" in row and row["period_end"] <= row["period_start"]:
        yield "period_end", "period_start より後の日付を入力してください"
    if row.get("vehicle_use_class") == "kei":
        for column in ("class_bi", "class_pd", "class_pi", "class_vh"):
            if column in row and row[column] > 7:
                yield column, "軽自動車の料率クラスは1〜7です"
    cover = row.get("vehicle_cover")
    if cover == "none":
        if row.get("vehicle_value", 0) != 0:
            yield "vehicle_value", "車両保険なし（none）のときは0にしてください"
        if row.get("deductible", "") != "":
            yield "deductible", "車両保険なし（none）のときは空欄にしてください"
    elif cover in ("general", "economy"):
        if row.get("vehicle_value", 1) == 0:
            yield "vehicle_value", "車両保険ありのときは保険金額を入力してください"
        if row.get("deductible", "x") == "":
            yield "deductible", "車両保険ありのときは免責金額を指定してください"


@dataclass
class Parsed:
    rows: list[tuple[int, dict[str, Any]]]
    errors: list[RowError]


def parse(
    data: bytes,
    columns: dict[str, Callable[[str], Any]],
    *,
    key: str,
    today: date,
    cross_rules: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Parsed:
    """Decode, check the header, clean every cell; duplicates of ``key`` are refused.

    ``progress(done, total)`` is called as the columns are cleaned (the long part of a big file).
    """
    text_data = decode(data)
    reader = csv.reader(io.StringIO(text_data, newline=""))
    try:
        header = [ja.nfkc(name).strip() for name in next(reader)]
    except StopIteration:
        raise ImportFileError("ファイルが空です。") from None
    except csv.Error as error:
        raise ImportFileError(f"CSVとして読めません: {error}") from None

    errors: list[RowError] = []
    named = [name for name in header if name]
    for name in sorted(set(columns) - set(named)):
        errors.append(RowError(1, name, "列がありません"))
    for name in named:
        if name not in columns:
            errors.append(RowError(1, name, "不明な列です"))
        elif named.count(name) > 1:
            errors.append(RowError(1, name, "列が重複しています"))
    if errors:
        return Parsed([], sorted(set(errors), key=lambda e: e.column))

    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
            if len(records) > MAX_ROWS:
                raise ImportFileError(f"行数が上限（{MAX_ROWS:,}行）を超えています。")
    except csv.Error as error:
        raise ImportFileError(f"{len(records) + 2}行目をCSVとして読めません: {error}") from None

    rows, row_errors = _clean_records(columns, header, records, today, cross_rules, progress)
    errors.extend(row_errors)

    kept: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        match_key = row["policy_key"] if key == "policy_number" else row[key]
        if match_key in seen:
            errors.append(RowError(number, key, f"{seen[match_key]}行目と重複しています"))
            continue
        seen[match_key] = number
        kept.append((number, row))
    errors.sort(key=lambda e: (e.row, e.column))
    return Parsed(kept, errors)


_FAILED = object()  # a cell value that its cleaner refused


def _clean_records(
    columns: dict[str, Callable[[str], Any]],
    header: list[str],
    records: list[list[str]],
    today: date,
    cross_rules: bool,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """Clean the cells of the records (row 2 onwards): (rows, errors).

    Works column by column: each distinct cell value of a column is cleaned once (cleaners are
    pure functions of the cell), which is what makes a 10⁵-row file quick, since most columns
    repeat a handful of values. Only error-free rows are returned.
    """
    positions = [(index, name, columns[name]) for index, name in enumerate(header) if name]
    width = len(header)
    errors: list[RowError] = []
    numbers: list[int] = []
    padded: list[list[str]] = []
    for row_number, record in enumerate(records, start=2):
        if len(record) == width and record[0].strip():
            numbers.append(row_number)
            padded.append(record)
            continue
        if not any(cell.strip() for cell in record):
            continue  # Excel leaves blank lines at the end
        if len(record) > width and any(cell.strip() for cell in record[width:]):
            errors.append(RowError(row_number, "-", "列の数がヘッダーより多いです"))
            continue
        numbers.append(row_number)
        padded.append((record + [""] * (width - len(record)))[:width])
    if not padded:
        return [], errors

    cells = list(zip(*padded, strict=True))  # one tuple per column of the header
    del padded
    names: list[str] = []
    values: list[list[Any]] = []
    refused: dict[int, list[tuple[str, str]]] = {}  # position in ``numbers`` → (column, reason)
    for done, (index, name, clean) in enumerate(positions):
        if progress is not None:
            progress(done, len(positions))
        column = cells[index]
        cleaned: dict[str, Any] = {}
        reasons: dict[str, str] = {}
        for raw in set(column):
            try:
                cleaned[raw] = clean(raw)
            except CellError as error:
                cleaned[raw] = _FAILED
                reasons[raw] = str(error)
        if reasons:
            for position, raw in enumerate(column):
                if raw in reasons:
                    refused.setdefault(position, []).append((name, reasons[raw]))
        names.append(name)
        values.append(list(map(cleaned.__getitem__, column)))
    del cells

    contracts = columns is CONTRACT_COLUMNS
    if contracts:
        # What matching compares (policy numbers without hyphens; addresses reduced).
        names += ["policy_key", "address_key"]
        policy_keys = {
            raw: ja.normalize_policy_number(raw)
            for raw in set(values[names.index("policy_number")])
            if raw is not _FAILED
        }
        address_keys = {
            raw: ja.normalize_address(raw)
            for raw in set(values[names.index("address")])
            if raw is not _FAILED
        }
        values.append([policy_keys.get(raw) for raw in values[names.index("policy_number")]])
        values.append([address_keys.get(raw) for raw in values[names.index("address")]])

    rows: list[tuple[int, dict[str, Any]]] = []
    # Every column list has one value per kept record, and each tuple one value per name.
    for position, (row_number, row_values) in enumerate(
        zip(numbers, zip(*values, strict=True), strict=True)
    ):
        row = dict(zip(names, row_values, strict=False))
        row_errors = refused.get(position)
        if row_errors:
            for name, _reason in row_errors:
                del row[name]
        if cross_rules:
            rule_errors = list(_contract_row_rules(row, today))
            if rule_errors:
                row_errors = [*(row_errors or []), *rule_errors]
        if row_errors:
            errors.extend(RowError(row_number, name, reason) for name, reason in row_errors)
        else:
            rows.append((row_number, row))
    return rows, errors
