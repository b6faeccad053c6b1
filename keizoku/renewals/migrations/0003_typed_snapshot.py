"""Issue 13: the quote and the answers become versioned, typed snapshots (version 2); the premium
column that repeated ``quote["annual_premium"]`` goes.

Forward: every row's answers and quote are rewritten to version 2 on the plain JSON columns, then
the columns become ``QuoteField`` / ``AnswersField``. A draft whose stored quote lacks a key of
version 2 (written by some older code) loses its quote and re-prices at step 16, as after a
contract change; a submitted application with such a quote stops the migration (it is what the
agency accepts: fix the row by hand). Backward: the column comes back, filled from the quote, and
the rows are written in the version-1 shape (answers per step; ``gold_license`` stays a bool,
which version-1 code reads too).

The conversions are written here, not imported: a migration must keep meaning what it meant.
"""

from django.db import migrations, models

import keizoku.renewals.models
import keizoku.renewals.snapshot

DECLARATION_CODES = (
    "other_insurance",
    "use_change",
    "modified",
    "license_suspended",
    "unreported_accident",
)
QUOTE_KEYS = (
    "table_version",
    "table_versions",
    "plan",
    "plan_label",
    "coverages",
    "conditions",
    "paperless",
    "current_grade",
    "current_coef_period",
    "next_grade",
    "coef_period",
    "grade_rate",
    "grade_rate_percent",
    "lines",
    "paperless_discount",
    "annual_premium",
    "payment_method",
    "payment_label",
    "installments",
    "previous_premium",
    "explanation",
    "projection",
    "eligible",
    "reasons",
)
REPRICED_STEPS = ("current", "conditions", "plan", "premium", "confirm")


def _bool(value):
    """「ゴールド」 was stored as "yes"/"no" by some writers and as a bool by the form."""
    if isinstance(value, bool):
        return value
    return str(value) in ("yes", "True", "true", "1")


def _coverages(data):
    return {
        "personal_injury": str(data["personal_injury"]),
        "property_damage": str(data["property_damage"]),
        "vehicle_cover": str(data["vehicle_cover"]),
        "deductible": str(data.get("deductible") or ""),
        "riders": sorted(set(data.get("riders") or ())),
    }


def _conditions(data):
    return {
        "age_condition": str(data["age_condition"]),
        "driver_scope": str(data["driver_scope"]),
        "use": str(data["use"]),
        "gold_license": _bool(data["gold_license"]),
    }


def answers_v2(old):
    if old.get("version") == 2:
        return old
    plan = old.get("plan")
    declarations = old.get("declarations")
    return {
        "version": 2,
        "consent": bool((old.get("consent") or {}).get("agree")),
        "notes": "notes" in old,
        "disclosure": bool((old.get("disclosure") or {}).get("confirmed")),
        "current": "current" in old,
        "conditions": _conditions(old["conditions"]) if old.get("conditions") else None,
        "plan": {
            "plan": plan["plan"],
            "coverages": _coverages(plan["coverages"]),
            "custom": _coverages(plan["custom"]) if plan.get("custom") else None,
        }
        if plan
        else None,
        "premium": "premium" in old,
        "declarations": {code: declarations.get(code) == "yes" for code in DECLARATION_CODES}
        if declarations
        else None,
        "payment": (old.get("payment") or {}).get("method", ""),
        "delivery": (old.get("delivery") or {}).get("delivery", ""),
    }


def answers_v1(new):
    old = {}
    for slug, key in (("consent", "agree"), ("disclosure", "confirmed")):
        if new[slug]:
            old[slug] = {key: True}
    if new["notes"]:
        old["notes"] = {"eligible": True}
    for slug in ("current", "premium"):
        if new[slug]:
            old[slug] = {"seen": True}
    if new["conditions"]:
        old["conditions"] = {**new["conditions"], "same_vehicle": True}
    if new["plan"]:
        old["plan"] = dict(new["plan"])
    if new["declarations"]:
        old["declarations"] = {
            code: "yes" if yes else "no" for code, yes in new["declarations"].items()
        }
    if new["payment"]:
        old["payment"] = {"method": new["payment"], "confirmed": True}
    if new["delivery"]:
        old["delivery"] = {"delivery": new["delivery"]}
    return old


def quote_v2(old, column_premium):
    """The version-2 quote, or None when it lacks a key (an unreadable quote)."""
    if old.get("version") == 2:
        return old
    premium = old.get("annual_premium", column_premium)
    new = {key: old[key] for key in QUOTE_KEYS if key in old}
    new["annual_premium"] = premium
    if any(key not in new for key in QUOTE_KEYS):
        return None
    new["version"] = 2
    new["coverages"] = _coverages(old["coverages"])
    new["conditions"] = _conditions(old["conditions"])
    return new


def forward(apps, schema_editor):
    Application = apps.get_model("renewals", "Application")
    for application in Application.objects.order_by("pk").iterator(chunk_size=500):
        application.answers = answers_v2(application.answers or {})
        if application.quote is not None:
            quote = quote_v2(application.quote, application.annual_premium)
            if quote is None and application.status != "draft":
                raise RuntimeError(
                    f"application {application.pk} ({application.status}): its quote lacks keys "
                    f"of version 2 ({sorted(set(QUOTE_KEYS) - set(application.quote))}); "
                    "it is what the agency accepts, so it is not dropped: fix it by hand"
                )
            if quote is None:
                application.quoted_contract_version = None
                application.completed_steps = [
                    slug for slug in application.completed_steps if slug not in REPRICED_STEPS
                ]
            application.quote = quote
        application.save(
            update_fields=["answers", "quote", "quoted_contract_version", "completed_steps"]
        )


def backward(apps, schema_editor):
    Application = apps.get_model("renewals", "Application")
    for application in Application.objects.order_by("pk").iterator(chunk_size=500):
        application.answers = answers_v1(application.answers)
        quote = application.quote
        if quote is not None:
            quote = {key: value for key, value in quote.items() if key != "version"}
            application.annual_premium = quote["annual_premium"]
        application.quote = quote
        application.save(update_fields=["answers", "quote", "annual_premium"])


class Migration(migrations.Migration):
    dependencies = [
        ("renewals", "0002_idempotency_key_per_application"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RemoveField(
            model_name="application",
            name="annual_premium",
        ),
        migrations.AlterField(
            model_name="application",
            name="answers",
            field=keizoku.renewals.models.AnswersField(
                blank=True, default=keizoku.renewals.snapshot.Answers
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="quote",
            field=keizoku.renewals.models.QuoteField(blank=True, null=True),
        ),
    ]
