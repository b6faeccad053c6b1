"""Back-office forms: search, the decisions on an application, CSV upload, audit filters."""

from functools import partial

from allauth.mfa.totp.forms import ActivateTOTPForm
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _

from keizoku.contracts.models import ImportBatch
from keizoku.core import ja
from keizoku.core.forms import ja_clean

from .selectors import FILTER_LABELS

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _without_null_validator(field: forms.Field) -> None:
    """Django's Japanese message for a NUL reads 「何か文字を入力してください」: ours says why."""
    field.validators = [
        validator
        for validator in field.validators
        if not isinstance(validator, ProhibitNullCharactersValidator)
    ]


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("証券番号・氏名・フリガナ・電話番号"), required=False, max_length=100
    )
    group = forms.IntegerField(required=False, widget=forms.HiddenInput)
    agency = forms.IntegerField(required=False, widget=forms.HiddenInput)
    state = forms.ChoiceField(
        label=_("状態"),
        required=False,
        choices=[("", _("すべて")), *FILTER_LABELS.items()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _without_null_validator(self.fields["q"])

    def clean_q(self) -> str:
        return ja_clean(partial(ja.clean_text, max_length=100), self.cleaned_data["q"] or "")


class VersionForm(forms.Form):
    """The version of the application the clerk saw (optimistic lock)."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ReferForm(VersionForm):
    message = forms.CharField(
        label=_("お客さまへのメッセージ"),
        max_length=2000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("マイページに表示され、メールでもお知らせします（2,000文字以内）。"),
        error_messages={"required": _("お客さまへのメッセージを入力してください。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _without_null_validator(self.fields["message"])

    def clean_message(self) -> str:
        try:
            message = ja.clean_multiline(self.cleaned_data["message"])
        except ja.JaInputError as error:
            raise forms.ValidationError(str(error)) from None
        if not message:
            raise forms.ValidationError(_("お客さまへのメッセージを入力してください。"))
        return message


class WithdrawForm(VersionForm):
    reason = forms.CharField(label=_("取下げの理由（任意）"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _without_null_validator(self.fields["reason"])

    def clean_reason(self) -> str:
        # It lands in the audit trail: the one control filter (controls and bidi refused).
        return ja_clean(partial(ja.clean_text, max_length=500), self.cleaned_data["reason"] or "")


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("取り込むファイルの種類"), choices=ImportBatch.Kind.choices)
    file = forms.FileField(label=_("CSVファイル"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("ファイルが大きすぎます（20MBまで）。"))
        return upload


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("操作者"), required=False, max_length=150)
    action = forms.CharField(label=_("操作"), required=False, max_length=60)
    object_type = forms.CharField(label=_("対象の種類"), required=False, max_length=60)
    object_id = forms.CharField(label=_("対象のID"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("開始日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class TotpForm(ActivateTOTPForm):
    """allauth's TOTP activation, with the label in Japanese."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = _("認証アプリに表示された6桁のコード")
        self.fields["code"].widget.attrs.pop("placeholder", None)
        self.fields["code"].widget.attrs["inputmode"] = "numeric"
