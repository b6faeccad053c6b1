"""Who may renew online (RATING.md §4): the reasons a renewal is referred to the agency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

RETIREE_AGE_LIMIT = 75

TEXTS = {
    "not_linked": "このご契約はマイページに登録されていません。",
    "outside_window": "WEB更改手続きの受付期間外です。代理店にお問い合わせください。",
    "open_claim": "解決していない事故があるため、WEBでの更改手続きはできません。代理店にお問い合わせください。",
    "midterm_change": "ご契約内容の変更手続き中のため、WEBでの更改手続きはできません。代理店にお問い合わせください。",
    "retiree_age": "退職者の方で、更改後の始期日に{limit}歳以上となる方は、WEBでの更改手続きの対象外です。代理店にお問い合わせください。",
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


def age_on(birth_date: date, day: date) -> int:
    """満年齢 on ``day`` (the age goes up on the birthday)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def eligibility_reasons(
    *,
    linked: bool,
    window_open: bool,
    open_claim: bool,
    midterm_change_pending: bool,
    member_type: str,
    birth_date: date,
    new_start: date,
    retiree_age_limit: int = RETIREE_AGE_LIMIT,
) -> list[Reason]:
    """Every reason the renewal must go through the agency; empty = may renew online."""
    reasons = []
    if not linked:
        reasons.append("not_linked")
    if not window_open:
        reasons.append("outside_window")
    if open_claim:
        reasons.append("open_claim")
    if midterm_change_pending:
        reasons.append("midterm_change")
    if member_type == "retiree" and age_on(birth_date, new_start) >= retiree_age_limit:
        reasons.append("retiree_age")
    return [Reason(code, TEXTS[code].format(limit=retiree_age_limit)) for code in reasons]
