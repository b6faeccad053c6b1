"""Reads for the wizard: the member's own contracts and applications (anything else is a 404)."""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import F
from django.http import Http404

from keizoku.accounts.models import User
from keizoku.accounts.selectors import MemberPolicy, member_contract_link_get, member_policies
from keizoku.contracts.models import AgeCondition, Contract, DriverScope, VehicleUsage

from .forms import DECLARATIONS
from .labels import quote_shown
from .models import Application

logger = logging.getLogger(__name__)


def member_contract_get(*, member: User, contract_id: int) -> Contract:
    """The member's own linked contract, or 404 (logged when it is another member's)."""
    return member_contract_link_get(member=member, contract_id=contract_id).contract


def member_application_get(*, member: User, contract_id: int) -> Application:
    """The member's live application for the contract (the latest if several were withdrawn).

    One query on every wizard request; only a miss looks at the contract again, to tell (and log)
    someone else's contract from one without an application.
    """
    application = (
        Application.objects.filter(
            contract_id=contract_id,
            member=member,
            contract__policy_link__member=member,
            period_start=F("contract__period_end"),
        )
        .select_related("contract__group__agency")
        .order_by("-pk")
        .first()
    )
    if application is None:
        member_contract_get(member=member, contract_id=contract_id)  # a 404 either way
        raise Http404
    return application


def member_applications(*, member: User) -> dict[int, Application]:
    """contract id → the member's latest application for its current period."""
    result: dict[int, Application] = {}
    current = Application.objects.filter(member=member, period_start=F("contract__period_end"))
    for application in current.order_by("pk"):
        result[application.contract_id] = application
    return result


@dataclass(frozen=True)
class PolicyRenewal(MemberPolicy):
    """A member's linked policy with its renewal application of the current period, if any: what
    MyPage (steps 8 and 9) and the chat's personal answers show."""

    application: Application | None = None


def member_policy_renewals(*, member: User, now: datetime) -> list[PolicyRenewal]:
    """The member's linked policies (``member_policies``: their order, windows and states), each
    with its application of the current period. Two queries whatever the number of policies."""
    applications = member_applications(member=member)
    return [
        PolicyRenewal(
            link=policy.link,
            contract=policy.contract,
            window=policy.window,
            state=policy.state,
            application=applications.get(policy.contract.pk),
        )
        for policy in member_policies(member=member, now=now)
    ]


def renewed_period_end(period_start: date) -> date:
    """One year of cover from the renewed start (29 February falls back to the 28th)."""
    try:
        return period_start.replace(year=period_start.year + 1)
    except ValueError:
        return period_start.replace(year=period_start.year + 1, day=28)


def application_summary(application: Application) -> dict[str, Any]:
    """What the final confirmation (step 20), the completion page and the PDF all show (the quote
    with its labels in the customer's language)."""
    contract = application.contract
    answers = application.answers
    conditions = answers.get("conditions") or {}
    labels = {
        "age_condition": AgeCondition(
            conditions.get("age_condition", contract.age_condition)
        ).label,
        "driver_scope": DriverScope(conditions.get("driver_scope", contract.driver_scope)).label,
        "use": VehicleUsage(conditions.get("use", contract.use)).label,
    }
    declared = answers.get("declarations") or {}
    return {
        "application": application,
        "labels": labels,
        "quote": quote_shown(application.quote, vehicle_value=contract.vehicle_value),
        "new_period_end": renewed_period_end(application.period_start),
        "declarations": [
            (question, declared.get(code)) for code, question, _refers in DECLARATIONS
        ],
    }
