"""What the customer reads for what the rating engine names by code, in the customer's language.

The engine (``keizoku.rating``, pure Python) labels its quotes and reasons in Japanese, and the
quote stored with an application keeps those labels for the agency and the exports. The pages,
the mails and the PDF rebuild the words from the codes here, through gettext. The msgids are the
engine's own Japanese words, so a Japanese page shows exactly what the engine wrote
(``tests/test_labels.py`` holds the two together).
"""

from dataclasses import dataclass, replace

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keizoku.contracts.models import Deductible, Rider
from keizoku.core import l10n
from keizoku.rating.eligibility import RETIREE_AGE_LIMIT
from keizoku.rating.plans import PlanChange

from .choices import DECLARATIONS, PaymentMethod, Plan
from .snapshot import Coverages, Quote, QuoteLine, Reason

LINE_LABELS = {
    "BI": gettext_lazy("対人賠償"),
    "PD": gettext_lazy("対物賠償"),
    "PI": gettext_lazy("人身傷害"),
    "VH": gettext_lazy("車両保険"),
    "LEGAL": gettext_lazy("弁護士費用特約"),
    "LIABILITY": gettext_lazy("個人賠償責任特約"),
    "FAMILY_BIKE": gettext_lazy("ファミリーバイク特約"),
    "ROAD": gettext_lazy("ロードアシスタンス特約"),
    "PAPERLESS": gettext_lazy("Web証券割引"),
}
VEHICLE_COVER_LABELS = {"general": gettext_lazy("一般"), "economy": gettext_lazy("エコノミー")}
CAUSE_LABELS = {
    "grade": gettext_lazy("等級の変更"),
    "age": gettext_lazy("年齢条件の変更"),
    "conditions": gettext_lazy("運転者限定・使用目的の変更"),
    "coverages": gettext_lazy("補償内容・特約の変更"),
    "discounts": gettext_lazy("割引の変更"),
    "revision": gettext_lazy("保険料率の改定など"),
}
PLAN_ERRORS = {
    "personal_injury": gettext_lazy("人身傷害の保険金額を選択してください。"),
    "property_damage": gettext_lazy("対物賠償の限度額を選択してください。"),
    "vehicle_cover": gettext_lazy("車両保険の種類を選択してください。"),
    "deductible_without_cover": gettext_lazy("車両保険を付けない場合、免責金額は選択できません。"),
    "deductible_missing": gettext_lazy("車両保険を付ける場合は、免責金額を選択してください。"),
    "vehicle_cover_added": gettext_lazy(
        "前年のご契約に車両保険がないため、車両保険の追加は代理店でのお手続きになります。"
    ),
    "rider": gettext_lazy("選択できない特約が含まれています。"),
}
# Why a renewal goes to the agency: the engine's eligibility codes, and the wizard's own.
REASON_TEXTS = {
    "not_linked": gettext_lazy("このご契約はマイページに登録されていません。"),
    "outside_window": gettext_lazy("WEB更改手続きの受付期間外です。代理店にお問い合わせください。"),
    "open_claim": gettext_lazy(
        "解決していない事故があるため、WEBでの更改手続きはできません。代理店にお問い合わせください。"
    ),
    "midterm_change": gettext_lazy(
        "ご契約内容の変更手続き中のため、WEBでの更改手続きはできません。代理店にお問い合わせください。"
    ),
    "retiree_age": gettext_lazy(
        "退職者の方で、更改後の始期日に%(limit)s歳以上となる方は、WEBでの更改手続きの対象外です。"
        "代理店にお問い合わせください。"
    ),
    "vehicle_change": gettext_lazy("お車の入れ替えは代理店でのお手続きになります。"),
}
_DECLARATIONS = {code: question for code, question, _refers in DECLARATIONS}
# 「おすすめの理由」: why 「おすすめプラン」 makes each change (rating.plans.recommended_plan's rules).
RECOMMENDATION_WHY = {
    "legal": gettext_lazy(
        "相手に100%過失がある「もらい事故」では、保険会社が相手と示談交渉をすることができません。"
        "弁護士に相談・依頼する費用を補償します。"
    ),
    "personal_injury": gettext_lazy(
        "ご自身や同乗者のけがの治療費や休業中の収入などを、過失割合にかかわらず補償します。"
        "重いけがや後遺障害では、損害が数千万円になることがあります。"
    ),
    "property_damage": gettext_lazy(
        "店舗や電車、高級車との事故では、賠償額が数千万円から1億円を超えることもあります。"
        "無制限なら、限度額を気にせず補償されます。"
    ),
    "deductible": gettext_lazy(
        "免責金額（事故のときの自己負担額）は、保険料とのバランスがよい「1回目5万円」を"
        "おすすめしています。小さな修理で保険を使うと翌年から等級が下がり保険料が上がることが多く、"
        "大きな事故では自己負担を抑えられます。"
    ),
}


def plan_label(code: str) -> str:
    return str(Plan(code).label)


def plan_error(code: str) -> str:
    return str(PLAN_ERRORS[code])


def limit_label(value: str) -> str:
    """「無制限」 or the amount: 「3,000万円」 / "¥30,000,000"."""
    return _("無制限") if value == "unlimited" else l10n.yen_large(int(value))


def vehicle_label(cover: str, deductible: str, value: int) -> str:
    """「200万円（一般・免責5-10万円）」 / "¥2,000,000 (general, deductible ¥50,000 ...)"."""
    shown = deductible if l10n.is_japanese() else str(Deductible(deductible).label)
    return _("%(amount)s（%(cover)s・免責%(deductible)s万円）") % {
        "amount": l10n.yen_large(value),
        "cover": VEHICLE_COVER_LABELS[cover],
        "deductible": shown,
    }


def _line_limit(line: QuoteLine, coverages: Coverages, vehicle_value: int) -> str:
    code = line.code
    if code == "BI":
        return _("無制限")
    if code == "PD":
        return limit_label(coverages.property_damage)
    if code == "PI":
        return limit_label(coverages.personal_injury)
    if code == "VH":
        return vehicle_label(coverages.vehicle_cover, coverages.deductible, vehicle_value)
    return line.limit_label  # riders and the Web証券割引 have none


@dataclass(frozen=True, slots=True)
class ChangeShown:
    """A change of 「おすすめプラン」 as the customer reads it (「おすすめの理由」)."""

    title: str
    why: str
    annual: int
    monthly: int


def change_text(change: PlanChange) -> ChangeShown:
    """A change of 「おすすめプラン」 (rating.plans.PlanChange): what it is, why, and its cost."""
    code, before, after = change.code, change.before, change.after
    if code in Rider.values:
        title = _("%(rider)sを追加") % {"rider": Rider(code).label}
    elif code == "personal_injury":
        title = _("人身傷害を%(before)sから%(after)sに") % {
            "before": limit_label(before),
            "after": limit_label(after),
        }
    elif code == "property_damage":
        title = _("対物賠償を%(before)sから%(after)sに") % {
            "before": limit_label(before),
            "after": limit_label(after),
        }
    elif code == "deductible":
        title = _("車両保険の免責金額を「%(before)s」から「%(after)s」に") % {
            "before": Deductible(before).label,
            "after": Deductible(after).label,
        }
    else:
        raise ValueError(f"no words for the recommendation's change {code!r}")
    return ChangeShown(
        title=title,
        why=str(RECOMMENDATION_WHY[code]),
        annual=change.annual,
        monthly=change.monthly,
    )


def reason_text(reason: dict[str, str] | Reason) -> str:
    """A reason to go through the agency, from its code (an old one without: its stored text)."""
    if isinstance(reason, Reason):
        reason = {"code": reason.code, "text": reason.text}
    code = reason.get("code", "")
    if code == "retiree_age":
        return str(REASON_TEXTS[code]) % {"limit": RETIREE_AGE_LIMIT}
    if code in REASON_TEXTS:
        return str(REASON_TEXTS[code])
    if code in _DECLARATIONS:
        return str(_DECLARATIONS[code])
    return reason.get("text", "")


def stored_reason(code: str) -> dict[str, str]:
    """A reason as the application keeps it: the code, and the text in Japanese for the agency
    (whatever language the customer uses)."""
    with translation.override(settings.LANGUAGE_CODE):
        return {"code": code, "text": reason_text({"code": code})}


def quote_shown(quote: Quote | None, *, vehicle_value: int) -> Quote | None:
    """A quote with every label in the customer's language (the numbers untouched)."""
    if quote is None:
        return None
    return replace(
        quote,
        plan_label=plan_label(quote.plan),
        lines=tuple(
            replace(
                line,
                label=str(LINE_LABELS[line.code]),
                limit_label=_line_limit(line, quote.coverages, vehicle_value),
            )
            for line in quote.lines
        ),
        reasons=tuple(replace(reason, text=reason_text(reason)) for reason in quote.reasons),
        payment_label=str(PaymentMethod(quote.payment_method).label),
        explanation=replace(
            quote.explanation,
            parts=tuple(
                replace(part, label=str(CAUSE_LABELS[part.cause]))
                for part in quote.explanation.parts
            ),
        ),
    )
