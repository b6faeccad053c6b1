"""The renewal snapshot: an application's stored quote and wizard answers as frozen, typed values.

``Application.quote`` is a ``Quote`` and ``Application.answers`` an ``Answers`` (the model fields
convert on the way in and out of the database). Each has one JSON form: ``to_json()`` gives a
JSON-ready dict with a ``version``, ``from_json()`` reads one back and refuses any other shape
(unknown or missing keys, a wrong type, another version) with a ``SnapshotError`` that says
where. A change of the shape is a new version and a data migration (docs/decisions.md,
"The renewal snapshot").
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Self, Union, get_args, get_origin, get_type_hints

from keizoku.rating.engine import Coverages

from .choices import DECLARATIONS

QUOTE_VERSION = 2  # 1: the dict before issue 13 (no version key)
ANSWERS_VERSION = 2  # 1: the per-step dicts before issue 13 (no version key)


class SnapshotError(ValueError):
    """A stored quote or answers not in the current shape; the message says where and why."""


# --- the quote ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditions:
    """ご契約条件 as priced (step 14's answers over the contract's own values)."""

    age_condition: str  # 運転者年齢条件: all | 21 | 26 | 35
    driver_scope: str  # 運転者限定: any | self_spouse | self
    use: str  # 使用目的: leisure | commute | business
    gold_license: bool  # ゴールド免許


@dataclass(frozen=True, slots=True, kw_only=True)
class TableVersions:
    grade: str
    factors: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Factor:
    code: str
    label: str  # the engine's Japanese
    value: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteLine:
    """One line of the premium (a coverage, a rider, or the Web証券割引)."""

    code: str  # BI, PD, PI, VH, LEGAL, LIABILITY, FAMILY_BIKE, ROAD, PAPERLESS
    label: str
    limit_label: str
    base: int
    factors: tuple[Factor, ...]
    premium: int  # yen (negative for the Web証券割引)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExplanationPart:
    cause: str  # grade | age | conditions | coverages | discounts | revision
    label: str
    amount: int  # yen, + = the premium went up for this cause


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """Why the premium changed from last year's: the parts add up to the difference."""

    previous: int
    new: int
    difference: int
    parts: tuple[ExplanationPart, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectionRow:
    year: int
    grade: int
    coef_period: int  # 事故有係数適用期間
    rate: Decimal
    rate_percent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Projection:
    """The grade path of the next renewals, with and without this year's accidents."""

    with_accidents: tuple[ProjectionRow, ...]
    without_accidents: tuple[ProjectionRow, ...]
    premium_without_accidents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """Why the renewal must go through the agency (rating.eligibility's code and its text)."""

    code: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """The engine's quote of one plan, with the table versions it used: what the customer saw at
    step 16 and what the agency accepts. ``annual_premium`` is the application's one premium."""

    version: int = QUOTE_VERSION
    table_version: str  # "<grade table version>+<factor table version>"
    table_versions: TableVersions
    plan: str  # choices.Plan
    plan_label: str  # Japanese as stored (for the agency); pages rebuild it (labels.quote_shown)
    coverages: Coverages
    conditions: Conditions
    paperless: bool  # Web証券
    current_grade: int
    current_coef_period: int
    next_grade: int
    coef_period: int
    grade_rate: Decimal
    grade_rate_percent: str
    lines: tuple[QuoteLine, ...]
    paperless_discount: int
    annual_premium: int  # yen
    payment_method: str  # choices.PaymentMethod
    payment_label: str
    installments: tuple[int, ...]  # 12 (payroll) or 1 (annual transfer)
    previous_premium: int
    explanation: Explanation
    projection: Projection
    eligible: bool
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, Any]:
        return _dump(self)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return _load_versioned(cls, data, QUOTE_VERSION, "quote")


# --- the answers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanChoice:
    """Step 15: the plan chosen, its coverages, and the customer's own custom coverages (kept
    when another plan is chosen, so that 「カスタマイズ」 shows them again)."""

    plan: str  # choices.Plan
    coverages: Coverages
    custom: Coverages | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Declarations:
    """17 「告知事項の確認」: True where the customer answered 「はい」 (the fields are the codes of
    ``choices.DECLARATIONS``; a test holds the two together)."""

    other_insurance: bool
    use_change: bool
    modified: bool
    license_suspended: bool
    unreported_accident: bool

    def answered(self, code: str) -> bool:
        return bool(getattr(self, code))


@dataclass(frozen=True, slots=True, kw_only=True)
class Answers:
    """What the wizard's steps saved (guide 10–20); a step not yet saved is False / None / ""."""

    version: int = ANSWERS_VERSION
    consent: bool = False  # 10: agreed to the handling of personal information
    notes: bool = False  # 11: read; the policy may be renewed online
    disclosure: bool = False  # 12: 重要事項説明書 confirmed
    current: bool = False  # 13: seen
    conditions: Conditions | None = None  # 14 (the same vehicle: a change goes to the agency)
    plan: PlanChoice | None = None  # 15
    premium: bool = False  # 16: seen (the quote itself is Application.quote)
    declarations: Declarations | None = None  # 17
    payment: str = ""  # 18: the method confirmed (choices.PaymentMethod)
    delivery: str = ""  # 19: choices.Delivery

    def to_json(self) -> dict[str, Any]:
        return _dump(self)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return _load_versioned(cls, data, ANSWERS_VERSION, "answers")

    def with_step(self, slug: str, value: StepAnswer) -> Answers:
        """These answers with step ``slug``'s value replaced (a value of another type than the
        step's field is refused, as ``from_json`` would refuse it)."""
        if slug not in _STEP_FIELDS:
            raise ValueError(f"no answers for step {slug!r}")
        changed: dict[str, Any] = {slug: value}
        return Answers.from_json(dataclasses.replace(self, **changed).to_json())


# What one step saves: the type of its field of Answers.
type StepAnswer = bool | str | Conditions | PlanChoice | Declarations
_STEP_FIELDS = frozenset(f.name for f in dataclasses.fields(Answers)) - {"version"}


def declarations_from_form(cleaned_data: dict[str, Any]) -> Declarations:
    """DeclarationsForm's 「はい」/「いいえ」 as Declarations."""
    return Declarations(**{d.code: cleaned_data[d.code] == "yes" for d in DECLARATIONS})


# --- one JSON form for every value above ----------------------------------------------------------


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_dump(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _fail(path: str, message: str) -> SnapshotError:
    return SnapshotError(f"{path}: {message}")


def _load(kind: Any, value: Any, path: str) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [option for option in get_args(kind) if option is not type(None)]
        if value is None and len(options) < len(get_args(kind)):
            return None
        (inner,) = options
        return _load(inner, value, path)
    if origin is tuple:
        inner = get_args(kind)[0]
        if not isinstance(value, list):
            raise _fail(path, f"a list expected, not {type(value).__name__}")
        return tuple(_load(inner, item, f"{path}[{i}]") for i, item in enumerate(value))
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise _fail(path, f"an object expected, not {type(value).__name__}")
        names = [f.name for f in dataclasses.fields(kind)]
        unknown = sorted(set(value) - set(names))
        missing = [name for name in names if name not in value]
        if unknown or missing:
            raise _fail(path, f"unknown keys {unknown}, missing keys {missing}")
        hints = _hints(kind)
        return kind(**{name: _load(hints[name], value[name], f"{path}.{name}") for name in names})
    if kind is Decimal:
        if isinstance(value, str):
            try:
                return Decimal(value)
            except InvalidOperation:
                pass
        raise _fail(path, f"a decimal as a string expected, not {value!r}")
    if kind is int and isinstance(value, bool):
        raise _fail(path, f"an int expected, not {value!r}")
    if kind in (bool, int, str):
        if not isinstance(value, kind):
            raise _fail(path, f"{kind.__name__} expected, not {value!r}")
        return value
    raise TypeError(f"{path}: no JSON form for {kind!r}")


def _load_versioned[T](cls: type[T], data: Any, version: int, name: str) -> T:
    if not isinstance(data, dict):
        raise _fail(name, f"an object expected, not {type(data).__name__}")
    if data.get("version") != version:
        raise _fail(
            name,
            f"version {data.get('version')!r} stored, this code reads version {version} "
            "(run the migrations: renewals 0003 rewrites older rows)",
        )
    return _load(cls, data, name)
