"""allauth's two-step login forms with the labels members read (passkeys: パスキー), and a
malformed passkey payload refused like a wrong one (never a 500)."""

from typing import Any

from allauth.mfa.adapter import get_adapter
from allauth.mfa.webauthn.forms import AddWebAuthnForm as AllauthAddWebAuthnForm
from allauth.mfa.webauthn.forms import EditWebAuthnForm as AllauthEditWebAuthnForm
from allauth.mfa.webauthn.forms import LoginWebAuthnForm as AllauthLoginWebAuthnForm
from allauth.mfa.webauthn.forms import (
    ReauthenticateWebAuthnForm as AllauthReauthenticateWebAuthnForm,
)
from django import forms
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _
from fido2.webauthn import AuthenticationResponse, RegistrationResponse

NAME_HELP = _("あとで見分けられる名前をつけてください（例：自分のスマートフォン）。")


def _well_formed(parse: Any, credential: Any) -> None:
    """allauth lets fido2's ``KeyError`` (a payload without ``rawId``, say) through as a 500, to
    anyone, before login: the shape is checked first, and a bad one is a wrong passkey."""
    try:
        parse(credential)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise get_adapter().validation_error("incorrect_code") from None


class CredentialField(forms.JSONField):
    """Django's JSONField catches only ``JSONDecodeError``: a number of more than 4,300 digits
    raises ``ValueError`` from ``int()`` inside ``json.loads``, a 500 before any login."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValueError:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except ValueError:
            return InvalidJSONInput(data)


def _with_credential_field(form: forms.Form) -> None:
    form.fields["credential"] = CredentialField(required=True, widget=forms.HiddenInput)


class _WellFormedAssertion(forms.Form):
    """A passkey assertion (login, re-authentication) checked for shape before allauth reads it:
    mixed in before allauth's form, whose ``clean_credential`` comes next."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _with_credential_field(self)

    def clean_credential(self):
        _well_formed(AuthenticationResponse.from_dict, self.cleaned_data["credential"])
        return super().clean_credential()  # type: ignore[misc]  # allauth's, next in the MRO


class LoginWebAuthnForm(_WellFormedAssertion, AllauthLoginWebAuthnForm):
    pass


class ReauthenticateWebAuthnForm(_WellFormedAssertion, AllauthReauthenticateWebAuthnForm):
    pass


class AddWebAuthnForm(AllauthAddWebAuthnForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _with_credential_field(self)
        self.fields["name"].label = _("パスキーの名前")
        self.fields["name"].help_text = NAME_HELP
        self.fields["name"].max_length = 100
        if "passwordless" in self.fields:
            self.fields["passwordless"].label = _("パスワードなしでログインできるようにする")
            self.fields["passwordless"].help_text = _(
                "オンにすると、このパスキーだけでログインできます（端末の生体認証や画面ロックが必要です）。"
            )
            self.fields["passwordless"].initial = True

    def clean(self) -> dict:
        # allauth checks only a truthy credential: 0 or false was saved as a passkey, and every
        # two-step page of that member was a 500 from then on.
        if "credential" in (self.cleaned_data or {}):
            _well_formed(RegistrationResponse.from_dict, self.cleaned_data["credential"])
        return super().clean()


class EditWebAuthnForm(AllauthEditWebAuthnForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("パスキーの名前")
        self.fields["name"].help_text = NAME_HELP
