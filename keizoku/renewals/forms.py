"""One form per Clickar step that asks something (guide 10–20)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from keizoku.contracts.models import (
    AgeCondition,
    Deductible,
    DriverScope,
    PersonalInjury,
    PropertyDamage,
    Rider,
    VehicleCover,
    VehicleUsage,
)

from .choices import DECLARATIONS, Delivery, Plan

YES_NO = [("yes", _("はい")), ("no", _("いいえ"))]


class ConsentForm(forms.Form):
    """10 「個人情報の取扱いについて」."""

    agree = forms.BooleanField(
        label=_("同意する"),
        error_messages={"required": _("個人情報の取扱いに同意いただく必要があります。")},
    )


class DisclosureForm(forms.Form):
    """12 「重要事項説明書の確認」."""

    confirmed = forms.BooleanField(
        label=_("確認しました"),
        error_messages={"required": _("重要事項説明書をご確認のうえ、チェックを入れてください。")},
    )


class ConditionsForm(forms.Form):
    """14 「ご契約条件の確認」: each change re-prices."""

    age_condition = forms.ChoiceField(label=_("運転者年齢条件"), choices=AgeCondition.choices)
    driver_scope = forms.ChoiceField(label=_("運転者限定"), choices=DriverScope.choices)
    use = forms.ChoiceField(label=_("使用目的"), choices=VehicleUsage.choices)
    gold_license = forms.TypedChoiceField(
        label=_("記名被保険者の免許証の色"),
        choices=[("yes", _("ゴールド")), ("no", _("ブルー・グリーン"))],
        coerce=lambda value: value == "yes",
    )
    same_vehicle = forms.TypedChoiceField(
        label=_("継続後もご契約のお車は同じですか"),
        choices=[("yes", _("はい（同じお車）")), ("no", _("いいえ（お車を入れ替える）"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        help_text=_("お車を入れ替える場合は、代理店でのお手続きになります。"),
    )


class CustomPlanForm(forms.Form):
    """15 「カスタマイズ」: coverages and deductibles; the premium follows live."""

    personal_injury = forms.ChoiceField(label=_("人身傷害"), choices=PersonalInjury.choices)
    property_damage = forms.ChoiceField(label=_("対物賠償"), choices=PropertyDamage.choices)
    vehicle_cover = forms.ChoiceField(label=_("車両保険"), choices=VehicleCover.choices)
    deductible = forms.ChoiceField(
        label=_("免責金額"), choices=[("", _("なし")), *Deductible.choices], required=False
    )
    riders = forms.MultipleChoiceField(
        label=_("特約"), choices=Rider.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class PlanChoiceForm(forms.Form):
    plan = forms.ChoiceField(
        label=_("補償内容"),
        choices=Plan.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("プランを選択してください。")},
    )


class DeclarationsForm(forms.Form):
    """Each question a pair of radio buttons 「はい」/「いいえ」 with nothing pre-selected."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, question, _refers in DECLARATIONS:
            self.fields[code] = forms.ChoiceField(
                label=question,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": _("「はい」または「いいえ」を選択してください。")},
            )


class PaymentForm(forms.Form):
    """18 「お支払方法」: the method follows the member type; the customer confirms it."""

    confirmed = forms.BooleanField(
        label=_("上記のお支払方法で申し込みます"),
        error_messages={"required": _("お支払方法をご確認のうえ、チェックを入れてください。")},
    )


class DeliveryForm(forms.Form):
    """19 「証券・約款の受け取り方法」."""

    delivery = forms.ChoiceField(
        label=_("証券・約款の受け取り方法"),
        choices=Delivery.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("受け取り方法を選択してください。")},
    )


class ConfirmForm(forms.Form):
    """20 「お申込内容の最終確認」."""

    intent = forms.BooleanField(
        label=_("申込内容が意向に沿っていることを確認しました"),
        error_messages={"required": _("申込内容が意向に沿っていることをご確認ください。")},
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
