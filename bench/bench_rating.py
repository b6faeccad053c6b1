"""Benchmark: renewal quotes per second, the rating engine beside the same formula written inline.

    .venv/bin/python bench/bench_rating.py [--quotes 10000] [--repeat 5] [--seed 7]

Generates varied rating inputs (every use class, rate class, limit, cover, deductible, rider set,
accident count, discount and member type), then times `keizoku.rating.engine.quote` (grade
transition, lines with a full factor trace, instalments) and an inline version of the same
formula as plain Decimal/int arithmetic over the same table data, with no dataclasses and no
trace. Both run in the same process; every premium and instalment list is asserted equal.
Goal: engine ≥ 0.5 × inline. The two are interleaved in chunks of 200 quotes (so both see the
same load on a shared machine); each chunk's best time over ``--repeat`` runs is kept and the
rates are computed from the sums of those bests. The exit status is 1 below the goal.
"""

import argparse
import random
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402 (bench/ is on sys.path as the script's directory)

from keizoku.rating.engine import Coverages, RatingInput, quote  # noqa: E402
from keizoku.rating.tables import tables_for  # noqa: E402

CLASS_COUNT = {"futsu": 17, "kogata": 17, "kei": 7}
RIDERS = ("legal", "liability", "family_bike", "road")
CHUNK = 200


def generate(count: int, seed: int) -> list[RatingInput]:
    rng = random.Random(seed)
    inputs = []
    for _ in range(count):
        use_class = rng.choice(sorted(CLASS_COUNT))
        top = CLASS_COUNT[use_class]
        cover = rng.choice(["none", "general", "economy"])
        inputs.append(
            RatingInput(
                start=date(2026, rng.randint(1, 12), rng.randint(1, 28)),
                grade=rng.randint(1, 20),
                coef_period=rng.randint(0, 6),
                claims_3down=rng.choice([0, 0, 0, 0, 1, 2]),
                claims_1down=rng.choice([0, 0, 0, 0, 0, 1]),
                open_claims=1 if rng.random() < 0.05 else 0,
                age_condition=rng.choice(["all", "21", "26", "35"]),
                driver_scope=rng.choice(["any", "self_spouse", "self"]),
                use=rng.choice(["leisure", "commute", "business"]),
                gold_license=rng.random() < 0.6,
                vehicle_use_class=use_class,
                class_bi=rng.randint(1, top),
                class_pd=rng.randint(1, top),
                class_pi=rng.randint(1, top),
                class_vh=rng.randint(1, top),
                first_registration=date(rng.randint(2016, 2026), rng.randint(1, 12), 1),
                model_launch=date(rng.randint(2014, 2025), rng.randint(1, 12), 1),
                asv=rng.random() < 0.7,
                vehicle_value=0 if cover == "none" else rng.randrange(500_000, 8_000_000, 50_000),
                coverages=Coverages(
                    personal_injury=rng.choice(["30000000", "50000000", "100000000", "unlimited"]),
                    property_damage=rng.choice(["unlimited", "50000000", "30000000"]),
                    vehicle_cover=cover,
                    deductible="" if cover == "none" else rng.choice(["0-10", "5-10", "10-10"]),
                    riders=tuple(sorted(r for r in RIDERS if rng.random() < 0.4)),
                ),
                group_discount_percent=Decimal(rng.choice([0, 50, 100, 125, 200, 300])) / 10,
                collection_discount_percent=Decimal(rng.choice([0, 30, 50])) / 10,
                member_type="retiree" if rng.random() < 0.15 else "employee",
                retiree_keeps_discount=rng.random() < 0.5,
                paperless=rng.random() < 0.5,
            )
        )
    return inputs


def inline_quote(inp: RatingInput, grades, f) -> tuple[int, list[int]]:
    """The same formula written out as plain arithmetic: no trace, no dataclasses."""
    # Grade transition (an open claim counts as a paid 3-down accident).
    n3, n1 = inp.claims_3down + inp.open_claims, inp.claims_1down
    if n3 == 0 and n1 == 0:
        grade = min(inp.grade + 1, 20)
    else:
        grade = max(inp.grade - 3 * n3 - n1, 1)
    period = min(max(inp.coef_period - 1, 0) + 3 * n3 + n1, 6)
    rate = grades.with_accident[grade] if period else grades.no_accident[grade]
    # Rating factors common to BI, PD, PI and VH, in the table's order.
    common = (
        (1 + rate)
        * f.age_condition[inp.age_condition]
        * f.driver_scope[inp.driver_scope]
        * f.use[inp.use]
    )
    if inp.gold_license:
        common *= f.gold_license
    if inp.asv and inp.start.year <= inp.model_launch.year + f.asv_max_years:
        common *= f.asv
    months = (
        (inp.start.year - inp.first_registration.year) * 12
        + inp.start.month
        - inp.first_registration.month
        + 1
    )
    if months <= f.new_car_max_months:
        common *= f.new_car
    group = Decimal(1)
    if not (inp.member_type == "retiree" and not inp.retiree_keeps_discount):
        group = (1 - inp.group_discount_percent / 100) * (1 - inp.collection_discount_percent / 100)
    unit = f.rounding_unit
    cov = inp.coverages
    bases = f.base
    uc = inp.vehicle_use_class

    def rounded(amount: Decimal) -> int:
        return int(amount) // unit * unit  # floor to the unit (amounts are positive)

    def line(base: int, factor: Decimal) -> int:
        premium = rounded(base * factor)
        return rounded(premium * group) if group != 1 else premium

    total = line(bases["BI"][uc][inp.class_bi - 1], common)
    total += line(int(bases["PD"][uc][inp.class_pd - 1] * f.pd_limits[cov.property_damage]), common)
    total += line(
        int(bases["PI"][uc][inp.class_pi - 1] * f.pi_amounts[cov.personal_injury]), common
    )
    if cov.vehicle_cover != "none":
        band = -(-inp.vehicle_value // f.value_band)
        rel = f.value_relativities
        relativity = (
            rel[band - 1] if band <= len(rel) else rel[-1] + f.value_beyond * (band - len(rel))
        )
        vh_base = int(bases["VH"][uc][inp.class_vh - 1] * relativity)
        total += line(vh_base, common * f.vehicle_cover[(cov.vehicle_cover, cov.deductible)])
    for rider in cov.riders:
        total += line(f.riders[rider], Decimal(1))
    if inp.paperless:
        total -= f.paperless_discount
    count = 1 if inp.member_type == "retiree" else 12
    each = total // count
    return total, [total - each * (count - 1)] + [each] * (count - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    inputs = generate(args.quotes, args.seed)
    tables = tables_for(date(2026, 1, 1))
    grades, factors = tables.grades, tables.factors
    assert factors.rounding_mode == "floor", "the inline formula is written for floor rounding"

    engine_results = [quote(inp, tables=tables) for inp in inputs]  # warm up and check
    inline_results = [inline_quote(inp, grades, factors) for inp in inputs]
    for q, (annual, instalments) in zip(engine_results, inline_results, strict=True):
        assert q.annual_premium == annual, (q, annual)
        assert list(q.installments) == instalments

    # Interleave the two in chunks of CHUNK quotes so that both see the same load on a shared
    # machine, and keep each chunk's best time over the repetitions (as timeit does): a burst of
    # another process's work then spoils one chunk's sample, not the whole run.
    chunks = [inputs[i : i + CHUNK] for i in range(0, len(inputs), CHUNK)]
    engine_best = [float("inf")] * len(chunks)
    inline_best = [float("inf")] * len(chunks)
    for _ in range(args.repeat):
        for index, chunk in enumerate(chunks):
            began = time.perf_counter()
            for inp in chunk:
                quote(inp, tables=tables)
            middle = time.perf_counter()
            for inp in chunk:
                inline_quote(inp, grades, factors)
            ended = time.perf_counter()
            engine_best[index] = min(engine_best[index], middle - began)
            inline_best[index] = min(inline_best[index], ended - middle)
    engine_time, inline_time = sum(engine_best), sum(inline_best)
    engine_rate, inline_rate = args.quotes / engine_time, args.quotes / inline_time
    ratio = engine_rate / inline_rate
    print(f"machine: {machine.describe()}")
    print(
        f"quotes: {args.quotes} varied inputs, best of {args.repeat} per chunk of {CHUNK}; "
        "results asserted equal"
    )
    print(f"engine (with trace): {engine_rate:10,.0f} quotes/s")
    print(f"inline arithmetic:   {inline_rate:10,.0f} quotes/s")
    print(
        f"ratio engine/inline: {ratio:.2f} (goal ≥ 0.50) {'OK' if ratio >= 0.5 else 'BELOW GOAL'}"
    )
    sys.exit(0 if ratio >= 0.5 else 1)


if __name__ == "__main__":
    main()
