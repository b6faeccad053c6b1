"""The plans offered at renewal: 前年同等プラン, おすすめプラン and a validated カスタマイズ."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from . import tables
from .engine import Coverages, RatingInput, Rounding, installments, quote
from .tables import TableSet, tables_for

PLAN_LABELS = {"same": "前年同等プラン", "recommended": "おすすめプラン", "custom": "カスタマイズ"}
# The choices offered are those the factor tables price (tables.PD_LIMITS etc.), in ascending order.
PERSONAL_INJURY = tables.PI_AMOUNTS  # ascending
PROPERTY_DAMAGE = tuple(reversed(tables.PD_LIMITS))  # ascending
VEHICLE_COVERS = ("none", *tables.VEHICLE_COVERS)
DEDUCTIBLES = tables.DEDUCTIBLES
RIDERS = tables.RIDERS
RECOMMENDED_MIN_PERSONAL_INJURY = "50000000"
RECOMMENDED_DEDUCTIBLE = "5-10"


# Why a custom combination is refused, by code (the wizard shows them in the customer's language).
ERRORS = {
    "personal_injury": "人身傷害の保険金額を選択してください。",
    "property_damage": "対物賠償の限度額を選択してください。",
    "vehicle_cover": "車両保険の種類を選択してください。",
    "deductible_without_cover": "車両保険を付けない場合、免責金額は選択できません。",
    "deductible_missing": "車両保険を付ける場合は、免責金額を選択してください。",
    "vehicle_cover_added": (
        "前年のご契約に車両保険がないため、車両保険の追加は代理店でのお手続きになります。"
    ),
    "rider": "選択できない特約が含まれています。",
}


class PlanError(ValueError):
    """A coverage combination that cannot be chosen: ``code`` says why (a key of ``ERRORS``),
    ``str(error)`` is the Japanese reason."""

    def __init__(self, code: str) -> None:
        super().__init__(ERRORS[code])
        self.code = code


def _offered_property_damage(value: str) -> str:
    """The smallest limit offered on the web that is not below the contract's own."""
    if value in PROPERTY_DAMAGE:
        return value
    try:
        amount = int(value)
    except ValueError:
        return "unlimited"
    for limit in PROPERTY_DAMAGE[:-1]:
        if amount <= int(limit):
            return limit
    return "unlimited"


def same_plan(current: Coverages) -> Coverages:
    """前年同等プラン: last year's coverages (a 対物 limit not offered goes up to the next one)."""
    return Coverages(
        personal_injury=current.personal_injury,
        property_damage=_offered_property_damage(current.property_damage),
        vehicle_cover=current.vehicle_cover,
        deductible=current.deductible if current.vehicle_cover != "none" else "",
        riders=tuple(sorted(set(current.riders))),
    )


def recommended_plan(current: Coverages) -> Coverages:
    """おすすめプラン: last year's coverages with the gaps most customers regret closed.

    - 弁護士費用特約 added when missing (an accident where the customer is not at fault is
      otherwise negotiated alone);
    - 人身傷害 raised to at least 5,000万円;
    - 対物賠償 無制限;
    - with 一般 vehicle cover, the deductible 5-10万円 (cheaper than 0-10, and a small repair is
      rarely worth the grade it costs); エコノミー and no vehicle cover stay as they are.
    """
    same = same_plan(current)
    personal_injury = same.personal_injury
    if PERSONAL_INJURY.index(personal_injury) < PERSONAL_INJURY.index(
        RECOMMENDED_MIN_PERSONAL_INJURY
    ):
        personal_injury = RECOMMENDED_MIN_PERSONAL_INJURY
    deductible = RECOMMENDED_DEDUCTIBLE if same.vehicle_cover == "general" else same.deductible
    return Coverages(
        personal_injury=personal_injury,
        property_damage="unlimited",
        vehicle_cover=same.vehicle_cover,
        deductible=deductible,
        riders=tuple(sorted({*same.riders, "legal"})),
    )


@dataclass(frozen=True, slots=True)
class PlanChange:
    """One difference between 「前年同等プラン」 and 「おすすめプラン」, with what it costs."""

    code: str  # a rider's code ("legal") when one is added, else the Coverages field changed
    before: str  # last year's value ("" for a rider not held)
    after: str
    annual: int  # yen a year this change adds (+) or saves (−)
    monthly: int  # the change in the monthly instalment (annual premium ÷ 12, floored)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "before": self.before,
            "after": self.after,
            "annual": self.annual,
            "monthly": self.monthly,
        }


# The fields in the order the changes are listed and priced.
_CHANGE_FIELDS = ("personal_injury", "property_damage", "deductible")


def _steps(same: Coverages, recommended: Coverages) -> list[tuple[str, str, str, Coverages]]:
    """(code, before, after, the coverages once this change is made) one change at a time:
    riders added first, then each field that differs."""
    steps = []
    state = same
    for rider in sorted(set(recommended.riders) - set(same.riders)):
        state = replace(state, riders=tuple(sorted({*state.riders, rider})))
        steps.append((rider, "", rider, state))
    for name in _CHANGE_FIELDS:
        before, after = getattr(same, name), getattr(recommended, name)
        if before != after:
            state = replace(state, **{name: after})
            steps.append((name, before, after, state))
    if state != recommended:  # e.g. a rider dropped: not a rule of the recommendation
        raise ValueError(
            f"the recommendation changed something not listed: {state} → {recommended}"
        )
    return steps


def recommendation_changes(
    renewal: RatingInput, *, tables: TableSet | None = None, rounding: Rounding | None = None
) -> tuple[PlanChange, ...]:
    """Why 「おすすめプラン」 differs from 「前年同等プラン」: each change with its price.

    ``renewal`` is the renewal being quoted (conditions, discounts, the member's grade); its own
    coverages are ignored: the changes go from ``same_plan`` to ``recommended_plan`` of
    ``renewal.coverages``, applied one at a time in a fixed order and each priced as the
    difference of two whole quotes, so they add up exactly to the difference between the two
    plans' premiums (and their monthly instalments). Empty when the plans are the same.
    """
    tables = tables or tables_for(renewal.start)
    same = same_plan(renewal.coverages)
    recommended = recommended_plan(renewal.coverages)

    def premium(coverages: Coverages) -> int:
        return quote(
            replace(renewal, coverages=coverages), tables=tables, rounding=rounding
        ).annual_premium

    def monthly(annual: int) -> int:
        return installments(annual, 12)[-1]

    changes = []
    previous = premium(same)
    for code, before, after, state in _steps(same, recommended):
        current = premium(state)
        changes.append(
            PlanChange(
                code=code,
                before=before,
                after=after,
                annual=current - previous,
                monthly=monthly(current) - monthly(previous),
            )
        )
        previous = current
    return tuple(changes)


def custom_plan(data: dict[str, Any], *, vehicle_value: int) -> Coverages:
    """カスタマイズ: any valid combination; an invalid one raises ``PlanError`` with the reason."""
    personal_injury = str(data.get("personal_injury") or "")
    property_damage = str(data.get("property_damage") or "")
    vehicle_cover = str(data.get("vehicle_cover") or "")
    deductible = str(data.get("deductible") or "")
    riders = data.get("riders") or []
    if personal_injury not in PERSONAL_INJURY:
        raise PlanError("personal_injury")
    if property_damage not in PROPERTY_DAMAGE:
        raise PlanError("property_damage")
    if vehicle_cover not in VEHICLE_COVERS:
        raise PlanError("vehicle_cover")
    if vehicle_cover == "none" and deductible:
        raise PlanError("deductible_without_cover")
    if vehicle_cover != "none" and deductible not in DEDUCTIBLES:
        raise PlanError("deductible_missing")
    if vehicle_cover != "none" and vehicle_value <= 0:
        raise PlanError("vehicle_cover_added")
    if isinstance(riders, str) or any(rider not in RIDERS for rider in riders):
        raise PlanError("rider")
    return Coverages(
        personal_injury=personal_injury,
        property_damage=property_damage,
        vehicle_cover=vehicle_cover,
        deductible=deductible,
        riders=tuple(sorted(set(riders))),
    )
