"""Migration 0003: stored quotes and answers of version 1 become the typed snapshot, and back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from keizoku.renewals.models import Application
from keizoku.renewals.snapshot import Answers, Conditions, Declarations, PlanChoice

BEFORE = [("renewals", "0002_idempotency_key_per_application")]
AFTER = [("renewals", "0003_typed_snapshot")]
COVERAGES_V1 = {
    "personal_injury": "50000000",
    "property_damage": "unlimited",
    "vehicle_cover": "general",
    "deductible": "5-10",
    "riders": ["liability", "legal"],
}
ANSWERS_V1 = {
    "consent": {"agree": True},
    "notes": {"eligible": True},
    "disclosure": {"confirmed": True},
    "current": {"seen": True},
    "conditions": {
        "age_condition": "35",
        "driver_scope": "self_spouse",
        "use": "commute",
        "gold_license": "yes",  # as some writers stored it
        "same_vehicle": True,
    },
    "plan": {"plan": "same", "coverages": COVERAGES_V1, "custom": None},
    "premium": {"seen": True},
    "declarations": {
        "other_insurance": "no",
        "use_change": "no",
        "modified": "yes",
        "license_suspended": "no",
        "unreported_accident": "no",
    },
    "payment": {"method": "payroll", "confirmed": True},
    "delivery": {"delivery": "web"},
}


def quote_v1(premium: int) -> dict:
    """A version-1 quote as pricing wrote it before issue 13 (no version key)."""
    row = {"year": 1, "grade": 14, "coef_period": 0, "rate": "-0.52", "rate_percent": "−52%"}
    return {
        "table_version": "g+f",
        "table_versions": {"grade": "g", "factors": "f"},
        "plan": "same",
        "plan_label": "前年同等プラン",
        "coverages": COVERAGES_V1,
        "conditions": {
            "age_condition": "35",
            "driver_scope": "self_spouse",
            "use": "commute",
            "gold_license": True,
        },
        "paperless": True,
        "current_grade": 13,
        "current_coef_period": 0,
        "next_grade": 14,
        "coef_period": 0,
        "grade_rate": "-0.52",
        "grade_rate_percent": "−52%",
        "lines": [
            {
                "code": "BI",
                "label": "対人賠償",
                "limit_label": "無制限",
                "base": 24000,
                "factors": [{"code": "grade", "label": "等級", "value": "0.48"}],
                "premium": premium,
            }
        ],
        "paperless_discount": 0,
        "annual_premium": premium,
        "payment_method": "payroll",
        "payment_label": "給与天引き（12回払）",
        "installments": [premium],
        "previous_premium": 70000,
        "explanation": {
            "previous": 70000,
            "new": premium,
            "difference": premium - 70000,
            "parts": [{"cause": "grade", "label": "等級の変更", "amount": premium - 70000}],
        },
        "projection": {
            "with_accidents": [row],
            "without_accidents": [row],
            "premium_without_accidents": premium,
        },
        "eligible": True,
        "reasons": [],
    }


def migrate(targets) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_stored_rows_are_rewritten_to_the_typed_snapshot_and_back():
    from tests.factories import make_contract, make_member

    contract = make_contract()
    draft_contract = make_contract(group=contract.group, policy_number="P-0002")
    member = make_member()
    old = migrate(BEFORE)
    OldApplication = old.get_model("renewals", "Application")
    submitted = OldApplication.objects.create(
        contract_id=contract.pk,
        member_id=member.pk,
        period_start=contract.period_end,
        status="submitted",
        answers=ANSWERS_V1,
        completed_steps=["consent", "notes", "plan", "premium", "confirm"],
        quote=quote_v1(43090),
        annual_premium=43090,
    )
    # A draft whose quote an older version wrote without some keys: it re-prices at step 16.
    partial = {key: value for key, value in quote_v1(50000).items() if key != "projection"}
    broken = OldApplication.objects.create(
        contract_id=draft_contract.pk,
        member_id=member.pk,
        period_start=draft_contract.period_end,
        answers={"consent": {"agree": True}},
        completed_steps=["consent", "notes", "plan", "premium"],
        quote=partial,
        quoted_contract_version=1,
        annual_premium=50000,
    )
    try:
        migrate(AFTER)
        application = Application.objects.get(pk=submitted.pk)
        assert application.quote.annual_premium == 43090
        assert application.quote.conditions.gold_license is True
        answers = application.answers
        assert answers.conditions == Conditions(
            age_condition="35", driver_scope="self_spouse", use="commute", gold_license=True
        )
        assert answers.plan == PlanChoice(
            plan="same",
            coverages=application.quote.coverages,  # riders sorted, as everywhere
            custom=None,
        )
        assert answers.declarations == Declarations(
            other_insurance=False,
            use_change=False,
            modified=True,
            license_suspended=False,
            unreported_accident=False,
        )
        assert (answers.consent, answers.notes, answers.premium) == (True, True, True)
        assert (answers.payment, answers.delivery) == ("payroll", "web")
        repriced = Application.objects.get(pk=broken.pk)
        assert repriced.quote is None and repriced.quoted_contract_version is None
        assert repriced.completed_steps == ["consent", "notes"]
        assert repriced.answers == Answers(consent=True)
        # Backwards: the version-1 shape and the premium column again.
        old = migrate(BEFORE)
        row = old.get_model("renewals", "Application").objects.get(pk=submitted.pk)
        assert row.annual_premium == 43090
        assert row.quote == {
            **quote_v1(43090),
            "coverages": {
                **COVERAGES_V1,
                "riders": [
                    "legal",
                    "liability",
                ],
            },
        }
        assert row.answers == {
            **ANSWERS_V1,
            "conditions": {**ANSWERS_V1["conditions"], "gold_license": True},
            "plan": {**ANSWERS_V1["plan"], "coverages": row.quote["coverages"]},
        }
    finally:
        migrate(AFTER)
