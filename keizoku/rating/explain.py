"""Why the premium changed: last year's premium to this year's, split by cause, summing exactly."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .engine import RatingInput, Rounding, price, renewal_grade
from .grades import format_rate, next_grade, projection
from .tables import TableSet, tables_for

# The order in which causes are switched from last year's situation to this year's.
CAUSE_LABELS = {
    "grade": "等級の変更",
    "age": "年齢条件の変更",
    "conditions": "運転者限定・使用目的の変更",
    "coverages": "補償内容・特約の変更",
    "discounts": "割引の変更",
    "revision": "保険料率の改定など",
}
DISCOUNT_FIELDS = (
    "gold_license",
    "start",  # ASV割引 and 新車割引 are judged at the start date
    "asv",
    "model_launch",
    "first_registration",
    "group_discount_percent",
    "collection_discount_percent",
    "member_type",
    "retiree_keeps_discount",
    "paperless",
)


@dataclass(frozen=True, slots=True)
class Part:
    cause: str
    label: str
    amount: int  # yen, + = the premium went up for this cause


@dataclass(frozen=True, slots=True)
class Explanation:
    previous: int
    new: int
    parts: tuple[Part, ...]

    @property
    def difference(self) -> int:
        return self.new - self.previous

    def as_dict(self) -> dict[str, Any]:
        return {
            "previous": self.previous,
            "new": self.new,
            "difference": self.difference,
            "parts": [{"cause": p.cause, "label": p.label, "amount": p.amount} for p in self.parts],
        }


def explain(
    *,
    previous_premium: int,
    last: RatingInput,
    new: RatingInput,
    tables: TableSet | None = None,
    rounding: Rounding | None = None,
) -> Explanation:
    """Split ``new premium − previous_premium`` by cause.

    ``last`` is the expiring contract as it was priced last year (its own grade, period, start
    and choices); ``new`` the renewal being quoted. Last year's situation is re-priced with this
    year's tables, then one cause at a time is switched to this year's value (in the order of
    ``CAUSE_LABELS``) and each step's difference is that cause's part. The gap between the
    premium actually paid last year and the re-priced one, plus anything that changed outside
    the named causes, is the "revision" part, so the parts always add up to the difference.
    """
    tables = tables or tables_for(new.start)

    def premium(inp: RatingInput, grade: int, period: int) -> int:
        return price(
            inp, grade=grade, coef_period=period, tables=tables, rounding=rounding
        ).annual_premium

    grade, period = last.grade, last.coef_period
    state = last
    current = premium(state, grade, period)
    revision = current - previous_premium
    amounts: dict[str, int] = {}

    def step(cause: str, new_state: RatingInput, new_grade: int, new_period: int) -> None:
        nonlocal state, grade, period, current
        state, grade, period = new_state, new_grade, new_period
        after = premium(state, grade, period)
        amounts[cause] = after - current
        current = after

    step("grade", state, *renewal_grade(new))
    step("age", replace(state, age_condition=new.age_condition), grade, period)
    step("conditions", replace(state, driver_scope=new.driver_scope, use=new.use), grade, period)
    step(
        "coverages",
        replace(state, coverages=new.coverages, vehicle_value=new.vehicle_value),
        grade,
        period,
    )
    step(
        "discounts",
        replace(state, **{name: getattr(new, name) for name in DISCOUNT_FIELDS}),
        grade,
        period,
    )
    before_rest = current
    step("rest", new, grade, period)  # e.g. a vehicle class changed: not a named cause
    amounts["revision"] = revision + current - before_rest
    del amounts["rest"]
    parts = tuple(Part(cause, label, amounts[cause]) for cause, label in CAUSE_LABELS.items())
    return Explanation(previous=previous_premium, new=current, parts=parts)


def projections(
    new: RatingInput,
    *,
    tables: TableSet | None = None,
    rounding: Rounding | None = None,
    years: int = 5,
) -> dict:
    """The grade/rate path of the next ``years`` renewals with no further accident, from this
    renewal's grade, beside the path it would have had without this year's accidents (paid or
    open); and this renewal's premium on that second path (the same choices, no accident)."""
    tables = tables or tables_for(new.start)
    with_accidents = renewal_grade(new)
    without = next_grade(new.grade, new.coef_period, 0, 0)

    def rows(grade: int, period: int) -> list[dict[str, Any]]:
        return [
            {
                "year": row.year,
                "grade": row.grade,
                "coef_period": row.coef_period,
                "rate": str(row.rate),
                "rate_percent": format_rate(row.rate),
            }
            for row in projection(tables.grades, grade, period, years=years)
        ]

    premium_without = price(
        new, grade=without[0], coef_period=without[1], tables=tables, rounding=rounding
    ).annual_premium
    return {
        "with_accidents": rows(*with_accidents),
        "without_accidents": rows(*without),
        "premium_without_accidents": premium_without,
    }
