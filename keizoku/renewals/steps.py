"""The Clickar wizard's steps (guide 10–20) in order, and the rule that none can be skipped."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Step:
    slug: str
    number: int  # the guide's step number
    title: "StrOrPromise"  # translated when shown
    section: str = ""  # the part of the final confirmation that 「修正する」 returns to


STEPS: tuple[Step, ...] = (
    Step("consent", 10, _("個人情報の取扱いについて")),
    Step("notes", 11, _("ご利用にあたっての注意事項")),
    Step("disclosure", 12, _("重要事項説明書の確認")),
    Step("current", 13, _("現在のご契約内容")),
    Step("conditions", 14, _("ご契約条件の確認"), section="conditions"),
    Step("plan", 15, _("補償内容の選択"), section="plan"),
    Step("premium", 16, _("保険料の確認")),
    Step("declarations", 17, _("告知事項の確認"), section="declarations"),
    Step("payment", 18, _("お支払方法"), section="payment"),
    Step("delivery", 19, _("証券・約款の受け取り方法"), section="delivery"),
    Step("confirm", 20, _("お申込内容の最終確認")),
)
BY_SLUG = {step.slug: step for step in STEPS}
LAST_NUMBER = STEPS[-1].number  # 「手順 15／20」: the guide counts registration's steps 1–9 too
SLUGS = [step.slug for step in STEPS]

# Changing a step makes the steps that depend on its answers incomplete again: a new driver
# condition re-prices, so the plan, the premium and the final confirmation must be seen again.
INVALIDATES: dict[str, tuple[str, ...]] = {
    "conditions": ("plan", "premium", "confirm"),
    "plan": ("premium", "confirm"),
    "declarations": ("confirm",),
    "payment": ("confirm",),
    "delivery": ("confirm",),
}


def first_incomplete(completed: list[str]) -> Step:
    for step in STEPS:
        if step.slug not in completed:
            return step
    return STEPS[-1]


def is_reachable(slug: str, completed: list[str]) -> bool:
    """A step can be shown when every step before it is complete."""
    index = SLUGS.index(slug)
    return all(previous in completed for previous in SLUGS[:index])


def previous_step(slug: str) -> Step | None:
    index = SLUGS.index(slug)
    return STEPS[index - 1] if index > 0 else None


def after_completing(slug: str, completed: list[str]) -> list[str]:
    """The completed steps once ``slug`` is (re)saved."""
    dropped = set(INVALIDATES.get(slug, ()))
    kept = [done for done in completed if done not in dropped and done != slug]
    kept.append(slug)
    return [s for s in SLUGS if s in kept]
