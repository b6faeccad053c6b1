"""MyPage forms: registration (guide step 2), the password at step 6, and policy linking."""

from datetime import date

from allauth.account.forms import AddEmailForm as AllauthAddEmailForm
from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.forms import ConfirmLoginCodeForm as AllauthConfirmLoginCodeForm
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.forms import ResetPasswordKeyForm as AllauthResetPasswordKeyForm
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from keizoku.core import ja
from keizoku.core.forms import ja_clean
from keizoku.core.ja import JaInputError

from .passwords import HELP_TEXT, password_problems

MAX_POLICIES = 5
POLICY_MISMATCH = _(
    "ご入力の旧証券番号・住所・電話番号では、ご契約を確認できませんでした。"
    "ご契約時の住所と電話番号をご入力ください。ご不明な場合は代理店にお問い合わせください。"
)

SURVEY_SOURCE_CHOICES = [
    ("", _("選択してください")),
    ("group", _("団体（勤務先）からの案内")),
    ("agency", _("代理店からの案内")),
    ("mail", _("ダイレクトメール")),
    ("web", _("インターネット検索")),
    ("other", _("その他")),
]


class JaCharField(forms.CharField):
    """A one-line text field normalised by ``ja.clean_text`` (widths, spaces, controls refused)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return ja_clean(ja.clean_text, value)


class EmailAddressField(forms.EmailField):
    """A mail address in its one stored spelling (``ja.normalize_email``: the domain NFKC- and
    IDNA-normalised, a non-ASCII local part refused), before Django checks its syntax."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            return ja.normalize_email(value)
        except JaInputError as error:
            raise forms.ValidationError(str(error)) from None


class LoginAddressField(EmailAddressField):
    """At login, an address that cannot be normalised stays as typed, to fail like any other."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            return forms.EmailField.to_python(self, value)


class PasswordField(forms.CharField):
    """Exactly as typed: never stripped, width-converted or case-folded."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strip", False)
        kwargs.setdefault("max_length", 200)  # the rule's own 32 is reported in Japanese
        super().__init__(**kwargs)


class PolicyFieldsMixin(forms.Form):
    """旧証券番号1 … 旧証券番号5: the first shown, 「追加」 reveals the next (also without JS)."""

    def add_policy_fields(self, count: int) -> None:
        for index in range(1, MAX_POLICIES + 1):
            self.fields[f"policy_{index}"] = forms.CharField(
                label=_("旧証券番号%(n)d") % {"n": index},
                required=index == 1,
                max_length=40,
                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "latin"}),
            )
        self.visible_policies = max(1, min(count, MAX_POLICIES))

    def clean_policy_numbers(self) -> list[str]:
        numbers: list[str] = []
        for index in range(1, MAX_POLICIES + 1):
            raw = self.cleaned_data.get(f"policy_{index}") or ""
            if not raw.strip():
                continue
            try:
                number = ja.clean_policy_number(raw)
            except JaInputError as error:
                self.add_error(f"policy_{index}", str(error))
                continue
            if ja.normalize_policy_number(number) in map(ja.normalize_policy_number, numbers):
                self.add_error(f"policy_{index}", _("同じ証券番号が入力されています。"))
                continue
            numbers.append(number)
        return numbers


class ContactFieldsMixin(forms.Form):
    """郵便番号・住所・電話番号 as at the time of the contract (★重要★)."""

    def clean_postal_code(self) -> str:
        return ja_clean(ja.normalize_postal_code, self.cleaned_data["postal_code"])

    def clean_phone(self) -> str:
        return ja_clean(ja.normalize_phone, self.cleaned_data["phone"])


class RegistrationForm(PolicyFieldsMixin, ContactFieldsMixin, forms.Form):
    # Names, kana and addresses are typed in Japanese whatever the page's language: in English
    # their labels say so (the context "entered in Japanese" keeps the Japanese labels as they are).

    email = EmailAddressField(
        label=_("メールアドレス"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("マイページのログインIDになります。"),
    )
    email_confirm = EmailAddressField(
        label=_("メールアドレス（確認用）"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    password = PasswordField(
        label=_("パスワード"),
        help_text=_(HELP_TEXT),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = PasswordField(
        label=_("パスワード（確認用）"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    name = JaCharField(
        label=pgettext_lazy("entered in Japanese", "氏名"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    kana = JaCharField(
        label=pgettext_lazy("entered in Japanese", "フリガナ"),
        max_length=50,
        help_text=_("全角カタカナ（ひらがなも可）"),
    )
    birth_date = forms.DateField(
        label=_("生年月日"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        input_formats=["%Y-%m-%d"],
    )
    postal_code = forms.CharField(
        label=_("郵便番号"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
        help_text=_("ご契約時の郵便番号（例：100-0005）"),
    )
    address = JaCharField(
        label=pgettext_lazy("entered in Japanese", "住所"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        help_text=_("ご契約時の住所"),
    )
    phone = forms.CharField(
        label=_("電話番号"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("ご契約時の電話番号（例：03-1234-5678）"),
    )
    survey_source = forms.ChoiceField(
        label=_("このサービスを何でお知りになりましたか（任意）"),
        choices=SURVEY_SOURCE_CHOICES,
        required=False,
    )
    survey_comment = JaCharField(
        label=_("ご意見・ご要望（任意）"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, policy_count: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_policy_fields(policy_count)
        # The policies come right after the contact fields, before the questionnaire.
        order = [name for name in self.fields if not name.startswith("survey_")]
        self.order_fields([*order, "survey_source", "survey_comment"])

    def clean_kana(self) -> str:
        return ja_clean(ja.to_katakana, self.cleaned_data["kana"])

    def clean_birth_date(self) -> date:
        birth = self.cleaned_data["birth_date"]
        if birth >= timezone.localdate() or birth.year < 1900:
            raise forms.ValidationError(_("生年月日を正しく入力してください。"))
        return birth

    def clean(self):
        super().clean()
        data = self.cleaned_data
        email, confirm = data.get("email"), data.get("email_confirm")
        if email and confirm and email.lower() != confirm.lower():
            self.add_error("email_confirm", _("メールアドレスが一致しません。"))
        password = data.get("password")
        if password is not None:
            for problem in password_problems(
                password, email=email or "", kana=data.get("kana") or ""
            ):
                self.add_error("password", problem)
            if data.get("password_confirm") is not None and password != data["password_confirm"]:
                self.add_error("password_confirm", _("パスワードが一致しません。"))
        data["policy_numbers"] = self.clean_policy_numbers()
        return data


class RegistrationPasswordForm(forms.Form):
    """Step 6 「パスワード設定」: the password chosen at step 2."""

    password = PasswordField(
        label=_("パスワード"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PolicyLinkForm(ContactFieldsMixin, forms.Form):
    """Link another policy from MyPage: 旧証券番号 + address + phone, the same check as registration."""

    policy_number = forms.CharField(label=_("旧証券番号"), max_length=40)
    postal_code = forms.CharField(
        label=_("郵便番号"),
        max_length=10,
        required=False,
        help_text=_("ご契約時の郵便番号（任意）"),
    )
    address = JaCharField(
        label=pgettext_lazy("entered in Japanese", "住所"),
        max_length=200,
        help_text=_("ご契約時の住所"),
    )
    phone = forms.CharField(label=_("電話番号"), max_length=20, help_text=_("ご契約時の電話番号"))

    def clean_postal_code(self) -> str:
        if not self.cleaned_data.get("postal_code"):
            return ""
        return super().clean_postal_code()

    def clean_policy_number(self) -> str:
        return ja_clean(ja.clean_policy_number, self.cleaned_data["policy_number"])


class LoginForm(AllauthLoginForm):
    """The MyPage login form (allauth's) with the guide's labels: ID（メールアドレス） and パスワード."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The address in its stored spelling (``ｄｅｍｏ.example.jp`` is ``demo.example.jp``), so
        # the login and its per-account throttle see one mailbox as one login.
        self.fields["login"] = LoginAddressField(widget=self.fields["login"].widget)
        self.fields["login"].label = _("ID（メールアドレス）")
        self.fields["login"].widget.attrs.pop("placeholder", None)
        self.fields["login"].widget.attrs["autocomplete"] = "username"
        self.fields["password"].label = _("パスワード")
        self.fields["password"].help_text = ""  # the reset link sits under the form instead


# allauth's password forms with our labels: the Japanese are allauth's own words (unchanged), the
# English in sentence case like every other field ("New password", not "New Password").
NEW_PASSWORD_LABELS = {
    "password1": _("新しいパスワード"),
    "password2": _("新しいパスワード (再入力)"),
}


class ChangePasswordForm(AllauthChangePasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["oldpassword"].label = _("現在のパスワード")
        for name, label in NEW_PASSWORD_LABELS.items():
            self.fields[name].label = label


class ResetPasswordKeyForm(AllauthResetPasswordKeyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in NEW_PASSWORD_LABELS.items():
            self.fields[name].label = label


def _email_field_of(form: forms.Form, label) -> None:
    """allauth's address field, with ours: Django's syntax check would otherwise refuse a
    non-ASCII local part with its generic message before ``AccountAdapter.clean_email`` runs."""
    field = form.fields["email"]
    field.widget.attrs.pop("placeholder", None)
    form.fields["email"] = EmailAddressField(label=label, max_length=254, widget=field.widget)


class AddEmailForm(AllauthAddEmailForm):
    """The email change (allauth's add-then-confirm) with the one spelling of every address."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _email_field_of(self, _("新しいメールアドレス"))


class ResetPasswordForm(AllauthResetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _email_field_of(self, _("メールアドレス"))


class ConfirmLoginCodeForm(AllauthConfirmLoginCodeForm):
    """The code mailed at a step-up login (issue 10 W11): full-width digits typed with a Japanese
    input method count as the digits they show."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.label = _("確認コード")
        field.widget.attrs.pop("placeholder", None)
        field.widget.attrs.update(inputmode="numeric", autocomplete="one-time-code")

    def clean_code(self) -> str:
        self.cleaned_data["code"] = ja.nfkc(self.cleaned_data.get("code") or "")
        return super().clean_code()
