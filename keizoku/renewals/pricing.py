"""The wizard's bridge to the rating engine: contracts and answers in, JSON-ready quotes out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from keizoku.accounts.models import PolicyLink
from keizoku.contracts.models import Contract
from keizoku.contracts.windows import contract_window
from keizoku.rating import eligibility, engine, explain, grades, plans
from keizoku.rating.engine import Coverages, RatingInput
from keizoku.rating.tables import tables_for

from . import labels
from .models import Application

# The labels kept in a stored quote (for the agency and the exports): Japanese, the reference.
# What the customer reads comes from ``labels``, in their language.
PAYMENT_LABELS = {
    "payroll": "給与天引き（12回払）",
    "transfer": "口座振替（年払）",
}
CONDITION_KEYS = ("age_condition", "driver_scope", "use", "gold_license")


# --- what the customer chose ----------------------------------------------------------------------


def _contract_coverages(contract: Contract) -> Coverages:
    return Coverages(
        personal_injury=contract.personal_injury,
        property_damage=contract.property_damage,
        vehicle_cover=contract.vehicle_cover,
        deductible=contract.deductible if contract.vehicle_cover != "none" else "",
        riders=tuple(sorted(set(contract.rider_codes))),
    )


def _contract_conditions(contract: Contract) -> dict[str, Any]:
    return {
        "age_condition": contract.age_condition,
        "driver_scope": contract.driver_scope,
        "use": contract.use,
        "gold_license": contract.gold_license,
    }


def _conditions(application: Application) -> dict[str, Any]:
    """Step 14's answers over the contract's own values (absent → the contract's)."""
    conditions = _contract_conditions(application.contract)
    saved = application.answers.get("conditions") or {}
    for key in CONDITION_KEYS:
        if key in saved and saved[key] not in (None, ""):
            conditions[key] = saved[key]
    gold = conditions["gold_license"]
    conditions["gold_license"] = gold if isinstance(gold, bool) else gold in ("yes", "True", "1")
    return conditions


def _paperless(application: Application) -> bool:
    delivery = (application.answers.get("delivery") or {}).get("delivery")
    if delivery in ("web", "paper"):
        return delivery == "web"
    return application.contract.paperless


def _plan_coverages(contract: Contract, plan: str) -> Coverages:
    current = _contract_coverages(contract)
    if plan == "same":
        return plans.same_plan(current)
    if plan == "recommended":
        return plans.recommended_plan(current)
    raise ValueError(f"plan must be 'same' or 'recommended', got {plan!r}")


def coverages_of(application: Application, plan: str) -> dict[str, Any]:
    """The coverages of 「前年同等プラン」 ("same") or 「おすすめプラン」 ("recommended")."""
    return _plan_coverages(application.contract, plan).as_dict()


def coverages_from_form(cleaned_data: dict[str, Any]) -> dict[str, Any]:
    """CustomPlanForm's cleaned data as a coverages dict (riders sorted, no deductible without
    vehicle cover)."""
    vehicle_cover = cleaned_data.get("vehicle_cover") or "none"
    return {
        "personal_injury": cleaned_data.get("personal_injury") or "",
        "property_damage": cleaned_data.get("property_damage") or "",
        "vehicle_cover": vehicle_cover,
        "deductible": "" if vehicle_cover == "none" else (cleaned_data.get("deductible") or ""),
        "riders": sorted(set(cleaned_data.get("riders") or [])),
    }


def payment_method(application: Application) -> str:
    """ "payroll" (給与天引き, 12 instalments) for employees, "transfer" (annual) for retirees."""
    return _payment_method(application.contract)


def _payment_method(contract: Contract) -> str:
    return "transfer" if contract.member_type == engine.RETIREE else "payroll"


# --- eligibility ----------------------------------------------------------------------------------


def _reasons(contract: Contract, *, linked: bool, now: datetime) -> list[dict[str, str]]:
    return [
        reason.as_dict()
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


def eligibility_reasons(
    application: Application, *, now: datetime, linked: bool | None = None
) -> list[dict[str, str]]:
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
    contract: Contract, *, conditions: dict[str, Any], coverages: Coverages, paperless: bool
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
        age_condition=conditions["age_condition"],
        driver_scope=conditions["driver_scope"],
        use=conditions["use"],
        gold_license=conditions["gold_license"],
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
    return RatingInput(
        **{
            **{name: getattr(renewal, name) for name in RatingInput.__dataclass_fields__},
            "start": contract.period_start,
            "claims_3down": 0,
            "claims_1down": 0,
            **_contract_conditions(contract),
            "coverages": plans.same_plan(_contract_coverages(contract)),
            "paperless": contract.paperless,
        }
    )


def _quote_dict(
    contract: Contract,
    *,
    plan: str,
    coverages: Coverages,
    conditions: dict[str, Any],
    paperless: bool,
    reasons: list[dict[str, str]],
) -> dict[str, Any]:
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
    return {
        "table_version": quote.table_version,
        "table_versions": quote.table_versions,
        "plan": plan,
        "plan_label": plans.PLAN_LABELS[plan],
        "coverages": coverages.as_dict(),
        "conditions": dict(conditions),
        "paperless": paperless,
        "current_grade": contract.grade,
        "current_coef_period": contract.coef_period,
        "next_grade": quote.next_grade,
        "coef_period": quote.coef_period,
        "grade_rate": str(quote.grade_rate),
        "grade_rate_percent": grades.format_rate(quote.grade_rate),
        "lines": [line.as_dict() for line in quote.lines],
        "paperless_discount": quote.paperless_discount,
        "annual_premium": quote.annual_premium,
        "payment_method": method,
        "payment_label": PAYMENT_LABELS[method],
        "installments": list(quote.installments),
        "previous_premium": contract.annual_premium,
        "explanation": explanation.as_dict(),
        "projection": explain.projections(renewal, tables=tables),
        "eligible": not reasons,
        "reasons": reasons,
    }


def plan_quotes(
    application: Application,
    *,
    custom: dict[str, Any],
    plans_shown: tuple[str, ...] = ("same", "recommended", "custom"),
    linked: bool | None = None,
) -> dict[str, Any]:
    """「前年同等プラン」, 「おすすめプラン」 and 「カスタマイズ」 side by side (or only
    ``plans_shown``); a refused custom combination gives its reason (a str, in the customer's
    language) instead of a quote. 「おすすめプラン」 carries its ``changes`` from 「前年同等プラン」
    (「おすすめの理由」)."""
    contract = application.contract
    common: dict[str, Any] = {
        "conditions": _conditions(application),
        "paperless": _paperless(application),
        "reasons": eligibility_reasons(application, now=timezone.now(), linked=linked),
    }
    quotes: dict[str, Any] = {
        plan: _quote_dict(contract, plan=plan, coverages=_plan_coverages(contract, plan), **common)
        for plan in ("same", "recommended")
        if plan in plans_shown
    }
    if "recommended" in quotes:
        quotes["recommended"]["changes"] = _recommendation(application, common)
    if "custom" not in plans_shown:
        return quotes
    try:
        custom_coverages = plans.custom_plan(custom, vehicle_value=contract.vehicle_value)
    except plans.PlanError as error:
        quotes["custom"] = labels.plan_error(error.code)
    else:
        quotes["custom"] = _quote_dict(
            contract, plan="custom", coverages=custom_coverages, **common
        )
    return quotes


def _recommendation(application: Application, common: dict[str, Any]) -> list[dict[str, Any]]:
    """「おすすめの理由」: each change from 「前年同等プラン」 with its price, as the rating engine
    gives them (``labels.quote_shown`` adds the words); empty when the two plans are the same."""
    contract = application.contract
    renewal = _rating_input(
        contract,
        conditions=common["conditions"],
        coverages=_contract_coverages(contract),
        paperless=common["paperless"],
    )
    return [change.as_dict() for change in plans.recommendation_changes(renewal)]


def application_quote(application: Application, *, linked: bool | None = None) -> dict[str, Any]:
    """The quote of the chosen plan with the answers so far (what step 16 shows and stores)."""
    contract = application.contract
    saved = application.answers.get("plan") or {}
    plan: str = saved["plan"] if saved.get("plan") in plans.PLAN_LABELS else "same"
    if plan == "custom":
        try:
            coverages = plans.custom_plan(
                saved.get("coverages") or saved.get("custom") or {},
                vehicle_value=contract.vehicle_value,
            )
        except plans.PlanError:
            plan, coverages = "same", _plan_coverages(contract, "same")
    else:
        coverages = _plan_coverages(contract, plan)
    return _quote_dict(
        contract,
        plan=plan,
        coverages=coverages,
        conditions=_conditions(application),
        paperless=_paperless(application),
        reasons=eligibility_reasons(application, now=timezone.now(), linked=linked),
    )


def contract_quote(
    contract: Contract, *, plan: str = "same", now: datetime | None = None
) -> dict[str, Any]:
    """The renewal quote of a contract on its own values (the ``quote`` command, the agency)."""
    linked = PolicyLink.objects.filter(contract=contract).exists()
    return _quote_dict(
        contract,
        plan=plan,
        coverages=_plan_coverages(contract, plan),
        conditions=_contract_conditions(contract),
        paperless=contract.paperless,
        reasons=_reasons(contract, linked=linked, now=now or timezone.now()),
    )


def paperless_discount(application: Application) -> int:
    """Step 19: the yen taken off the annual premium for Web証券/Web約款."""
    return tables_for(application.period_start).factors.paperless_discount
