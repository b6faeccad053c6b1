"""manage.py quote POLICY_NUMBER [--plan same|recommended]: the renewal quote as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from keizoku.contracts.models import Contract
from keizoku.core import ja
from keizoku.renewals.pricing import contract_quote


class Command(BaseCommand):
    help = (
        "Print the renewal quote of a policy as JSON (the rating engine on the contract's values)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("policy_number", help="証券番号 (hyphens, spaces and case ignored)")
        parser.add_argument("--plan", choices=["same", "recommended"], default="same")

    def handle(self, *args, policy_number: str, plan: str, **options) -> None:
        key = ja.normalize_policy_number(policy_number)
        contract = Contract.objects.select_related("group").filter(policy_key=key).first()
        if contract is None:
            raise CommandError(
                f"証券番号 {policy_number} のご契約が見つかりません (unknown policy number)."
            )
        quote = contract_quote(contract, plan=plan)
        self.stdout.write(json.dumps(quote.to_json(), ensure_ascii=False, indent=2))
