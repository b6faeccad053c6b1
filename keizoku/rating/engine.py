"""The premium of a renewal, line by line with a trace of every factor (RATING.md §3)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache
from typing import Any, NamedTuple

from .grades import format_rate, next_grade
from .tables import FactorTable, TableSet, tables_for

LINE_LABELS = {
    "BI": "対人賠償",
    "PD": "対物賠償",
    "PI": "人身傷害",
    "VH": "車両保険",
    "LEGAL": "弁護士費用特約",
    "LIABILITY": "個人賠償責任特約",
    "FAMILY_BIKE": "ファミリーバイク特約",
    "ROAD": "ロードアシスタンス特約",
    "PAPERLESS": "Web証券割引",
}
FACTOR_LABELS = {
    "grade": "等級",
    "age_condition": "運転者年齢条件",
    "driver_scope": "運転者限定",
    "use": "使用目的",
    "gold_license": "ゴールド免許割引",
    "asv": "ASV割引",
    "new_car": "新車割引",
    "vehicle_cover": "車両保険の種類・免責金額",
    "group": "団体割引",
    "collection": "団体扱割引",
}
RIDER_LINES = {
    "legal": "LEGAL",
    "liability": "LIABILITY",
    "family_bike": "FAMILY_BIKE",
    "road": "ROAD",
}
_RIDER_CODES = frozenset(RIDER_LINES)
VEHICLE_COVER_LABELS = {"general": "一般", "economy": "エコノミー"}
EMPLOYEE, RETIREE = "employee", "retiree"
_ROUNDING = {"floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "ceiling": ROUND_CEILING}
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_EXACT = Context(prec=80)  # wide enough that no product of the tables' factors is ever rounded


class RatingError(ValueError):
    """An input the tables cannot price (e.g. a vehicle cover without a vehicle value)."""


@dataclass(frozen=True, slots=True)
class Coverages:
    """The chosen coverages (補償内容): limits, vehicle cover and riders (特約)."""

    personal_injury: str  # 人身傷害: "30000000" | "50000000" | "100000000" | "unlimited"
    property_damage: str  # 対物賠償: "unlimited" | "50000000" | "30000000"
    vehicle_cover: str  # 車両保険: "none" | "general" | "economy"
    deductible: str  # 免責金額: "0-10" | "5-10" | "10-10"; "" without vehicle cover
    riders: tuple[str, ...] = ()  # "legal" | "liability" | "family_bike" | "road", sorted

    def as_dict(self) -> dict[str, Any]:
        return {
            "personal_injury": self.personal_injury,
            "property_damage": self.property_damage,
            "vehicle_cover": self.vehicle_cover,
            "deductible": self.deductible,
            "riders": list(self.riders),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Coverages:
        return cls(
            personal_injury=str(data["personal_injury"]),
            property_damage=str(data["property_damage"]),
            vehicle_cover=str(data["vehicle_cover"]),
            deductible=str(data.get("deductible") or ""),
            riders=tuple(sorted(set(data.get("riders") or ()))),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingInput:
    """Everything the premium of one renewal depends on; the caller reads no clock for it."""

    start: date  # the first day of the period priced (the renewal: the expiring period's end)
    grade: int  # ノンフリート等級 of the expiring contract
    coef_period: int  # 事故有係数適用期間 of the expiring contract
    claims_3down: int = 0  # paid 3等級ダウン事故 in the expiring year
    claims_1down: int = 0  # paid 1等級ダウン事故
    # Claims still open (reserved) at quote time: quoted as if paid (RATING.md §4). Their kind
    # is not settled yet, so each counts as a 3-down accident, the general case and the highest
    # premium: the quote never understates what the customer will pay.
    open_claims: int = 0
    age_condition: str  # 運転者年齢条件: all | 21 | 26 | 35
    driver_scope: str  # 運転者限定: any | self_spouse | self
    use: str  # 使用目的: leisure | commute | business
    gold_license: bool  # ゴールド免許
    vehicle_use_class: str  # 用途・車種: futsu | kogata | kei
    class_bi: int  # 型式別料率クラス
    class_pd: int
    class_pi: int
    class_vh: int
    first_registration: date  # 初度登録年月 (1st of the month)
    model_launch: date  # 型式発売年月 (1st of the month)
    asv: bool  # 自動ブレーキ (AEB)
    vehicle_value: int = 0  # 車両保険金額 (yen)
    coverages: Coverages
    group_discount_percent: Decimal = Decimal(0)  # 団体割引
    collection_discount_percent: Decimal = Decimal(0)  # 団体扱割引
    member_type: str = EMPLOYEE  # employee | retiree
    retiree_keeps_discount: bool = True  # the group's setting
    paperless: bool = False  # Web証券


@dataclass(frozen=True, slots=True)
class Rounding:
    """Rounding of each line to ``unit`` yen (illustrative, configurable)."""

    unit: int = 10
    mode: str = "floor"  # floor | half_up | ceiling

    def apply(self, amount: Decimal) -> int:
        unit = self.unit
        if self.mode == "floor" and amount >= 0:
            return int(amount) // unit * unit  # int() truncates: the floor of a positive amount
        return int((amount / unit).to_integral_value(rounding=_ROUNDING[self.mode])) * unit


class FactorEntry(NamedTuple):
    code: str
    label: str
    value: Decimal


class Line(NamedTuple):
    code: str  # BI, PD, PI, VH, LEGAL, LIABILITY, FAMILY_BIKE, ROAD, PAPERLESS
    label: str
    limit_label: str
    base: int
    factors: tuple[FactorEntry, ...]
    premium: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "limit_label": self.limit_label,
            "base": self.base,
            "factors": [
                {"code": f.code, "label": f.label, "value": str(f.value)} for f in self.factors
            ],
            "premium": self.premium,
        }


class Priced(NamedTuple):
    """The premium of one situation at a given grade (no grade transition)."""

    lines: tuple[Line, ...]
    paperless_discount: int
    annual_premium: int
    table_version: str


class Quote(NamedTuple):
    """A renewal quote: the next grade, the lines with their trace, the annual premium."""

    next_grade: int
    coef_period: int
    grade_rate: Decimal
    lines: tuple[Line, ...]  # the Web証券割引 line (negative) included when it applies
    paperless_discount: int
    annual_premium: int
    installments: tuple[int, ...]  # 12 (payroll) or 1 (annual transfer)
    table_version: str  # "<grade table version>+<factor table version>"
    open_claims: int = 0  # open claims counted as paid 3-down accidents: refer to the agency

    @property
    def table_versions(self) -> dict[str, str]:
        grade, _, factors = self.table_version.partition("+")
        return {"grade": grade, "factors": factors}

    def as_dict(self) -> dict[str, Any]:
        return {
            "next_grade": self.next_grade,
            "coef_period": self.coef_period,
            "grade_rate": str(self.grade_rate),
            "grade_rate_percent": format_rate(self.grade_rate),
            "lines": [line.as_dict() for line in self.lines],
            "paperless_discount": self.paperless_discount,
            "annual_premium": self.annual_premium,
            "installments": list(self.installments),
            "table_version": self.table_version,
            "table_versions": self.table_versions,
            "open_claims": self.open_claims,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False)


# --- labels ---------------------------------------------------------------------------------------


def yen_label(amount: int) -> str:
    """30000000 → 3,000万円; 100000000 → 1億円; 2350000 → 235万円."""
    if amount >= 100_000_000 and amount % 100_000_000 == 0:
        return f"{amount // 100_000_000:,}億円"
    if amount % 10_000 == 0:
        return f"{amount // 10_000:,}万円"
    return f"{amount:,}円"


@lru_cache(maxsize=64)
def limit_label(value: str) -> str:
    return "無制限" if value == "unlimited" else yen_label(int(value))


@lru_cache(maxsize=1024)
def vehicle_label(cover: str, deductible: str, value: int) -> str:
    return f"{yen_label(value)}（{VEHICLE_COVER_LABELS[cover]}・免責{deductible}万円）"


# --- pricing --------------------------------------------------------------------------------------


def _rounder(rounding: Rounding):
    """``rounding.apply``, or the same floor as a bare closure (premiums are never negative)."""
    if rounding.mode != "floor":
        return rounding.apply
    unit = rounding.unit

    def floor(amount: Decimal) -> int:
        return int(amount) // unit * unit

    return floor


class _Compiled:
    """A table set's factors as ready-made trace entries (built once per table set)."""

    __slots__ = (
        "age",
        "asv",
        "bases",
        "cover",
        "factors",
        "gold",
        "grade",
        "new_car",
        "paperless",
        "pd",
        "pi",
        "riders",
        "round",
        "scope",
        "use",
        "version",
    )

    def __init__(self, tables: TableSet) -> None:
        grades, factors = tables.grades, tables.factors

        def entries(code: str, values: dict) -> dict:
            return {key: FactorEntry(code, FACTOR_LABELS[code], v) for key, v in values.items()}

        self.grade = {
            (grade, period): FactorEntry("grade", FACTOR_LABELS["grade"], _ONE + rate)
            for grade in grades.no_accident
            for period in range(7)
            for rate in [grades.rate(grade, period)]
        }
        self.age = entries("age_condition", factors.age_condition)
        self.scope = entries("driver_scope", factors.driver_scope)
        self.use = entries("use", factors.use)
        self.gold = FactorEntry("gold_license", FACTOR_LABELS["gold_license"], factors.gold_license)
        self.asv = FactorEntry("asv", FACTOR_LABELS["asv"], factors.asv)
        self.new_car = FactorEntry("new_car", FACTOR_LABELS["new_car"], factors.new_car)
        self.cover = entries("vehicle_cover", factors.vehicle_cover)
        self.bases = {
            use_class: tuple(factors.base[line][use_class] for line in ("BI", "PD", "PI", "VH"))
            for use_class in factors.base["BI"]
        }
        self.pd = {k: (v, limit_label(k)) for k, v in factors.pd_limits.items()}
        self.pi = {k: (v, limit_label(k)) for k, v in factors.pi_amounts.items()}
        self.riders = tuple(
            (rider, code, factors.riders[rider]) for rider, code in RIDER_LINES.items()
        )
        self.paperless = factors.paperless_discount
        self.factors = factors
        self.version = tables.version
        self.round = _rounder(Rounding(factors.rounding_unit, factors.rounding_mode))


_COMPILED: dict[int, tuple[TableSet, _Compiled]] = {}


def _compiled(tables: TableSet) -> _Compiled:
    hit = _COMPILED.get(id(tables))
    if hit is None or hit[0] is not tables:  # the table set is kept alive, so ids are not reused
        hit = _COMPILED[id(tables)] = (tables, _Compiled(tables))
    return hit[1]


def asv_applies(inp: RatingInput, factors: FactorTable) -> bool:
    """ASV割引: AEB fitted, model launched at most N years before the start year."""
    return inp.asv and inp.start.year <= inp.model_launch.year + factors.asv_max_years


def new_car_applies(inp: RatingInput, factors: FactorTable) -> bool:
    """新車割引: the start falls in month ≤ N counted from the first registration month (= 1)."""
    first = inp.first_registration
    months = (inp.start.year - first.year) * 12 + inp.start.month - first.month + 1
    return months <= factors.new_car_max_months


@lru_cache(maxsize=256)
def _discount_factor(percent: Decimal) -> Decimal:
    factor = _ONE - Decimal(percent) / _HUNDRED
    two_places = factor.quantize(Decimal("0.01"))
    return two_places if two_places == factor else factor  # 20% → 0.80, 12.5% → 0.875


@lru_cache(maxsize=1024)
def _group(
    lost: bool, group: Decimal, collection: Decimal
) -> tuple[tuple[FactorEntry, ...], Decimal]:
    """団体割引 × 団体扱割引 (entries, product); ``lost``: a retiree whose group takes them away."""
    if lost:
        return (), _ONE
    entries = []
    if group:
        entries.append(FactorEntry("group", FACTOR_LABELS["group"], _discount_factor(group)))
    if collection:
        entries.append(
            FactorEntry("collection", FACTOR_LABELS["collection"], _discount_factor(collection))
        )
    product = _ONE
    for entry in entries:
        product *= entry.value
    return tuple(entries), product


def _vehicle_relativity(factors: FactorTable, value: int) -> Decimal:
    band = -(-value // factors.value_band)  # ceil: 2,000,000 → band 2
    relativities = factors.value_relativities
    if band <= len(relativities):
        return relativities[max(band, 1) - 1]
    return relativities[-1] + factors.value_beyond * (band - len(relativities))


def price(
    inp: RatingInput,
    *,
    grade: int,
    coef_period: int,
    tables: TableSet | None = None,
    rounding: Rounding | None = None,
) -> Priced:
    """The premium of ``inp`` at the given grade and period (no transition applied).

    Each line: base × the rating factors in the table's order, rounded; then × the group
    factors (団体割引 × 団体扱割引), rounded again. The factors are multiplied exactly (a wide
    Decimal context, no intermediate rounding), so multiplying the line's base by the product
    of the factors is the same as multiplying it by each factor in turn.
    """
    compiled = _compiled(tables or tables_for(inp.start))
    round_ = compiled.round if rounding is None else rounding.apply
    cov = inp.coverages
    try:
        common = [
            compiled.grade[grade, coef_period],
            compiled.age[inp.age_condition],
            compiled.scope[inp.driver_scope],
            compiled.use[inp.use],
        ]
        bi_bases, pd_bases, pi_bases, vh_bases = compiled.bases[inp.vehicle_use_class]
        pd_relativity, pd_label = compiled.pd[cov.property_damage]
        pi_relativity, pi_label = compiled.pi[cov.personal_injury]
    except KeyError as error:
        raise RatingError(f"no rate for {error.args[0]!r}") from None
    if inp.gold_license:
        common.append(compiled.gold)
    if asv_applies(inp, compiled.factors):
        common.append(compiled.asv)
    if new_car_applies(inp, compiled.factors):
        common.append(compiled.new_car)
    group, group_product = _group(
        inp.member_type == RETIREE and not inp.retiree_keeps_discount,
        inp.group_discount_percent,
        inp.collection_discount_percent,
    )
    common_trace = (*common, *group)
    top = len(bi_bases)
    if not (
        0 < inp.class_bi <= top
        and 0 < inp.class_pd <= top
        and 0 < inp.class_pi <= top
        and 0 < inp.class_vh <= top
    ):
        classes = (inp.class_bi, inp.class_pd, inp.class_pi, inp.class_vh)
        raise RatingError(f"型式別料率クラス {classes} outside 1–{top} for {inp.vehicle_use_class}")
    with localcontext(_EXACT):
        product = _ONE
        for entry in common:
            product *= entry.value
        rated = [
            ("BI", bi_bases[inp.class_bi - 1], "無制限", product, common_trace),
            (
                "PD",
                int(pd_bases[inp.class_pd - 1] * pd_relativity),
                pd_label,
                product,
                common_trace,
            ),
            (
                "PI",
                int(pi_bases[inp.class_pi - 1] * pi_relativity),
                pi_label,
                product,
                common_trace,
            ),
        ]
        if cov.vehicle_cover != "none":
            if inp.vehicle_value <= 0:
                raise RatingError("車両保険金額が設定されていません。")
            cover_entry = compiled.cover.get((cov.vehicle_cover, cov.deductible))
            if cover_entry is None:
                raise RatingError(
                    f"no rate for {cov.vehicle_cover} with deductible {cov.deductible!r}"
                )
            vh_base = int(
                vh_bases[inp.class_vh - 1]
                * _vehicle_relativity(compiled.factors, inp.vehicle_value)
            )
            rated.append(
                (
                    "VH",
                    vh_base,
                    vehicle_label(cov.vehicle_cover, cov.deductible, inp.vehicle_value),
                    product * cover_entry.value,
                    (*common, cover_entry, *group),
                )
            )
        if cov.riders:
            riders = cov.riders
            if not _RIDER_CODES.issuperset(riders):
                raise RatingError(f"unknown rider in {riders!r}")
            for rider, code, base in compiled.riders:  # in the order of RATING.md
                if rider in riders:
                    rated.append((code, base, "", _ONE, group))
        lines = []
        total = 0
        for code, base, label, line_product, trace in rated:
            premium = round_(base * line_product)
            if group:
                premium = round_(premium * group_product)
            total += premium
            lines.append(Line(code, LINE_LABELS[code], label, base, trace, premium))
    paperless = compiled.paperless if inp.paperless else 0
    if paperless:
        lines.append(Line("PAPERLESS", LINE_LABELS["PAPERLESS"], "", -paperless, (), -paperless))
        total -= paperless
    return Priced(tuple(lines), paperless, total, compiled.version)


def counted_accidents(inp: RatingInput) -> tuple[int, int]:
    """(3-down, 1-down) accidents that move the grade: the paid ones and the open claims."""
    return inp.claims_3down + inp.open_claims, inp.claims_1down


def renewal_grade(inp: RatingInput) -> tuple[int, int]:
    """(grade, 事故有係数適用期間) of the renewal priced by ``inp``."""
    return next_grade(inp.grade, inp.coef_period, *counted_accidents(inp))


def installments(annual: int, count: int) -> tuple[int, ...]:
    """floor(annual / count) each, the remainder added to the first; no surcharge."""
    each = annual // count
    return (annual - each * (count - 1),) + (each,) * (count - 1)


def installment_count(inp: RatingInput) -> int:
    """給与天引き 12 times for employees; retirees pay annually by account transfer."""
    return 1 if inp.member_type == RETIREE else 12


def quote(
    inp: RatingInput,
    *,
    tables: TableSet | None = None,
    rounding: Rounding | None = None,
    installment_times: int | None = None,
) -> Quote:
    """The renewal quote: grade transition from the expiring contract, then the premium."""
    tables = tables or tables_for(inp.start)
    grade, period = renewal_grade(inp)
    priced = price(inp, grade=grade, coef_period=period, tables=tables, rounding=rounding)
    return Quote(
        next_grade=grade,
        coef_period=period,
        grade_rate=tables.grades.rate(grade, period),
        lines=priced.lines,
        paperless_discount=priced.paperless_discount,
        annual_premium=priced.annual_premium,
        installments=installments(
            priced.annual_premium, installment_times or installment_count(inp)
        ),
        table_version=tables.version,
        open_claims=inp.open_claims,
    )
