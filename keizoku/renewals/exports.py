"""CSV exports of applications: the nightly feed to the insurer and the payroll-deduction list.

Files are UTF-8 with a BOM and CRLF line ends, which Excel in Japan opens correctly (see
docs/decisions.md and docs/exports.md); every cell that a spreadsheet would read as a formula
is defused with a leading apostrophe.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from keizoku.contracts.windows import JST

from .models import Application

BOM = "\ufeff"
ENCODING = "utf-8-sig"  # writes the BOM
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

APPLICATION_COLUMNS = [
    "acceptance_number",
    "policy_number",
    "status",
    "plan",
    "plan_label",
    "annual_premium",
    "accepted_premium",
    "payment_method",
    "period_start",
    "submitted_at",
    "decided_at",
    "group_code",
    "agency_code",
    "holder_name",
    "holder_kana",
    "member_type",
    "next_grade",
]

PAYROLL_COLUMNS = [
    "group_code",
    "group_name",
    "policy_number",
    "acceptance_number",
    "holder_name",
    "holder_kana",
    "period_start",
    "annual_premium",
    "installments",
    "first_installment",
    "monthly_installment",
]


def escape_cell(value: Any) -> str:
    """A cell as text; one that starts like a formula (=, +, -, @, tab, CR) gets a leading '."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def write_csv(out: io.TextIOBase, columns: list[str], rows: Iterable[dict[str, Any]]) -> int:
    """Header and rows, every cell escaped, CRLF; returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([escape_cell(row.get(column)) for column in columns])
        count += 1
    return count


def csv_bytes(columns: list[str], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    write_csv(out, columns, rows)
    return (BOM + out.getvalue()).encode("utf-8")


def _iso_jst(moment: datetime | None) -> str:
    return moment.astimezone(JST).isoformat(timespec="seconds") if moment else ""


def exportable_applications(applications: QuerySet[Application] | None = None):
    """Every application past draft (the feed), oldest submission first."""
    applications = applications if applications is not None else Application.objects.all()
    return (
        applications.exclude(status=Application.Status.DRAFT)
        .select_related("contract__group__agency")
        .order_by("submitted_at", "pk")
    )


def application_rows(applications: QuerySet[Application]) -> Iterator[dict[str, Any]]:
    for application in applications.iterator(chunk_size=1000):
        contract = application.contract
        quote = application.quote or {}
        yield {
            "acceptance_number": application.acceptance_number or "",
            "policy_number": contract.policy_number,
            "status": application.status,
            "plan": quote.get("plan", ""),
            "plan_label": quote.get("plan_label", ""),
            "annual_premium": application.annual_premium
            if application.annual_premium is not None
            else quote.get("annual_premium", ""),
            "accepted_premium": application.accepted_premium,
            "payment_method": quote.get("payment_method", ""),
            "period_start": application.period_start.isoformat(),
            "submitted_at": _iso_jst(application.submitted_at),
            "decided_at": _iso_jst(application.decided_at),
            "group_code": contract.group.code,
            "agency_code": contract.group.agency.code,
            "holder_name": contract.holder_name,
            "holder_kana": contract.holder_kana,
            "member_type": contract.member_type,
            "next_grade": quote.get("next_grade", ""),
        }


def installments_of(application: Application) -> list[int]:
    """The 12 monthly amounts: the quote's, or the premium split with the remainder first."""
    quote = application.quote or {}
    saved = quote.get("installments") or []
    premium = application.accepted_premium or 0
    if len(saved) == 12 and sum(saved) == premium:
        return [int(amount) for amount in saved]
    monthly, remainder = divmod(premium, 12)
    return [monthly + remainder] + [monthly] * 11


def payroll_applications(group_id: int) -> QuerySet[Application]:
    """The group's accepted applications paid by payroll deduction (employees, 給与天引き)."""
    return (
        Application.objects.filter(
            contract__group_id=group_id,
            status=Application.Status.ACCEPTED,
            contract__member_type="employee",
        )
        .select_related("contract__group")
        .order_by("contract__policy_number", "period_start")
    )


def payroll_rows(applications: QuerySet[Application]) -> Iterator[dict[str, Any]]:
    for application in applications.iterator(chunk_size=1000):
        contract = application.contract
        amounts = installments_of(application)
        yield {
            "group_code": contract.group.code,
            "group_name": contract.group.name,
            "policy_number": contract.policy_number,
            "acceptance_number": application.acceptance_number or "",
            "holder_name": contract.holder_name,
            "holder_kana": contract.holder_kana,
            "period_start": application.period_start.isoformat(),
            "annual_premium": application.accepted_premium,
            "installments": len(amounts),
            "first_installment": amounts[0],
            "monthly_installment": amounts[1],
        }
