"""Why the premium changed: the parts by cause add up exactly to the difference from last year."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from keizoku.rating.engine import quote
from keizoku.rating.explain import CAUSE_LABELS, explain, projections

from .inputs import EXAMPLE_COVERAGES, example_input

NEW = example_input()  # the renewal: grade 13 → 9 after a 3-down and a 1-down accident
LAST = replace(NEW, start=date(2025, 12, 25), claims_3down=0, claims_1down=0)  # last year: 13


def parts(explanation) -> dict[str, int]:
    return {part.cause: part.amount for part in explanation.parts}


def test_the_parts_come_in_a_fixed_order_with_japanese_labels():
    explanation = explain(previous_premium=40_000, last=LAST, new=NEW)
    assert [(p.cause, p.label) for p in explanation.parts] == list(CAUSE_LABELS.items())
    assert CAUSE_LABELS["grade"] == "等級の変更"


def test_last_years_new_car_discount_lost_this_year_is_a_discount_change():
    # Registered 2022-04: month 45 at last year's start, month 57 now.
    amounts = parts(explain(previous_premium=44_000, last=LAST, new=NEW))
    assert amounts["discounts"] == 6910


def test_only_the_grade_changed_so_the_grade_explains_everything_but_the_revision():
    last, new = (replace(inp, first_registration=date(2020, 4, 1)) for inp in (LAST, NEW))
    explanation = explain(previous_premium=44_000, last=last, new=new)
    assert explanation.new == 71_720 and explanation.difference == 71_720 - 44_000
    amounts = parts(explanation)
    assert amounts["age"] == amounts["conditions"] == amounts["coverages"] == 0
    assert amounts["discounts"] == 0
    repriced = 71_720 - amounts["grade"]  # last year's situation at this year's tables
    assert amounts["revision"] == repriced - 44_000
    assert sum(amounts.values()) == explanation.difference


def test_each_change_is_attributed_to_its_cause():
    new = replace(
        NEW,
        age_condition="26",
        driver_scope="any",
        coverages=replace(EXAMPLE_COVERAGES, riders=("legal",)),
        gold_license=False,
        paperless=True,
    )
    explanation = explain(previous_premium=50_000, last=LAST, new=new)
    amounts = parts(explanation)
    assert amounts["age"] > 0  # 35歳以上 → 26歳以上
    assert amounts["conditions"] > 0  # 本人・配偶者限定 → 限定なし
    assert amounts["coverages"] == -910  # 個人賠償責任特約 dropped
    assert amounts["discounts"] != 0  # gold licence lost, Web証券 gained
    assert explanation.new == quote(new).annual_premium
    assert sum(amounts.values()) == explanation.new - 50_000


def test_a_discount_kept_both_years_is_no_change():
    registered = date(2022, 12, 1)  # month 37 last year, month 49 now: new-car both years
    last = replace(LAST, first_registration=registered)
    new = replace(NEW, first_registration=registered)
    assert parts(explain(previous_premium=60_000, last=last, new=new))["discounts"] == 0


def test_the_projection_with_and_without_this_years_accidents():
    paths = projections(NEW)
    assert [row["grade"] for row in paths["with_accidents"]] == [9, 10, 11, 12, 13]
    assert [row["grade"] for row in paths["without_accidents"]] == [14, 15, 16, 17, 18]
    assert paths["with_accidents"][4]["rate"] == str(Decimal("-0.51"))
    assert paths["without_accidents"][0]["rate_percent"] == "−52%"
    assert paths["premium_without_accidents"] == 43_090  # RATING.md's no-accident comparison


def test_an_open_claim_moves_the_grade_like_a_paid_one_in_the_explanation_and_projection():
    clean = replace(NEW, claims_3down=0, claims_1down=0)
    with_open = replace(clean, open_claims=1)
    explanation = explain(previous_premium=44_000, last=LAST, new=with_open)
    assert explanation.new == quote(with_open).annual_premium == 70_860
    assert (
        parts(explanation)["grade"]
        == parts(explain(previous_premium=44_000, last=LAST, new=replace(clean, claims_3down=1)))[
            "grade"
        ]
        > 0
    )
    paths = projections(with_open)
    assert [row["grade"] for row in paths["with_accidents"]] == [10, 11, 12, 13, 14]
    assert paths["without_accidents"][0]["grade"] == 14
    assert paths["premium_without_accidents"] == 43_090
