"""CSV exports of applications: the nightly feed to the insurer and the payroll-deduction list.

Files are UTF-8 with a BOM and CRLF line ends, which Excel in Japan opens correctly, or CP932
(Shift_JIS as Windows writes it) for payroll systems that read nothing else; every character
CP932 cannot hold is substituted by the documented rule (``cp932_text``) and reported, never
written as a silent ``?`` (docs/decisions.md, "Exports in CP932"). Every cell that a spreadsheet
would read as a formula is defused with a leading apostrophe, after the substitution.
"""

import csv
import hashlib
import io
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from keizoku.contracts.windows import JST

from .models import Application

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

UTF8_BOM = "utf-8-sig"  # Python's codec writes the BOM
CP932 = "cp932"
ENCODINGS = (UTF8_BOM, CP932)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# --- CP932: what it cannot hold, and what is written instead ---------------------------------
#
# For each character, in this order:
# 1. kept when CP932 holds it (髙 and 﨑 are in CP932: IBM extensions);
# 2. a character CP932 writes as a look-alike of its own (〜 U+301C is written as ～ U+FF5E, − as
#    －, ‖ as ∥, ¢ £ ¬ as ￠ ￡ ￢): that look-alike, reported, so the file reads back as written;
# 3. CP932_SUBSTITUTES: a variant form (異体字) of a common kanji → its standard form in CP932,
#    and a few symbols → their CP932 look-alike;
# 4. variation selectors and joiners (invisible, they only choose a glyph): removed;
# 5. the NFKC compatibility form when CP932 holds all of it (compatibility ideographs, ㋿ → 令和);
# 6. otherwise 〓 (U+3013, ゲタ記号, the customary mark of a character that could not be set).
PLACEHOLDER = "〓"
CP932_SUBSTITUTES = {
    "𠮷": "吉",  # U+20BB7 つちよし
    "𡈽": "土",
    "𣘺": "橋",
    "𥔎": "崎",  # U+2550E たつさき
    "𠀋": "丈",
    "鷗": "鴎",
    "剝": "剥",
    "頰": "頬",
    "𠮟": "叱",
    "塡": "填",
    "摑": "掴",
    "俱": "倶",
    "噓": "嘘",
    "屛": "屏",
    "繫": "繋",
    "蔣": "蒋",
    "醬": "醤",
    "禱": "祷",
    "倂": "併",
    "卽": "即",
    "巢": "巣",
    "涉": "渉",
    "搔": "掻",
    "焰": "焔",
    "\u2014": "\u2015",  # — EM DASH → ― (CP932's dash)
    "\u00a5": "\uffe5",  # ¥ → ￥
    "\u203e": "\uffe3",  # ‾ → ￣
}
_INVISIBLE = frozenset(
    ["\u200c", "\u200d", *map(chr, range(0xFE00, 0xFE10)), *map(chr, range(0xE0100, 0xE01F0))]
)


def _cp932_holds(text: str) -> bool:
    try:
        return text.encode(CP932).decode(CP932) == text
    except UnicodeEncodeError:
        return False


@lru_cache(maxsize=4096)
def cp932_substitute(char: str) -> str | None:
    """What is written for ``char`` in CP932: None when it is kept, else its substitute ("" when
    it is removed). The rule is the numbered list above."""
    if _cp932_holds(char):
        return None
    try:
        look_alike = char.encode(CP932).decode(CP932)
    except UnicodeEncodeError:
        pass
    else:
        return look_alike
    if char in CP932_SUBSTITUTES:
        return CP932_SUBSTITUTES[char]
    if char in _INVISIBLE:
        return ""
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and _cp932_holds(compatible):
        return compatible
    return PLACEHOLDER


def cp932_text(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``text`` as CP932 can hold it, and each (character, substitute) it took."""
    if _cp932_holds(text):
        return text, []
    written, taken = [], []
    for char in text:
        substitute = cp932_substitute(char)
        if substitute is None:
            written.append(char)
        else:
            written.append(substitute)
            taken.append((char, substitute))
    return "".join(written), taken


@dataclass(frozen=True)
class Substitution:
    """One character CP932 could not hold: where it was and what was written instead."""

    row: int  # the row in the file as Excel numbers it: the header is row 1
    column: str
    policy_number: str  # of that row, to find it
    character: str
    substitute: str  # "" when removed

    @property
    def code_point(self) -> str:
        return f"U+{ord(self.character):04X}"

    def __str__(self) -> str:
        written = self.substitute or "(removed)"
        return (
            f"row {self.row}: {self.column}: {self.character} ({self.code_point}) → {written}"
            f" [{self.policy_number}]"
        )


@dataclass
class Written:
    """What write_csv wrote: the number of data rows and every substitution made."""

    rows: int = 0
    substitutions: list[Substitution] = field(default_factory=list)

    @property
    def digest(self) -> str:
        """A short fingerprint of the substitutions, so that a download can be matched with
        the report the clerk saw."""
        text = "\n".join(str(s) for s in self.substitutions)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


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


def write_csv(
    out: "SupportsWrite[str]",
    columns: list[str],
    rows: Iterable[dict[str, Any]],
    *,
    encoding: str = UTF8_BOM,
) -> Written:
    """Header and rows, CRLF, every cell first made fit for ``encoding`` (CP932: substituted and
    reported) then escaped. ``out`` is a text stream that encodes with ``encoding``."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, not {encoding!r}")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    written = Written()
    for line, row in enumerate(rows, start=2):
        cells = []
        for column in columns:
            value = row.get(column)
            text = "" if value is None else str(value)
            if encoding == CP932:
                text, taken = cp932_text(text)
                written.substitutions.extend(
                    Substitution(line, column, str(row.get("policy_number", "")), char, sub)
                    for char, sub in taken
                )
            cells.append(escape_cell(text))
        writer.writerow(cells)
        written.rows += 1
    return written


def csv_file(
    columns: list[str], rows: Iterable[dict[str, Any]], *, encoding: str = UTF8_BOM
) -> tuple[bytes, Written]:
    """The whole file in ``encoding`` (UTF-8 with its BOM, or CP932), and what was written."""
    out = io.StringIO()
    written = write_csv(out, columns, rows, encoding=encoding)
    return out.getvalue().encode(encoding), written


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
