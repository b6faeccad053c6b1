"""allauth's two-step login forms with the labels members read (passkeys: パスキー)."""

from allauth.mfa.webauthn.forms import AddWebAuthnForm as AllauthAddWebAuthnForm
from allauth.mfa.webauthn.forms import EditWebAuthnForm as AllauthEditWebAuthnForm
from django.utils.translation import gettext_lazy as _

NAME_HELP = _("あとで見分けられる名前をつけてください（例：自分のスマートフォン）。")


class AddWebAuthnForm(AllauthAddWebAuthnForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("パスキーの名前")
        self.fields["name"].help_text = NAME_HELP
        self.fields["name"].max_length = 100
        if "passwordless" in self.fields:
            self.fields["passwordless"].label = _("パスワードなしでログインできるようにする")
            self.fields["passwordless"].help_text = _(
                "オンにすると、このパスキーだけでログインできます（端末の生体認証や画面ロックが必要です）。"
            )
            self.fields["passwordless"].initial = True


class EditWebAuthnForm(AllauthEditWebAuthnForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("パスキーの名前")
        self.fields["name"].help_text = NAME_HELP
