"""Reads for MyPage: matching a policy for linking, a member's policies and their windows."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.http import Http404

from keizoku.contracts.models import Agency, Contract
from keizoku.contracts.windows import RenewalWindow, WindowState, contract_window
from keizoku.core import ja

from .models import PolicyLink, User

logger = logging.getLogger(__name__)


def contract_match(*, policy_number: str, address: str, phone: str) -> Contract | None:
    """The contract whose number, address and phone (as at contract time) all match, or None.

    Address and phone are compared after normalisation (widths, hyphens, 丁目/番/号, kanji
    numerals); ``phone`` is already E.164. The caller shows one message for every mismatch.
    """
    key = ja.normalize_policy_number(policy_number)
    contract = Contract.objects.select_related("group__agency").filter(policy_key=key).first()
    if contract is None:
        return None
    if contract.address_key != ja.normalize_address(address) or contract.phone != phone:
        return None
    return contract


@dataclass(frozen=True)
class MemberPolicy:
    link: PolicyLink
    contract: Contract
    window: RenewalWindow
    state: WindowState


def member_policies(*, member: User, now: datetime) -> list[MemberPolicy]:
    links = (
        PolicyLink.objects.filter(member=member)
        .select_related("contract__group__agency")
        .order_by("contract__period_end", "pk")
    )
    policies = []
    for link in links:
        window = contract_window(link.contract)
        policies.append(
            MemberPolicy(link=link, contract=link.contract, window=window, state=window.state(now))
        )
    return policies


def member_agencies(*, member: User) -> list[Agency]:
    """The agencies of the member's linked policies: whom to ask (a policy not found, the chat)."""
    return list(
        Agency.objects.filter(groups__contracts__policy_link__member=member)
        .distinct()
        .order_by("pk")
    )


def member_link_get(*, member: User, link_id: int) -> PolicyLink:
    """The member's own link, or 404 (another member's id looks exactly like a missing one)."""
    return _own_link(member, pk=link_id)


def member_contract_link_get(*, member: User, contract_id: int) -> PolicyLink:
    """The member's own link to the contract, or 404 (as ``member_link_get``)."""
    return _own_link(member, contract_id=contract_id)


def _own_link(member: User, **lookup: int) -> PolicyLink:
    link = PolicyLink.objects.select_related("contract__group__agency").filter(**lookup).first()
    if link is None or link.member_id != member.pk:
        if link is not None:
            logger.warning(
                "member asked for another member's policy link",
                extra={"member_id": member.pk, **{f"asked_{k}": v for k, v in lookup.items()}},
            )
        raise Http404
    return link
