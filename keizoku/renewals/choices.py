"""The renewal's domain constants: plans, payment methods, delivery, and the declarations (告知事項)."""

from typing import TYPE_CHECKING, NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Plan(models.TextChoices):
    """補償内容: the three plans of step 15."""

    SAME = "same", _("前年同等プラン")
    RECOMMENDED = "recommended", _("おすすめプラン")
    CUSTOM = "custom", _("カスタマイズ")


class PaymentMethod(models.TextChoices):
    """お支払方法: follows the member type (employees: payroll; retirees: annual transfer)."""

    PAYROLL = "payroll", _("給与天引き（12回払）")
    TRANSFER = "transfer", _("口座振替（年払）")


class Delivery(models.TextChoices):
    """証券・約款の受け取り方法 (step 19)."""

    WEB = "web", _("Web証券・Web約款（ペーパーレス割引あり）")
    PAPER = "paper", _("紙の証券・約款を郵送")


class Declaration(NamedTuple):
    """A question of 17 「告知事項の確認」; ``refers``: whether 「はい」 sends it to the agency."""

    code: str
    question: "StrOrPromise"  # gettext_lazy
    refers: bool


DECLARATIONS: tuple[Declaration, ...] = (
    Declaration(
        "other_insurance",
        _("このお車について、他の保険会社の自動車保険にご加入されていますか。"),
        True,
    ),
    Declaration(
        "use_change",
        _("この1年間で、お車の使用目的（日常・レジャー、通勤・通学、業務）が変わりましたか。"),
        True,
    ),
    Declaration("modified", _("お車に改造（エンジン・車体の変更など）を行っていますか。"), True),
    Declaration(
        "license_suspended",
        _("記名被保険者の方は、現在、免許の停止・取消の処分を受けていますか。"),
        True,
    ),
    Declaration(
        "unreported_accident",
        _("この1年間に、まだ保険会社にご連絡いただいていない事故はありますか。"),
        True,
    ),
)
