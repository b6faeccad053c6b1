"""The wizard's bridge to the rating engine: contracts and answers in, typed quotes out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

from keizoku.accounts.models import PolicyLink
from keizoku.contracts.models import Contract
from keizoku.contracts.windows import contract_window
from keizoku.rating import eligibility, engine, explain, grades, plans
from keizoku.rating.engine import Coverages, RatingInput
from keizoku.rating.tables import tables_for

from . import labels
from .choices import PaymentMethod, Plan
from .models import Application
from .snapshot import (
    Conditions,
    Explanation,
    ExplanationPart,
    Factor,
    PlanChoice,
    Projection,
    ProjectionRow,
    Quote,
    QuoteLine,
    Reason,
    TableVersions,
)

# --- what the customer chose ----------------------------------------------------------------------


def _contract_coverages(contract: Contract) -> Coverages:
    return Coverages(
        personal_injury=contract.personal_injury,
        property_damage=contract.property_damage,
        vehicle_cover=contract.vehicle_cover,
        deductible=contract.deductible if contract.vehicle_cover != "none" else "",
        riders=tuple(sorted(set(contract.rider_codes))),
    )


def contract_conditions(contract: Contract) -> Conditions:
    """The expiring contract's own ご契約条件 (what step 14 starts from)."""
    return Conditions(
        age_condition=contract.age_condition,
        driver_scope=contract.driver_scope,
        use=contract.use,
        gold_license=contract.gold_license,
    )


def _conditions(application: Application) -> Conditions:
    """Step 14's answers, or the contract's own values before it is saved."""
    return application.answers.conditions or contract_conditions(application.contract)


def _paperless(application: Application) -> bool:
    delivery = application.answers.delivery
    if delivery:
        return delivery == "web"
    return application.contract.paperless


def _plan_coverages(contract: Contract, plan: str) -> Coverages:
    current = _contract_coverages(contract)
    if plan == "same":
        return plans.same_plan(current)
    if plan == "recommended":
        return plans.recommended_plan(current)
    raise ValueError(f"plan must be 'same' or 'recommended', got {plan!r}")


def coverages_of(application: Application, plan: str) -> Coverages:
    """The coverages of 「前年同等プラン」 ("same") or 「おすすめプラン」 ("recommended")."""
    return _plan_coverages(application.contract, plan)


def coverages_from_form(cleaned_data: dict[str, Any]) -> Coverages:
    """CustomPlanForm's cleaned data as coverages (riders sorted, no deductible without vehicle
    cover)."""
    vehicle_cover = cleaned_data.get("vehicle_cover") or "none"
    return Coverages(
        personal_injury=cleaned_data.get("personal_injury") or "",
        property_damage=cleaned_data.get("property_damage") or "",
        vehicle_cover=vehicle_cover,
        deductible="" if vehicle_cover == "none" else (cleaned_data.get("deductible") or ""),
        riders=tuple(sorted(set(cleaned_data.get("riders") or []))),
    )


def payment_method(application: Application) -> str:
    """ "payroll" (給与天引き, 12 instalments) for employees, "transfer" (annual) for retirees."""
    return _payment_method(application.contract)


def _payment_method(contract: Contract) -> PaymentMethod:
    return (
        PaymentMethod.TRANSFER if contract.member_type == engine.RETIREE else PaymentMethod.PAYROLL
    )


# --- eligibility ----------------------------------------------------------------------------------


def _reasons(contract: Contract, *, linked: bool, now: datetime) -> list[Reason]:
    return [
        Reason(code=reason.code, text=reason.text)
        for reason in eligibility.eligibility_reasons(
            linked=linked,
            window_open=contract_window(contract).is_open(now),
            open_claim=contract.open_claim,
            midterm_change_pending=contract.midterm_change_pending,
            member_type=contract.member_type,
            birth_date=contract.birth_date,
            new_start=contract.period_end,
        )
    ]


def stored_reasons(reasons: list[Reason]) -> list[dict[str, str]]:
    """Reasons as ``Application.referral_reasons`` keeps them: the code and the engine's Japanese."""
    return [{"code": reason.code, "text": reason.text} for reason in reasons]


def eligibility_reasons(
    application: Application, *, now: datetime, linked: bool | None = None
) -> list[Reason]:
    """Why this renewal must go through the agency (``[]`` = it may be renewed online).

    ``linked``: whether the member's link to the policy stands, when the caller has just read the
    application through it (the wizard's ``member_application_get``); looked up otherwise."""
    if linked is None:
        linked = PolicyLink.objects.filter(
            member_id=application.member_id, contract_id=application.contract_id
        ).exists()
    return _reasons(application.contract, linked=linked, now=now)


# --- quotes ---------------------------------------------------------------------------------------


def _rating_input(
    contract: Contract, *, conditions: Conditions, coverages: Coverages, paperless: bool
) -> RatingInput:
    """The renewal of ``contract``: priced from its expiry, open claims counted as if paid."""
    group = contract.group
    return RatingInput(
        start=contract.period_end,
        grade=contract.grade,
        coef_period=contract.coef_period,
        claims_3down=contract.claims_3down,
        claims_1down=contract.claims_1down,
        open_claims=int(contract.open_claim),
        age_condition=conditions.age_condition,
        driver_scope=conditions.driver_scope,
        use=conditions.use,
        gold_license=conditions.gold_license,
        vehicle_use_class=contract.vehicle_use_class,
        class_bi=contract.class_bi,
        class_pd=contract.class_pd,
        class_pi=contract.class_pi,
        class_vh=contract.class_vh,
        first_registration=contract.first_registration,
        model_launch=contract.model_launch,
        asv=contract.asv,
        vehicle_value=contract.vehicle_value,
        coverages=coverages,
        group_discount_percent=group.group_discount_percent,
        collection_discount_percent=group.collection_discount_percent,
        member_type=contract.member_type,
        retiree_keeps_discount=group.retiree_keeps_discount,
        paperless=paperless,
    )


def _last_year_input(contract: Contract, renewal: RatingInput) -> RatingInput:
    """The expiring contract as it was priced last year: its own grade, start and choices."""
    return replace(
        renewal,
        start=contract.period_start,
        claims_3down=0,
        claims_1down=0,
        age_condition=contract.age_condition,
        driver_scope=contract.driver_scope,
        use=contract.use,
        gold_license=contract.gold_license,
        coverages=plans.same_plan(_contract_coverages(contract)),
        paperless=contract.paperless,
    )


def _projection(data: dict[str, Any]) -> Projection:
    def rows(key: str) -> tuple[ProjectionRow, ...]:
        return tuple(
            ProjectionRow(
                year=row["year"],
                grade=row["grade"],
                coef_period=row["coef_period"],
                rate=Decimal(row["rate"]),
                rate_percent=row["rate_percent"],
            )
            for row in data[key]
        )

    return Projection(
        with_accidents=rows("with_accidents"),
        without_accidents=rows("without_accidents"),
        premium_without_accidents=data["premium_without_accidents"],
    )


def _quote(
    contract: Contract,
    *,
    plan: str,
    coverages: Coverages,
    conditions: Conditions,
    paperless: bool,
    reasons: list[Reason],
) -> Quote:
    renewal = _rating_input(
        contract, conditions=conditions, coverages=coverages, paperless=paperless
    )
    tables = tables_for(renewal.start)
    quote = engine.quote(renewal, tables=tables)
    explanation = explain.explain(
        previous_premium=contract.annual_premium,
        last=_last_year_input(contract, renewal),
        new=renewal,
        tables=tables,
    )
    method = _payment_method(contract)
    return Quote(
        table_version=quote.table_version,
        table_versions=TableVersions(**quote.table_versions),
        plan=str(plan),
        plan_label=plans.PLAN_LABELS[plan],
        coverages=coverages,
        conditions=conditions,
        paperless=paperless,
        current_grade=contract.grade,
        current_coef_period=contract.coef_period,
        next_grade=quote.next_grade,
        coef_period=quote.coef_period,
        grade_rate=quote.grade_rate,
        grade_rate_percent=grades.format_rate(quote.grade_rate),
        lines=tuple(
            QuoteLine(
                code=line.code,
                label=line.label,
                limit_label=line.limit_label,
                base=line.base,
                factors=tuple(
                    Factor(code=f.code, label=f.label, value=f.value) for f in line.factors
                ),
                premium=line.premium,
            )
            for line in quote.lines
        ),
        paperless_discount=quote.paperless_discount,
        annual_premium=quote.annual_premium,
        payment_method=method.value,
        # The stored label is the Japanese reference (for the agency and the exports); what
        # the customer reads comes from ``labels``, in their language.
        payment_label=_japanese(method.label),
        installments=tuple(quote.installments),
        previous_premium=contract.annual_premium,
        explanation=Explanation(
            previous=explanation.previous,
            new=explanation.new,
            difference=explanation.difference,
            parts=tuple(
                ExplanationPart(cause=part.cause, label=part.label, amount=part.amount)
                for part in explanation.parts
            ),
        ),
        projection=_projection(explain.projections(renewal, tables=tables)),
        eligible=not reasons,
        reasons=tuple(reasons),
    )


def _japanese(label: Any) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)


@dataclass(frozen=True, slots=True)
class PlanQuotes:
    """Step 15's cards: the quote of each plan shown; 「カスタマイズ」 refused gives its reason (a
    str, in the customer's language) instead; ``changes``: 「おすすめの理由」."""

    same: Quote | None = None
    recommended: Quote | None = None
    custom: Quote | None = None
    custom_error: str = ""
    changes: tuple[plans.PlanChange, ...] = ()


def plan_quotes(
    application: Application,
    *,
    custom: Coverages | dict[str, Any],
    plans_shown: tuple[str, ...] = ("same", "recommended", "custom"),
    linked: bool | None = None,
) -> PlanQuotes:
    """「前年同等プラン」, 「おすすめプラン」 and 「カスタマイズ」 side by side (or only
    ``plans_shown``); a refused custom combination gives its reason instead of a quote.
    「おすすめプラン」 comes with its ``changes`` from 「前年同等プラン」 (「おすすめの理由」)."""
    contract = application.contract
    conditions = _conditions(application)
    paperless = _paperless(application)
    reasons = eligibility_reasons(application, now=timezone.now(), linked=linked)

    def quote_of(plan: str, coverages: Coverages) -> Quote:
        return _quote(
            contract,
            plan=plan,
            coverages=coverages,
            conditions=conditions,
            paperless=paperless,
            reasons=reasons,
        )

    shown: dict[str, Any] = {
        plan: quote_of(plan, _plan_coverages(contract, plan))
        for plan in (Plan.SAME, Plan.RECOMMENDED)
        if plan in plans_shown
    }
    if Plan.RECOMMENDED in plans_shown:
        shown["changes"] = _recommendation(application, conditions, paperless)
    if Plan.CUSTOM in plans_shown:
        data = custom.as_dict() if isinstance(custom, Coverages) else custom
        try:
            custom_coverages = plans.custom_plan(data, vehicle_value=contract.vehicle_value)
        except plans.PlanError as error:
            shown["custom_error"] = labels.plan_error(error.code)
        else:
            shown["custom"] = quote_of(Plan.CUSTOM, custom_coverages)
    return PlanQuotes(**{str(key): value for key, value in shown.items()})


def _recommendation(
    application: Application, conditions: Conditions, paperless: bool
) -> tuple[plans.PlanChange, ...]:
    """「おすすめの理由」: each change from 「前年同等プラン」 with its price, as the rating engine
    gives them (``labels.change_text`` adds the words); empty when the two plans are the same."""
    contract = application.contract
    renewal = _rating_input(
        contract,
        conditions=conditions,
        coverages=_contract_coverages(contract),
        paperless=paperless,
    )
    return tuple(plans.recommendation_changes(renewal))


def application_quote(application: Application, *, linked: bool | None = None) -> Quote:
    """The quote of the chosen plan with the answers so far (what step 16 shows and stores)."""
    contract = application.contract
    chosen: PlanChoice | None = application.answers.plan
    plan = chosen.plan if chosen is not None else Plan.SAME
    if plan == Plan.CUSTOM and chosen is not None:
        try:
            coverages = plans.custom_plan(
                chosen.coverages.as_dict(), vehicle_value=contract.vehicle_value
            )
        except plans.PlanError:
            plan, coverages = Plan.SAME, _plan_coverages(contract, Plan.SAME)
    else:
        coverages = _plan_coverages(contract, plan)
    return _quote(
        contract,
        plan=plan,
        coverages=coverages,
        conditions=_conditions(application),
        paperless=_paperless(application),
        reasons=eligibility_reasons(application, now=timezone.now(), linked=linked),
    )


def contract_quote(contract: Contract, *, plan: str = "same", now: datetime | None = None) -> Quote:
    """The renewal quote of a contract on its own values (the ``quote`` command, the agency)."""
    linked = PolicyLink.objects.filter(contract=contract).exists()
    return _quote(
        contract,
        plan=plan,
        coverages=_plan_coverages(contract, plan),
        conditions=contract_conditions(contract),
        paperless=contract.paperless,
        reasons=_reasons(contract, linked=linked, now=now or timezone.now()),
    )


def paperless_discount(application: Application) -> int:
    """Step 19: the yen taken off the annual premium for Web証券/Web約款."""
    return tables_for(application.period_start).factors.paperless_discount
