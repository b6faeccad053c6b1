"""Writes of MyPage membership: registration (guide steps 3–7), policy linking, purges."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from keizoku.contracts.models import Contract
from keizoku.core.audit import audit_record
from keizoku.core.l10n import supported_language
from keizoku.core.links import absolute_url
from keizoku.notifications.services import mail_queue, mail_to

from .forms import MAX_POLICIES, POLICY_MISMATCH
from .models import PendingRegistration, PolicyLink, User
from .selectors import contract_match
from .signals import policy_unlinked

REGISTRATION_TTL = timedelta(hours=24)
LINK_SALT = "keizoku.accounts.registration-link"
# A link stamped further in the future than this (clock skew between servers) is refused.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_PASSWORD_TRIES = 10


class MembershipError(Exception):
    """A refused membership change; ``str(error)`` is the Japanese message for the member."""


class LinkState(StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    INVALID = "invalid"


class RegistrationLinkError(Exception):
    def __init__(self, state: LinkState, expires_at: datetime | None = None) -> None:
        super().__init__(state.value)
        self.state = state
        self.expires_at = expires_at


@dataclass(frozen=True)
class LinkCheck:
    """What a registration link is worth now, and when it expires (or expired) when known."""

    state: LinkState
    expires_at: datetime | None = None


class WrongPassword(Exception):
    pass


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- the 本登録 link: the token and the time it was made, signed --------------------------------
#
# The URL carries `<token>.<time>.<signature>`: the 256-bit token (only its SHA-256 is stored), the
# second it was made (base 62) and an HMAC-SHA256 of both with SECRET_KEY (django.core.signing).
# The time lets the page say "expired" even after the pending registration was purged; the
# signature makes it trustworthy: a changed time or token fails the signature, and such a link is
# looked up as a whole (which matches no hash), so it stays invalid. While the pending
# registration exists, its own dates decide, as before; the signed time must agree with them.


def _link_signer() -> signing.Signer:
    return signing.Signer(salt=LINK_SALT, sep=".")


def registration_link_value(token: str, created_at: datetime) -> str:
    """The last part of the 本登録 URL for ``token`` made at ``created_at``."""
    return _link_signer().sign(f"{token}.{signing.b62_encode(int(created_at.timestamp()))}")


def _parse_link(value: str) -> tuple[str, datetime | None]:
    """(token, signed time) of a link; (the value itself, None) when it carries no valid
    signature — a forged or altered link, or one mailed before links were signed."""
    try:
        token, _dot, stamp = _link_signer().unsign(value).rpartition(".")
        stamped_at = datetime.fromtimestamp(signing.b62_decode(stamp), tz=UTC)
    except (signing.BadSignature, ValueError, OverflowError):
        return value, None
    return (token, stamped_at) if token else (value, None)


@dataclass(frozen=True)
class RegistrationData:
    """What step 2 collected, normalised; the password only as its hash."""

    email: str
    password_hash: str
    name: str
    kana: str
    birth_date: Any
    postal_code: str
    address: str
    phone: str
    contract_ids: list[int]
    survey: dict[str, str]
    language: str = settings.LANGUAGE_CODE  # the language of the registration: mails, account


def registration_submit(
    *, data: RegistrationData, now: datetime | None = None, request: HttpRequest | None = None
) -> None:
    """Step 3 【確定】: queue the 本登録 mail with its one-time link (24 h).

    An address that already belongs to a member gets a mail saying so instead, behind the same
    screens (no enumeration). Nothing else is created until the link is used.
    """
    now = now or timezone.now()
    language = supported_language(data.language)
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=data.email).first()
        if existing is not None:
            mail_queue(
                key=f"registration-exists:{uuid.uuid4()}",
                kind="registration_exists",
                to=data.email,
                language=existing.language,
                context={"login_url": absolute_url("account_login")},
            )
            audit_record(action="registration.existing_address", request=request)
            return
        token = secrets.token_urlsafe(32)  # 256 bits from the OS CSPRNG; only its hash is kept
        pending = PendingRegistration.objects.create(
            email=data.email,
            password_hash=data.password_hash,
            name=data.name,
            kana=data.kana,
            birth_date=data.birth_date,
            postal_code=data.postal_code,
            address=data.address,
            phone=data.phone,
            contract_ids=data.contract_ids,
            survey=data.survey,
            language=language,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + REGISTRATION_TTL,
        )
        mail_queue(
            key=f"registration:{pending.pk}",
            kind="registration",
            to=data.email,
            language=language,
            context={
                "name": data.name,
                "expires_at": pending.expires_at,
                "url": absolute_url("accounts:register_link", registration_link_value(token, now)),
            },
        )
        audit_record(action="registration.submitted", obj=pending, request=request)


def registration_link_state(*, token: str, now: datetime | None = None) -> LinkCheck:
    """What a GET of the link (``token``: the last part of its URL) shows; it never consumes it."""
    now = now or timezone.now()
    bare, stamped_at = _parse_link(token)
    pending = PendingRegistration.objects.filter(token_hash=token_hash(bare)).first()
    return _check(pending, stamped_at, now)


def _check(
    pending: PendingRegistration | None, stamped_at: datetime | None, now: datetime
) -> LinkCheck:
    if stamped_at is not None:
        if stamped_at > now + FUTURE_TOLERANCE:
            return LinkCheck(LinkState.INVALID)
        if pending is None:
            # Purged: the signed time alone tells an expired link from an unknown one.
            expires_at = stamped_at + REGISTRATION_TTL
            if now >= expires_at:
                return LinkCheck(LinkState.EXPIRED, expires_at)
            return LinkCheck(LinkState.INVALID)
        if int(pending.created_at.timestamp()) != int(stamped_at.timestamp()):
            return LinkCheck(LinkState.INVALID)
    state = _state(pending, now)
    if pending is not None and state is LinkState.EXPIRED and now >= pending.expires_at:
        return LinkCheck(state, pending.expires_at)  # expired in time, not by failed tries
    return LinkCheck(state)


def _state(pending: PendingRegistration | None, now: datetime) -> LinkState:
    if pending is None or pending.created_at > now + FUTURE_TOLERANCE:
        return LinkState.INVALID
    if pending.completed_at is not None:
        return LinkState.USED
    if now >= pending.expires_at or pending.failed_attempts >= MAX_PASSWORD_TRIES:
        return LinkState.EXPIRED
    return LinkState.VALID


def registration_complete(
    *, token: str, password: str, now: datetime | None = None, request: HttpRequest | None = None
) -> User:
    """Step 6 【登録】: the password of step 2 completes the registration, exactly once.

    Creates the member, its verified email address and its policy links. A wrong password
    keeps the link usable until it expires (or after too many tries).
    """
    now = now or timezone.now()
    bare, stamped_at = _parse_link(token)
    digest = token_hash(bare)
    try:
        with transaction.atomic():
            pending = (
                PendingRegistration.objects.select_for_update().filter(token_hash=digest).first()
            )
            check = _check(pending, stamped_at, now)
            if pending is None or check.state is not LinkState.VALID:
                raise RegistrationLinkError(check.state, check.expires_at)
            if not check_password(password, pending.password_hash):
                raise WrongPassword
            if User.objects.filter(email__iexact=pending.email).exists():
                raise RegistrationLinkError(LinkState.USED)
            user = User(
                email=pending.email,
                name=pending.name,
                kana=pending.kana,
                password=pending.password_hash,
                language=pending.language,
            )
            user.save()
            EmailAddress.objects.create(user=user, email=pending.email, verified=True, primary=True)
            contracts = list(
                # of=self: PostgreSQL cannot lock the nullable side of the outer join.
                Contract.objects.select_for_update(of=("self",))
                .filter(pk__in=pending.contract_ids[:MAX_POLICIES], policy_link__isnull=True)
                .order_by("policy_number")
            )
            PolicyLink.objects.bulk_create(
                [PolicyLink(member=user, contract=contract) for contract in contracts]
            )
            pending.completed_at = now
            pending.save(update_fields=["completed_at"])
            mail_to(
                user,
                key=f"registration-complete:{pending.pk}",
                kind="registration_complete",
                context={
                    "contracts": contracts,
                    "mypage_url": absolute_url("accounts:top"),
                },
            )
            audit_record(
                action="registration.completed",
                actor=user,
                obj=user,
                request=request,
                details={"policies": [c.policy_number for c in contracts]},
            )
    except WrongPassword:
        PendingRegistration.objects.filter(token_hash=digest).update(
            failed_attempts=F("failed_attempts") + 1
        )
        raise
    except IntegrityError:
        # A concurrent completion of the same link won the race.
        raise RegistrationLinkError(LinkState.USED) from None
    return user


def registration_purge_expired(*, now: datetime | None = None) -> int:
    """Pending registrations never completed disappear 24 hours after they were made."""
    now = now or timezone.now()
    deleted, _ = PendingRegistration.objects.filter(expires_at__lte=now).delete()
    return deleted


def policy_link(
    *,
    member: User,
    policy_number: str,
    address: str,
    phone: str,
    request: HttpRequest | None = None,
) -> PolicyLink:
    """Link another policy to MyPage after the same check as registration; mail the member."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=member.pk).first()  # one change at a time
        if PolicyLink.objects.filter(member=member).count() >= MAX_POLICIES:
            raise MembershipError(_("マイページに登録できるご契約は5件までです。"))
        contract = contract_match(policy_number=policy_number, address=address, phone=phone)
        if contract is None or PolicyLink.objects.filter(contract=contract).exists():
            audit_record(action="policy.link_refused", actor=member, request=request)
            raise MembershipError(str(POLICY_MISMATCH))
        link = PolicyLink.objects.create(member=member, contract=contract)
        mail_to(
            member,
            key=f"policy-linked:{link.pk}",
            kind="policy_linked",
            context={
                "contract": contract,
                "mypage_url": absolute_url("accounts:top"),
            },
        )
        audit_record(action="policy.linked", actor=member, obj=contract, request=request)
    return link


def policy_unlink(*, member: User, link: PolicyLink, request: HttpRequest | None = None) -> None:
    """The member lets go of a policy; what they left unfinished on it goes too (the renewals app
    withdraws their draft on ``policy_unlinked``), so whoever links it next can renew it."""
    with transaction.atomic():
        contract = link.contract
        link.delete()
        audit_record(action="policy.unlinked", actor=member, obj=contract, request=request)
        policy_unlinked.send(sender=PolicyLink, member=member, contract=contract, request=request)


def member_language_set(*, member, language: str) -> bool:
    """The member's choice of 「English / 日本語」, kept on the account; False for anyone else or
    an unknown language (Django's set_language ignores those too)."""
    if language not in dict(settings.LANGUAGES) or not member.is_authenticated:
        return False
    if member.kind != User.Kind.MEMBER:
        return False
    return bool(User.objects.filter(pk=member.pk).update(language=language))
