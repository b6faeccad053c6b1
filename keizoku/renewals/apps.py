from django.apps import AppConfig


def _withdraw_unlinked_draft(sender, *, member, contract, request=None, **kwargs) -> None:
    from .services import application_withdraw_unlinked

    application_withdraw_unlinked(member=member, contract=contract, request=request)


class RenewalsConfig(AppConfig):
    name = "keizoku.renewals"
    label = "renewals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from keizoku.accounts.signals import policy_unlinked

        policy_unlinked.connect(_withdraw_unlinked_draft, dispatch_uid="renewals.unlinked_draft")
