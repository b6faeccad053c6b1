"""Rating inputs for the engine's tests: the worked example of RATING.md and variations."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from keizoku.rating.engine import Coverages, RatingInput

EXAMPLE_COVERAGES = Coverages(
    personal_injury="50000000",
    property_damage="unlimited",
    vehicle_cover="general",
    deductible="5-10",
    riders=("legal", "liability"),
)


def example_input(**overrides: Any) -> RatingInput:
    """RATING.md's worked example: grade 13, period 0, a 3-down and a 1-down accident; futsu with
    classes giving the bases BI 24,000 / PD 28,000 / PI 18,000 / VH 70,000; neither ASV nor
    new-car discount at the start date; group 20% and collection 5%."""
    inp = RatingInput(
        start=date(2026, 12, 25),
        grade=13,
        coef_period=0,
        claims_3down=1,
        claims_1down=1,
        age_condition="35",
        driver_scope="self_spouse",
        use="commute",
        gold_license=True,
        vehicle_use_class="futsu",
        class_bi=5,
        class_pd=6,
        class_pi=4,
        class_vh=7,
        first_registration=date(2022, 4, 1),
        model_launch=date(2021, 1, 1),
        asv=True,
        vehicle_value=2_000_000,
        coverages=EXAMPLE_COVERAGES,
        group_discount_percent=Decimal("20"),
        collection_discount_percent=Decimal("5"),
    )
    return replace(inp, **overrides)
