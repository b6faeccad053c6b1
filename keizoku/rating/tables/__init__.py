"""Rate tables as TOML data files beside this module: loading, validation and choice by date."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

TABLE_DIR = Path(__file__).resolve().parent

GRADES = range(1, 21)
USE_CLASSES = {"futsu": 17, "kogata": 17, "kei": 7}  # 用途・車種 → number of 型式別料率クラス
LINES_RATED = ("BI", "PD", "PI", "VH")
PD_LIMITS = ("unlimited", "50000000", "30000000")
PI_AMOUNTS = ("30000000", "50000000", "100000000", "unlimited")
RIDERS = ("legal", "liability", "family_bike", "road")
AGE_CONDITIONS = ("all", "21", "26", "35")
DRIVER_SCOPES = ("any", "self_spouse", "self")
USES = ("leisure", "commute", "business")
VEHICLE_COVERS = ("general", "economy")
DEDUCTIBLES = ("0-10", "5-10", "10-10")
ROUNDING_MODES = ("floor", "half_up", "ceiling")


class TableError(ValueError):
    """A rate table file that cannot be used: ``"file.toml: key: reason"``."""


@dataclass(frozen=True, slots=True)
class GradeTable:
    """ノンフリート等級別料率: rate (−0.18 = 18% discount) by grade and column."""

    name: str  # the file name
    version: str
    insurer: str
    effective_from: date
    illustrative: bool
    no_accident: dict[int, Decimal]  # 無事故
    with_accident: dict[int, Decimal]  # 事故有
    new_contract: dict[str, Decimal]  # 新規契約: "6S", "7S" (second car); for reference

    def rate(self, grade: int, coef_period: int) -> Decimal:
        """The rate of a grade; period 0 uses the 無事故 column, 1–6 the 事故有 column."""
        return (self.with_accident if coef_period else self.no_accident)[grade]


@dataclass(frozen=True, slots=True)
class FactorTable:
    """Base premiums and rating factors of one insurer from one effective date."""

    name: str
    version: str
    insurer: str
    effective_from: date
    illustrative: bool
    rounding_unit: int
    rounding_mode: str
    paperless_discount: int
    base: dict[str, dict[str, tuple[int, ...]]]  # line → use class → base by class (index 0 = 1)
    pd_limits: dict[str, Decimal]
    pi_amounts: dict[str, Decimal]
    value_band: int
    value_relativities: tuple[Decimal, ...]
    value_beyond: Decimal
    riders: dict[str, int]
    age_condition: dict[str, Decimal]
    driver_scope: dict[str, Decimal]
    use: dict[str, Decimal]
    gold_license: Decimal
    asv: Decimal
    asv_max_years: int
    new_car: Decimal
    new_car_max_months: int
    vehicle_cover: dict[tuple[str, str], Decimal]  # (cover, deductible) → factor


@dataclass(frozen=True, slots=True)
class TableSet:
    """The grade table and the factor table that price one period."""

    grades: GradeTable
    factors: FactorTable
    version: str = field(init=False)  # "<grade version>+<factor version>", kept on every quote

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", f"{self.grades.version}+{self.factors.version}")


# --- validation helpers -------------------------------------------------------------------------


class _Reader:
    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name = name
        self.data = data

    def fail(self, key: str, reason: str) -> TableError:
        return TableError(f"{self.name}: {key}: {reason}")

    def get(self, key: str, kind: type | tuple[type, ...] | None = None) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise self.fail(key, "missing")
            node = node[part]
        if kind is not None and (
            not isinstance(node, kind) or isinstance(node, bool) != (kind is bool)
        ):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {node!r}")
        return node

    def table(self, key: str, keys: tuple[str, ...]) -> dict[str, Any]:
        node = self.get(key, dict)
        missing = [k for k in keys if k not in node]
        if missing:
            raise self.fail(f"{key}.{missing[0]}", "missing")
        extra = [k for k in node if k not in keys]
        if extra:
            raise self.fail(f"{key}.{extra[0]}", f"unknown key (expected one of {', '.join(keys)})")
        return node

    def decimal(self, key: str, value: Any = None, *, positive: bool = True) -> Decimal:
        raw = self.get(key) if value is None else value
        if not isinstance(raw, str):
            raise self.fail(key, f'expected a decimal string such as "0.95", got {raw!r}')
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise self.fail(key, f"not a decimal number: {raw!r}") from None
        if not number.is_finite() or (positive and number <= 0):
            raise self.fail(key, f"must be a positive number, got {raw!r}")
        return number

    def integer(self, key: str, value: Any = None, *, minimum: int = 0) -> int:
        raw = self.get(key) if value is None else value
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise self.fail(key, f"expected an integer, got {raw!r}")
        if raw < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {raw}")
        return raw


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        bool: "true or false",
        dict: "a table",
        list: "a list",
        date: "a date (YYYY-MM-DD)",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


HEADER_KEYS = ("kind", "insurer", "version", "effective_from", "illustrative")
GRADE_KEYS = (*HEADER_KEYS, "rates", "new_contract")
FACTOR_KEYS = (
    *HEADER_KEYS,
    "rounding",
    "paperless",
    "base",
    "limits",
    "vehicle_value",
    "riders",
    "factors",
)
NEW_CONTRACT_GRADES = ("6S", "7S")


def _header(reader: _Reader, kind: str, keys: tuple[str, ...]) -> dict[str, Any]:
    found = reader.get("kind", str)
    if found != kind:
        raise reader.fail("kind", f"expected {kind!r}, got {found!r}")
    extra = [key for key in reader.data if key not in keys]
    if extra:  # a misspelt section would otherwise be ignored
        raise reader.fail(extra[0], f"unknown key (expected one of {', '.join(keys)})")
    effective = reader.get("effective_from")
    if not isinstance(effective, date) or hasattr(effective, "hour"):
        raise reader.fail("effective_from", f"expected a date (YYYY-MM-DD), got {effective!r}")
    return {
        "name": reader.name,
        "version": reader.get("version", str),
        "insurer": reader.get("insurer", str),
        "effective_from": effective,
        "illustrative": reader.get("illustrative", bool),
    }


def _grade_table(reader: _Reader) -> GradeTable:
    header = _header(reader, "grade", GRADE_KEYS)
    rates = reader.table("rates", tuple(str(g) for g in GRADES))
    no_accident: dict[int, Decimal] = {}
    with_accident: dict[int, Decimal] = {}
    for grade in GRADES:
        key = f"rates.{grade}"
        pair = rates[str(grade)]
        if not (isinstance(pair, list) and len(pair) == 2):
            raise reader.fail(key, f"expected [無事故 %, 事故有 %], got {pair!r}")
        first, second = (reader.integer(key, value, minimum=-99) for value in pair)
        if grade <= 6 and first != second:
            raise reader.fail(key, "grades 1–6 have one rate in both columns")
        no_accident[grade] = Decimal(first) / 100
        with_accident[grade] = Decimal(second) / 100
    new_contract: dict[str, Decimal] = {}
    if "new_contract" in reader.data:
        node = reader.get("new_contract", dict)
        extra = [key for key in node if key not in NEW_CONTRACT_GRADES]
        if extra:
            raise reader.fail(
                f"new_contract.{extra[0]}",
                f"unknown key (expected {', '.join(NEW_CONTRACT_GRADES)})",
            )
        for key, value in node.items():
            new_contract[key] = (
                Decimal(reader.integer(f"new_contract.{key}", value, minimum=-99)) / 100
            )
    return GradeTable(
        **header, no_accident=no_accident, with_accident=with_accident, new_contract=new_contract
    )


def _factor_table(reader: _Reader) -> FactorTable:
    header = _header(reader, "factors", FACTOR_KEYS)
    rounding = reader.table("rounding", ("unit", "mode"))
    unit = reader.integer("rounding.unit", rounding["unit"], minimum=1)
    mode = reader.get("rounding.mode", str)
    if mode not in ROUNDING_MODES:
        raise reader.fail("rounding.mode", f"expected one of {', '.join(ROUNDING_MODES)}")
    reader.table("paperless", ("discount",))
    paperless = reader.integer("paperless.discount")
    reader.table("base", LINES_RATED)
    reader.table("limits", ("PD", "PI"))
    reader.table("vehicle_value", ("band", "relativities", "beyond"))
    reader.table(
        "factors",
        ("age_condition", "driver_scope", "use", "gold_license", "asv", "new_car", "vehicle_cover"),
    )
    reader.table("factors.gold_license", ("factor",))
    reader.table("factors.asv", ("factor", "max_years"))
    reader.table("factors.new_car", ("factor", "max_months"))

    base: dict[str, dict[str, tuple[int, ...]]] = {}
    for line in LINES_RATED:
        by_class = reader.table(f"base.{line}", tuple(USE_CLASSES))
        base[line] = {}
        for use_class, count in USE_CLASSES.items():
            key = f"base.{line}.{use_class}"
            values = by_class[use_class]
            if not isinstance(values, list) or len(values) != count:
                got = len(values) if isinstance(values, list) else repr(values)
                raise reader.fail(key, f"expected {count} classes (1–{count}), got {got}")
            base[line][use_class] = tuple(
                reader.integer(f"{key}[{i + 1}]", v, minimum=1) for i, v in enumerate(values)
            )

    def decimals(key: str, keys: tuple[str, ...]) -> dict[str, Decimal]:
        node = reader.table(key, keys)
        return {k: reader.decimal(f"{key}.{k}", node[k]) for k in keys}

    relativities = reader.get("vehicle_value.relativities", list)
    if not relativities:
        raise reader.fail("vehicle_value.relativities", "at least one band is needed")
    value_relativities = tuple(
        reader.decimal(f"vehicle_value.relativities[{i + 1}]", v)
        for i, v in enumerate(relativities)
    )
    vehicle_cover: dict[tuple[str, str], Decimal] = {}
    reader.table("factors.vehicle_cover", VEHICLE_COVERS)
    for cover in VEHICLE_COVERS:
        for deductible, factor in decimals(f"factors.vehicle_cover.{cover}", DEDUCTIBLES).items():
            vehicle_cover[(cover, deductible)] = factor
    return FactorTable(
        **header,
        rounding_unit=unit,
        rounding_mode=mode,
        paperless_discount=paperless,
        base=base,
        pd_limits=decimals("limits.PD", PD_LIMITS),
        pi_amounts=decimals("limits.PI", PI_AMOUNTS),
        value_band=reader.integer("vehicle_value.band", minimum=1),
        value_relativities=value_relativities,
        value_beyond=_non_negative(reader, "vehicle_value.beyond"),
        riders={
            code: reader.integer(f"riders.{code}", value, minimum=0)
            for code, value in reader.table("riders", RIDERS).items()
        },
        age_condition=decimals("factors.age_condition", AGE_CONDITIONS),
        driver_scope=decimals("factors.driver_scope", DRIVER_SCOPES),
        use=decimals("factors.use", USES),
        gold_license=reader.decimal("factors.gold_license.factor"),
        asv=reader.decimal("factors.asv.factor"),
        asv_max_years=reader.integer("factors.asv.max_years"),
        new_car=reader.decimal("factors.new_car.factor"),
        new_car_max_months=reader.integer("factors.new_car.max_months", minimum=1),
        vehicle_cover=vehicle_cover,
    )


def _non_negative(reader: _Reader, key: str) -> Decimal:
    number = reader.decimal(key, positive=False)
    if number < 0:
        raise reader.fail(key, f"must not be negative, got {reader.get(key)!r}")
    return number


def load_table(path: Path | str) -> GradeTable | FactorTable:
    """Read and validate one table file; any problem raises ``TableError`` naming file and key."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise TableError(f"{path.name}: (syntax): {error}") from None
    except OSError as error:
        raise TableError(f"{path.name}: (file): {error.strerror}") from None
    reader = _Reader(path.name, data)
    kind = reader.get("kind", str)
    if kind == "grade":
        return _grade_table(reader)
    if kind == "factors":
        return _factor_table(reader)
    raise reader.fail("kind", f"expected 'grade' or 'factors', got {kind!r}")


@cache
def all_tables(directory: Path = TABLE_DIR) -> tuple[GradeTable | FactorTable, ...]:
    """Every table file of a directory, validated once (a bad file stops everything)."""
    tables = tuple(load_table(path) for path in sorted(directory.glob("*.toml")))
    versions = [table.version for table in tables]
    for version in versions:
        if versions.count(version) > 1:
            raise TableError(f"{directory.name}: version: {version!r} is used by two files")
    return tables


def _effective(candidates: list, start: date, what: str, directory: Path):
    usable = [t for t in candidates if t.effective_from <= start]
    if not usable:
        raise TableError(f"{directory.name}: effective_from: no {what} table in effect on {start}")
    return max(usable, key=lambda t: t.effective_from)


def grade_table_for(start: date, *, directory: Path = TABLE_DIR) -> GradeTable:
    """The grade table in effect on ``start`` (the latest ``effective_from`` ≤ it)."""
    grades = [t for t in all_tables(directory) if isinstance(t, GradeTable)]
    return _effective(grades, start, "grade", directory)


def factor_table_for(
    start: date, *, insurer: str | None = None, directory: Path = TABLE_DIR
) -> FactorTable:
    """The factor table (of ``insurer`` if given) in effect on ``start``."""
    factors = [
        t
        for t in all_tables(directory)
        if isinstance(t, FactorTable) and insurer in (None, t.insurer)
    ]
    return _effective(factors, start, "factor", directory)


@cache
def tables_for(start: date, *, insurer: str | None = None, directory: Path = TABLE_DIR) -> TableSet:
    """The grade and factor tables in effect on ``start``."""
    return TableSet(
        grades=grade_table_for(start, directory=directory),
        factors=factor_table_for(start, insurer=insurer, directory=directory),
    )


@cache
def tables_by_version(version: str, *, directory: Path = TABLE_DIR) -> TableSet:
    """The table set recorded on a quote (``"<grade version>+<factor version>"``)."""
    grade_version, _, factor_version = version.partition("+")
    by_version = {t.version: t for t in all_tables(directory)}
    grades, factors = by_version.get(grade_version), by_version.get(factor_version)
    if not isinstance(grades, GradeTable) or not isinstance(factors, FactorTable):
        raise TableError(f"{directory.name}: version: no table set {version!r}")
    return TableSet(grades=grades, factors=factors)
