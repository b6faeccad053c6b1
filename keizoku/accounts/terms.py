"""マイページ利用規約 (registration step 1): binding in Japanese; ``core/_legal.html`` shows it in
Japanese with the English reading aid of the catalogue beside each article in English mode."""

from django.utils.translation import gettext_lazy as _

TERMS = (
    (
        None,
        (
            _(
                "第1条（目的）本規約は、団体扱自動車保険 WEB更改サービスのマイページ"
                "（以下「マイページ」）の利用条件を定めるものです。"
            ),
            _(
                "第2条（登録）マイページには、ご本人が、ご本人のメールアドレスと、"
                "ご契約時の住所・電話番号により登録するものとします。"
            ),
            _(
                "第3条（ID・パスワードの管理）IDおよびパスワードは会員ご本人が管理し、"
                "第三者に利用させないものとします。"
            ),
            _(
                "第4条（個人情報）ご登録の情報は、保険契約の継続手続き、"
                "ご案内およびお問い合わせへの対応のために利用します。"
            ),
            _(
                "第5条（サービスの停止）システムの保守等のため、"
                "事前の通知なくサービスを停止することがあります。"
            ),
            _("第6条（退会）会員はいつでもマイページの登録を解除できます。"),
        ),
    ),
)
