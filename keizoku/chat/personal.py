"""Personal answers: what a question asks about the member's own policies, computed from their data.

Four intents: when the renewal window closes, the state of the application, why the premium
changed (the rating explanation) and what the next grade will be. Everything is read through
the member's own links (``member_policies``), so another member's policy can never appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from keizoku.accounts.models import User
from keizoku.accounts.selectors import MemberPolicy
from keizoku.contracts.windows import JST, WindowState
from keizoku.core import l10n
from keizoku.rating import grades
from keizoku.renewals import labels, pricing
from keizoku.renewals.models import Application
from keizoku.renewals.selectors import member_policy_renewals


class Intent(StrEnum):
    WINDOW = "window"  # いつまで手続きできるか
    STATUS = "status"  # 申込の状況
    PREMIUM = "premium"  # 保険料が変わった理由
    GRADE = "grade"  # 次の等級


# Matched on the normalised question (NFKC, lower case). A question may carry several intents.
_RENEWAL = r"(更改|継続|更新|手続き?|申し?込|受付|web|ウェブ|ネット|クリッカー|clickar)"
_PATTERNS = {
    Intent.WINDOW: re.compile(
        rf"{_RENEWAL}.{{0,15}}(いつまで|期限|締め?切|〆切|締めきり|期間|いつから)"
        rf"|(いつまで|期限|締め?切|〆切).{{0,10}}{_RENEWAL}|満期(日)?(は|って)?いつ"
        r"|deadline|due date|until when|renewal window|window (close|open)"
    ),
    Intent.STATUS: re.compile(
        r"(申込|申し込み|申し込ん|手続き?|更改|継続).{0,12}(状況|状態|どうなって|どうなった|"
        r"済んで|完了して|受け?付けられ|終わって|できてい)|ステータス|進捗"
        r"|application status|status of my|my application (has|have|is|was|been)"
    ),
    Intent.PREMIUM: re.compile(
        r"保険料.{0,20}(上がっ|高くなっ|下がっ|安くなっ|変わっ|違う|増え|減っ|なぜ|理由|差額)"
        r"|(なぜ|どうして|なんで(?!す)|理由).{0,20}(保険料|高く|安く)|値上が|値下が"
        r"|premium.{0,30}(up|increase|higher|change|lower|differ)"
        r"|why.{0,30}(premium|expensive|cost|price)"
    ),
    Intent.GRADE: re.compile(
        r"(次|来年|更改後|継続後)の?等級|等級.{0,6}(次|来年|更改後|いくつ)|何等級"
        r"|next grade|grade.{0,20}(next year|after renewal|will be)"
    ),
}


def detect_intents(normalized_question: str) -> tuple[Intent, ...]:
    return tuple(
        intent for intent, pattern in _PATTERNS.items() if pattern.search(normalized_question)
    )


@dataclass(frozen=True)
class PolicyFact:
    """One computed line about one of the member's policies."""

    policy_number: str
    vehicle: str
    text: str
    parts: tuple[str, ...] = ()  # e.g. the causes of a premium change
    link: str = ""  # where the member acts on it (the wizard, the completion page)
    link_label: str = ""


@dataclass(frozen=True)
class PersonalAnswer:
    intent: Intent
    title: str
    facts: tuple[PolicyFact, ...]
    empty: str = ""  # shown instead of facts (no policy linked yet)


def _signed_yen(amount: int) -> str:
    """+1,200円 / -1,200円 (+¥1,200 / -¥1,200), as the 「保険料の確認」 step shows a change."""
    return f"+{l10n.yen(amount)}" if amount > 0 else l10n.yen(amount)


def _fact(policy: MemberPolicy, text: str, **fields) -> PolicyFact:
    return PolicyFact(
        policy_number=policy.contract.policy_number,
        vehicle=policy.contract.vehicle_model,
        text=text,
        **fields,
    )


def _window_fact(policy: MemberPolicy, now: datetime) -> PolicyFact:
    window = policy.window
    if policy.state is WindowState.OPEN:
        days = (window.closes_at.astimezone(JST).date() - now.astimezone(JST).date()).days
        text = ngettext(
            "WEB更改の受付は%(closes)sまでです（あと%(days)s日）。",
            "WEB更改の受付は%(closes)sまでです（あと%(days)s日）。",
            days,
        ) % {"closes": l10n.datetime(window.closes_at), "days": days}
        return _fact(
            policy,
            text,
            link=reverse("renewals:start", args=[policy.contract.pk]),
            link_label=_("この契約の更改手続きへ"),
        )
    if policy.state is WindowState.NOT_YET:
        text = _("WEB更改の受付は%(opens)sに始まり、%(closes)sに締め切ります。") % {
            "opens": l10n.datetime(window.opens_at),
            "closes": l10n.datetime(window.closes_at),
        }
        return _fact(policy, text)
    text = _(
        "WEB更改の受付は%(closes)sに締め切りました。お手続きは代理店にお問い合わせください。"
    ) % {"closes": l10n.datetime(window.closes_at)}
    return _fact(policy, text)


def _status_fact(policy: MemberPolicy, application: Application | None) -> PolicyFact:
    if application is None:
        if policy.state is WindowState.OPEN:
            return _fact(
                policy,
                _("まだ更改のお手続きを始めていません。"),
                link=reverse("renewals:start", args=[policy.contract.pk]),
                link_label=_("この契約の更改手続きへ"),
            )
        return _fact(policy, _("この契約の更改のお申込みはありません。"))
    status = Application.Status(application.status)
    if application.acceptance_number and status != Application.Status.DRAFT:
        text = _("お申込みの状態は「%(status)s」です（受付番号 %(number)s）。") % {
            "status": status.label,
            "number": application.acceptance_number,
        }
    else:
        text = _("お申込みの状態は「%(status)s」です。") % {"status": status.label}
    if status == Application.Status.DRAFT:
        return _fact(
            policy,
            text,
            link=reverse("renewals:start", args=[policy.contract.pk]),
            link_label=_("手続きの続きへ"),
        )
    return _fact(policy, text)


def _quote(policy: MemberPolicy, application: Application | None, now: datetime) -> dict:
    """The quote the member saw for the chosen plan if any, else the contract's renewal quote."""
    if application is not None and application.quote:
        return application.quote
    return pricing.contract_quote(policy.contract, now=now)


def _premium_fact(
    policy: MemberPolicy, application: Application | None, now: datetime
) -> PolicyFact:
    try:
        explanation = _quote(policy, application, now)["explanation"]
    except (LookupError, ValueError):  # no rating table for that date, or data out of range
        return _fact(policy, _("保険料を計算できませんでした。代理店にお問い合わせください。"))
    difference = explanation["difference"]
    text = _(
        "前年の年間保険料%(previous)sに対し、更改後は%(new)s（%(difference)s）です。内訳は次のとおりです。"
    ) % {
        "previous": l10n.yen(explanation["previous"]),
        "new": l10n.yen(explanation["new"]),
        "difference": _signed_yen(difference),
    }
    # The stored labels are the engine's Japanese: the words come from the cause's code.
    parts = tuple(
        _("%(cause)s：%(amount)s")
        % {"cause": labels.CAUSE_LABELS[part["cause"]], "amount": _signed_yen(part["amount"])}
        for part in explanation["parts"]
        if part["amount"]
    )
    if not parts:
        parts = (_("変更はありません。"),)
    return _fact(policy, text, parts=parts)


def _grade_fact(policy: MemberPolicy) -> PolicyFact:
    contract = policy.contract
    grade, period = grades.next_grade(
        contract.grade, contract.coef_period, contract.claims_3down, contract.claims_1down
    )
    if contract.open_claim:
        text = ngettext(
            "現在は%(grade)s等級で、更改後は%(next)s等級（事故有係数適用期間%(period)s年）に"
            "なります。未解決の事故があるため、事故の結果によって等級が変わることがあります。",
            "現在は%(grade)s等級で、更改後は%(next)s等級（事故有係数適用期間%(period)s年）に"
            "なります。未解決の事故があるため、事故の結果によって等級が変わることがあります。",
            period,
        )
    else:
        text = ngettext(
            "現在は%(grade)s等級で、更改後は%(next)s等級（事故有係数適用期間%(period)s年）に"
            "なります。",
            "現在は%(grade)s等級で、更改後は%(next)s等級（事故有係数適用期間%(period)s年）に"
            "なります。",
            period,
        )
    return _fact(policy, text % {"grade": contract.grade, "next": grade, "period": period})


TITLES = {
    Intent.WINDOW: gettext_lazy("手続きの期限"),
    Intent.STATUS: gettext_lazy("お申込みの状況"),
    Intent.PREMIUM: gettext_lazy("保険料が変わった理由"),
    Intent.GRADE: gettext_lazy("更改後の等級"),
}


def personal_answers(
    *, member: User, intents: tuple[Intent, ...], now: datetime
) -> tuple[PersonalAnswer, ...]:
    """The answers to ``intents`` about ``member``'s own linked policies (nothing else is read)."""
    if not intents:
        return ()
    policies = member_policy_renewals(member=member, now=now)
    if not policies:
        empty = _("マイページにご契約が登録されていません。証券番号を登録するとお答えできます。")
        return tuple(PersonalAnswer(i, str(TITLES[i]), (), empty=empty) for i in intents)
    answers = []
    for intent in intents:
        facts = []
        for policy in policies:
            application = policy.application
            if intent is Intent.WINDOW:
                facts.append(_window_fact(policy, now))
            elif intent is Intent.STATUS:
                facts.append(_status_fact(policy, application))
            elif intent is Intent.PREMIUM:
                facts.append(_premium_fact(policy, application, now))
            else:
                facts.append(_grade_fact(policy))
        answers.append(PersonalAnswer(intent, str(TITLES[intent]), tuple(facts)))
    return tuple(answers)
